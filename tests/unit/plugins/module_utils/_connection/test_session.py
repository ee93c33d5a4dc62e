# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._connection import session as session_module
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.session import MemberSessions
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.tests.unit.doubles import Keystone, session_for

OWN = 'a' * 32
OTHER = 'b' * 32
TWIN_1, TWIN_2 = 'c' * 32, 'd' * 32


def session_with(may_list):
    keystone = Keystone([(OWN, 'producer', 'default'), (OTHER, 'consumer1', 'default'), (TWIN_1, 'twin', 'default'),
                         (TWIN_2, 'twin', 'default')], may_list=may_list, own=OWN)
    return session_for(ImageDriverV2(None), OWN, keystone=keystone), keystone


# -- projects ------------------------------------------------------------------------------
@pytest.mark.parametrize('may_list', [True, False])
def test_many_resolutions_read_keystone_once(may_list):
    session, keystone = session_with(may_list)
    for _attempt in range(50):
        assert session.resolve_project(OTHER) == OTHER
        assert session.resolve_project('producer') == OWN
    assert keystone.listed == 1


def test_admin_resolves_names_and_refuses_unknown_or_ambiguous():
    session, _keystone = session_with(True)
    assert session.resolve_project('consumer1') == OTHER
    with pytest.raises(GlanceError, match="project 'nobody' does not exist"):
        session.resolve_project('nobody')
    with pytest.raises(GlanceError, match="project 'e{32}' does not exist"):
        session.resolve_project('e' * 32)
    with pytest.raises(GlanceError, match='2 projects are named .twin.'):
        session.resolve_project('twin')


def test_without_listing_rights_ids_are_trusted_and_names_must_be_own():
    session, _keystone = session_with(False)
    assert session.resolve_project('e' * 32) == 'e' * 32
    with pytest.raises(GlanceError, match='give the project ID instead'):
        session.resolve_project('consumer1')


# -- the credentials ----------------------------------------------------------------------
def test_project_name_and_admin_come_from_the_token():
    admin = session_for(ImageDriverV2(None), OWN, project_name='admin', roles=['admin', 'member'])
    member = session_for(ImageDriverV2(None), OTHER, project_name='consumer1', roles=['member'])
    assert (admin.project_id, admin.project_name, admin.is_admin) == (OWN, 'admin', True)
    assert (member.project_id, member.project_name, member.is_admin) == (OTHER, 'consumer1', False)
    assert admin.version == '2'


# -- member credentials ----------------------------------------------------------------------
def test_member_sessions_one_per_cloud_with_the_tasks_other_options(monkeypatch):
    made = []
    monkeypatch.setattr(session_module, 'GlanceSession', lambda params: made.append(params) or params)
    sessions = MemberSessions({'cloud': 'producer', 'auth': {'password': 'pw'}, 'region_name': 'RegionOne'})
    first = sessions.get('consumer1')
    assert sessions.get('consumer1') is first
    sessions.get({'auth': {'username': 'c2'}})
    assert made == [{'cloud': 'consumer1', 'auth': None, 'region_name': 'RegionOne'},
                    {'cloud': {'auth': {'username': 'c2'}}, 'auth': None, 'region_name': 'RegionOne'}]


def test_member_credentials_that_fail_say_so(monkeypatch):
    def refuse(params):
        raise GlanceError('cannot authenticate to cloud %r: bad password' % params['cloud'], status=401)

    monkeypatch.setattr(session_module, 'GlanceSession', refuse)
    with pytest.raises(GlanceError) as info:
        MemberSessions({'cloud': 'producer'}).get('consumer1')
    assert info.value.message == "member credentials: cannot authenticate to cloud 'consumer1': bad password"
    assert info.value.status == 401
