# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.members import plan
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows import membership
from ansible_collections.cloudimage.glance.tests.unit.doubles import (
    ImageServiceV2, Response, ScriptedSession, http, session_for,
)

IMAGE = {'id': 'img', 'name': 'demo', 'status': 'active', 'visibility': 'shared', 'owner': 'owner', 'tags': []}
V2 = ImageDriverV2.capabilities


def service(members=(), quota=128):
    """An image of project 'owner' on a v2 server, with ``members`` pending and a member quota."""
    server = ImageServiceV2([IMAGE], project_id='owner', member_quota=quota)
    server.add_members('img', members)
    return server


def want(member_id, status=None, can_share=None):
    return {'member_id': member_id, 'status': status, 'can_share': can_share}


def ids(prefix, count):
    return ['%s%03d' % (prefix, number) for number in range(count)]


def current(server):
    return server.driver().members('img')


def context(server, check_mode=False, diff=True):
    return TaskContext({}, check_mode, diff, session=server.session())


# -- parallel writes of a whole list ---------------------------------------------------------------
def test_replace_sends_only_the_difference_concurrently():
    server = service(members=ids('old', 3) + ['keep'])
    desired = [want('keep')] + [want(m) for m in ids('new', 20)]
    steps = plan(current(server), desired, V2)
    writer = membership.Writer(server.driver(), IMAGE)
    writer.apply_in_parallel(steps, len(desired))
    assert sorted(server.members['img']) == sorted(['keep'] + ids('new', 20))
    assert len(server.writes()) == 23
    assert len(writer.effective) == 23


def test_races_are_not_failures():
    server = service(members=['gone-soon'])
    desired = [want('a')]
    steps = plan(current(server), desired, V2)
    # Someone else adds 'a' and removes 'gone-soon' between the read and the writes.
    server.members['img'] = {}
    server.add_members('img', ['a'])
    writer = membership.Writer(server.driver(), IMAGE)
    writer.apply_in_parallel(steps, len(desired))
    assert writer.effective == []
    assert sorted(server.members['img']) == ['a']


def test_over_quota_is_taken_back_and_reports_the_quota():
    server = service(members=['keep'], quota=10)
    desired = [want('keep')] + [want(m) for m in ids('new', 15)]
    steps = plan(current(server), desired, V2)
    writer = membership.Writer(server.driver(), IMAGE, workers=4)
    with pytest.raises(GlanceError) as caught:
        writer.apply_in_parallel(steps, len(desired))
    message = str(caught.value)
    assert 'at most 10 members per image' in message
    assert 'the task asks for 16' in message
    assert '9 member(s) were added before the server refused and were removed again' in message
    assert '\n' not in message
    assert sorted(server.members['img']) == ['keep']
    # Adds stop at the first refusal: at most one refused add per worker.
    refused = len([call for call in server.writes() if call[0] == 'add_member']) - 9
    assert 1 <= refused <= 4


def test_list_that_fits_once_removals_are_done():
    server = service(members=ids('old', 10), quota=10)
    desired = [want(m) for m in ids('new', 10)]
    steps = plan(current(server), desired, V2)
    writer = membership.Writer(server.driver(), IMAGE)
    writer.apply_in_parallel(steps, len(desired))
    assert sorted(server.members['img']) == ids('new', 10)


def test_other_failure_stops_and_says_how_far_it_got():
    server = service()
    server.fail('add_member', status=403, when=lambda member_id: member_id == 'bad', times=99,
                message='You are not authorized to complete add_member action.')
    desired = [want('bad')] + [want(m) for m in ids('new', 3)]
    writer = membership.Writer(server.driver(), IMAGE, workers=1)
    with pytest.raises(GlanceError) as caught:
        writer.apply_in_parallel(plan([], desired, V2), len(desired))
    assert str(caught.value).startswith('add_member image img member bad refused (0 of 4 member change(s)')
    assert server.writes() == [('add_member', 'bad')]


def test_status_goes_through_the_member_credentials():
    server = service()
    owner, member = server.driver('owner'), server.driver('m1')
    desired = [want('m1', status='accepted')]
    writer = membership.Writer(owner, IMAGE, status_drivers={'m1': member})
    writer.apply_in_parallel(plan([], desired, V2), len(desired))
    assert server.caller('owner').writes() == [('add_member', 'm1')]
    assert server.caller('m1').writes() == [('member_status', 'm1')]
    assert server.members['img']['m1']['status'] == 'accepted'


