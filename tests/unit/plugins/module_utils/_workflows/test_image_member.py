# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.registry import check_needs
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext, run_workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_member import (
    ImageMemberWorkflow, status_session,
)
from ansible_collections.cloudimage.glance.tests.unit.doubles import (
    ImageServiceV2, Keystone, Response, ScriptedSession, http, session_for,
)

IMAGE = {'id': 'img', 'name': 'demo', 'status': 'active', 'visibility': 'shared', 'owner': 'owner', 'tags': []}
KEYSTONE = [('owner', 'producer', 'default'), ('m1', 'consumer1', 'default'), ('admins', 'admin', 'default')]


def options(**given):
    return dict(dict(image='demo', member=None, state='present', can_share=None, status=None, member_cloud=None),
                **given)


def run(server, params, project_id='owner', roles=(), check_mode=False):
    session = server.session(project_id, roles=roles, keystone=Keystone(KEYSTONE, own=project_id))
    return run_workflow(ImageMemberWorkflow(), TaskContext(params, check_mode, True),
                        session_factory=lambda _params: session)


# -- before any request ---------------------------------------------------------------------------
@pytest.mark.parametrize('given, text', [
    (dict(member='m1', state='absent', status='accepted'), 'status and can_share apply only with state present'),
    (dict(member='m1', state='absent', can_share=True), 'status and can_share apply only with state present'),
    (dict(), 'member is required (it may be left out only with member_cloud, or with status when the task runs as '
             'the member)'),
])
def test_bad_options_fail_before_connecting(given, text):
    connected = []
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageMemberWorkflow(), TaskContext(options(**given)),
                     session_factory=lambda _params: connected.append(1))
    assert str(info.value) == text and connected == []


@pytest.mark.parametrize('driver, given, text', [
    (ImageDriverV2, dict(member='m1', can_share=True),
     'can_share (members sharing onward) needs Image API v1; this endpoint speaks Image API v2'),
    (ImageDriverV1, dict(member='m1', status='accepted'),
     'status (accepting or rejecting an image) needs Image API v2; this endpoint speaks Image API v1'),
    (ImageDriverV1, dict(status='rejected'),
     'status (accepting or rejecting an image) needs Image API v2; this endpoint speaks Image API v1'),
])
def test_what_the_api_lacks_is_refused_before_any_request(driver, given, text):
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageMemberWorkflow(), TaskContext(options(**given)),
                     session_factory=lambda _params: session_for(driver(None)))
    assert str(info.value) == text


@pytest.mark.parametrize('driver, given', [
    (ImageDriverV2, dict(member='m1')), (ImageDriverV2, dict(member='m1', status='accepted')),
    (ImageDriverV2, dict(member='m1', state='absent')),
    (ImageDriverV1, dict(member='m1')), (ImageDriverV1, dict(member='m1', can_share=True)),
    (ImageDriverV1, dict(member='m1', state='absent')),
])
def test_what_each_api_has(driver, given):
    workflow = ImageMemberWorkflow()
    check_needs(driver(None), workflow.needs(workflow.validate(options(**given))))


# -- who may set a status ---------------------------------------------------------------------------
def test_status_needs_member_credentials():
    server = ImageServiceV2([IMAGE], project_id='owner')
    owner = server.session('owner')
    with pytest.raises(GlanceError, match='can only be set with its own credentials'):
        status_session(owner, 'other')
    assert status_session(owner, 'owner') is owner
    admin = server.session('admins', roles=['admin'])
    assert status_session(admin, 'other') is admin
    member = server.session('other')
    assert status_session(owner, 'other', member) is member


# -- runs ------------------------------------------------------------------------------------------
def test_the_owner_adds_a_member_once():
    server = ImageServiceV2([IMAGE], project_id='owner')
    result = run(server, options(member='consumer1'))
    assert result['changed'] and result['member']['member_id'] == 'm1' and result['member']['status'] == 'pending'
    assert result['diff'] == {'before': {'members': []}, 'after': {'members': [{'member_id': 'm1',
                                                                                'status': 'pending'}]}}
    again = run(server, options(member='m1'))
    assert not again['changed'] and server.kinds().count('add_member') == 1


def test_the_member_accepts_with_its_own_credentials():
    server = ImageServiceV2([IMAGE], project_id='owner')
    server.add_members('img', ['m1'])
    result = run(server, options(status='accepted'), project_id='m1')
    assert result['changed'] and result['member']['status'] == 'accepted'
    assert server.caller('m1').writes() == [('member_status', 'm1')]


def test_a_project_cannot_make_itself_a_member_of_anothers_image():
    server = ImageServiceV2([IMAGE], project_id='owner')
    with pytest.raises(GlanceError) as info:
        run(server, options(status='accepted'), project_id='admins', roles=['admin'])
    # An admin sees every image, but by name a member-side action finds only images shared with it.
    assert str(info.value).startswith("image 'demo' not found; image img of project owner is not changed by its "
                                      "name")
    assert server.writes() == []


def test_an_image_that_cannot_have_members():
    server = ImageServiceV2([dict(IMAGE, visibility='private')], project_id='owner')
    with pytest.raises(GlanceError) as info:
        run(server, options(member='m1'))
    assert 'only images with visibility shared have members' in str(info.value)
    result = run(server, options(member='m1', state='absent'))
    assert not result['changed'] and result['members'] == [] and server.writes() == []


def test_absent_removes_the_member_and_check_mode_only_predicts():
    server = ImageServiceV2([IMAGE], project_id='owner')
    server.add_members('img', ['m1'])
    predicted = run(server, options(member='m1', state='absent'), check_mode=True)
    assert predicted['changed'] and predicted['member'] is None and server.writes() == []
    result = run(server, options(member='m1', state='absent'))
    assert result['changed'] and server.members['img'] == {} and result['api_version'] == '2'


def test_on_v1_a_member_added_by_another_member_cannot_be_checked_without_its_credentials():
    image = {'id': 'img', 'name': 'demo', 'owner': 'owner', 'is_public': False, 'properties': {}}
    session = ScriptedSession(
        Response(200, {'images': [image]}), Response(200, {'images': []}),  # own images: none of that name
        Response(200, {'images': [image]}), Response(200, {'images': []}),  # every image it can see
        Response(200, {'members': [{'member_id': 'm0', 'can_share': True}]}),  # it is shared with the caller
        Response(200, {'members': []}),                                      # only the owner sees the list
        Response(204),                                                       # the member is sent again
        Response(200, {'members': []}))
    v1 = session_for(ImageDriverV1(http(session)), 'm0', keystone=Keystone(KEYSTONE + [('m0', 'sharer', 'default')]))
    context = TaskContext(options(member='m1', can_share=True))
    result = run_workflow(ImageMemberWorkflow(), context, session_factory=lambda _params: v1)
    assert context.warnings == [
        "on Image API v1 only the owner of image demo (img) can list its members, so whether project m1 already is "
        "one cannot be checked: the member is sent again and reported as changed; give member_cloud (the member's "
        "credentials) to check it"]
    assert result['changed'] and result['api_version'] == '1'
    assert session.calls[6][:2] == ('PUT', 'http://glance/v1/images/img/members/m1')
    assert session.calls[6][2]['json'] == {'member': {'can_share': True}}