def test_quota_of():
    error = GlanceError('x', status=413, server_message='... Attempted: 129, Maximum: 128:')
    assert membership.quota_of(error) == 128
    assert membership.quota_of(GlanceError('x', status=413, server_message='too large')) is None


# -- converge: check mode, diff, changed ----------------------------------------
def test_check_mode_sends_no_write_and_predicts():
    server = service(members=['a'])
    members = current(server)
    steps = plan(members, [want('b', status='pending')], V2)
    tracker, final, _writer = membership.converge(context(server, check_mode=True), IMAGE, members, steps, {},
                                                  wanted=[want('b')])
    assert server.writes() == []
    assert tracker.changed
    assert [m['member_id'] for m in final] == ['b']
    assert tracker.diff() == {'before': {'members': [{'member_id': 'a', 'status': 'pending'}]},
                              'after': {'members': [{'member_id': 'b', 'status': 'pending'}]}}


def test_no_change_reads_once():
    server = service(members=['a'])
    members = current(server)
    tracker, _final, _writer = membership.converge(context(server), IMAGE, members,
                                                   plan(members, [want('a')], V2), {}, wanted=[want('a')])
    assert not tracker.changed
    assert server.calls == [('members', 'img')]


def test_written_list_is_read_back_once():
    server = service(members=['a'])
    members = current(server)
    tracker, final, _writer = membership.converge(context(server), IMAGE, members,
                                                  plan(members, [want('b')], V2), {}, wanted=[want('b')])
    assert tracker.changed
    assert [m['member_id'] for m in final] == ['b']
    assert server.kinds().count('members') == 2


def test_a_list_changed_by_someone_else_meanwhile_is_a_change():
    server = service(members=['a'])
    members = current(server)
    server.add_members('img', ['b'])  # another writer adds the same member first
    tracker, final, writer = membership.converge(context(server), IMAGE, members,
                                                 plan(members, [want('b')], V2, purge=False), {}, wanted=None)
    assert writer.effective == [] and tracker.changes == ['member list changed meanwhile']
    assert [m['member_id'] for m in final] == ['a', 'b']


def test_a_single_member_over_quota_says_so():
    server = service(members=['a'], quota=1)
    members = current(server)
    with pytest.raises(GlanceError) as info:
        membership.converge(context(server), IMAGE, members, plan(members, [want('b')], V2, purge=False), {},
                            wanted=None)
    assert str(info.value).startswith('the server allows at most 1 members per image on image demo (img) (image_member_'
                                      'quota); nothing was changed')


def test_where_one_call_sets_the_whole_list_it_is_sent_once():
    session = ScriptedSession(Response(204), Response(200, {'members': [{'member_id': 'b', 'can_share': True}]}))
    v1 = session_for(ImageDriverV1(http(session)), 'owner')
    members = [{'member_id': 'a', 'status': None, 'can_share': False}]
    wanted = [want('b', can_share=True)]
    steps = plan(members, wanted, ImageDriverV1.capabilities)
    tracker, final, writer = membership.converge(TaskContext({}, session=v1), IMAGE, members, steps, {}, wanted)
    sent = [(method, url.rsplit('/', 1)[-1]) for method, url, _kwargs in session.calls]
    assert sent == [('PUT', 'members'), ('GET', 'members')]
    assert session.calls[0][2]['json'] == {'memberships': [{'member_id': 'b', 'can_share': True}]}
    assert writer.sent == 1 and tracker.changes == ['remove member a', 'add member b (can_share True)']
    assert final == [{'member_id': 'b', 'status': None, 'can_share': True, 'created_at': None, 'updated_at': None}]


# -- who and what ----------------------------------------------------------------------------------
def test_members_only_where_the_image_can_have_them():
    server = service()
    membership.check_members_allowed(server.driver(), IMAGE)
    with pytest.raises(GlanceError) as info:
        membership.check_members_allowed(server.driver(), dict(IMAGE, visibility='private'))
    assert str(info.value) == ('image demo (img) has visibility private: only images with visibility shared have '
                               'members; set visibility: shared first (this module never changes visibility)')


def test_member_credentials_name_their_own_project():
    server = service()
    owner = server.session('owner')
    member = server.session('m1', project_name='consumer1')
    assert membership.resolve_member(owner, None, member) == 'm1'
    assert membership.resolve_member(owner, 'consumer1', member) == 'm1'
    with pytest.raises(GlanceError) as info:
        membership.resolve_member(owner, 'consumer2', member)
    assert str(info.value) == "the member credentials authenticate to project consumer1 (m1), not to 'consumer2'"
