from __future__ import annotations

import threading

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils import sharing
from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.members import plan

IMAGE = {'id': 'img', 'name': 'demo', 'visibility': 'shared', 'owner': 'owner', 'tags': []}


class FakeApi:
    """An image's member list on a v2 server, with a member quota and a call log."""

    def __init__(self, members=(), quota=128, version='2'):
        self.version = version
        self.members_by_id = {m: {'member_id': m, 'status': 'pending', 'can_share': None} for m in members}
        self.quota = quota
        self.calls = []
        self.lock = threading.Lock()
        self.fail = {}

    def members(self, image_id):
        with self.lock:
            self.calls.append(('GET', None))
            return [dict(m) for m in self.members_by_id.values()]

    def add_member(self, image_id, member_id, can_share=None):
        with self.lock:
            self.calls.append(('ADD', member_id))
            if member_id in self.fail:
                raise self.fail[member_id]
            if member_id in self.members_by_id:
                return False
            if len(self.members_by_id) >= self.quota:
                attempted = len(self.members_by_id) + 1
                raise GlanceError('add_member image img member %s failed' % member_id, status=413,
                                  server_message='Image member limit exceeded for image img: The limit has been '
                                                 'exceeded on the number of allowed image members for this image. '
                                                 'Attempted: %d, Maximum: %d:' % (attempted, self.quota))
            self.members_by_id[member_id] = {'member_id': member_id, 'status': 'pending', 'can_share': None}
            return True

    def remove_member(self, image_id, member_id):
        with self.lock:
            self.calls.append(('REMOVE', member_id))
            return self.members_by_id.pop(member_id, None) is not None

    def set_member_status(self, image_id, member_id, status):
        with self.lock:
            self.calls.append(('STATUS', member_id))
            self.members_by_id[member_id]['status'] = status
            return dict(self.members_by_id[member_id])

    def writes(self):
        return [call for call in self.calls if call[0] != 'GET']


class FakeClient:
    def __init__(self, api, project_id='owner', version='2'):
        self.api = api
        self.version = version
        self.project_id = project_id


class FakeModule:
    def __init__(self, check_mode=False, diff=True, **params):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff


def want(member_id, status=None, can_share=None):
    return {'member_id': member_id, 'status': status, 'can_share': can_share}


def ids(prefix, count):
    return ['%s%03d' % (prefix, number) for number in range(count)]


# -- tags ------------------------------------------------------------------------
@pytest.mark.parametrize('current, tags, state, purge, added, removed', [
    (['a'], ['a', 'b'], 'present', False, ['b'], []),
    (['a', 'c'], ['a', 'b'], 'present', True, ['b'], ['c']),
    (['a', 'c'], [], 'present', True, [], ['a', 'c']),
    (['a', 'c'], [], 'present', False, [], []),
    (['a', 'c'], ['c', 'x'], 'absent', False, [], ['c']),
    (['a'], ['a'], 'present', True, [], []),
])
def test_tag_changes(current, tags, state, purge, added, removed):
    assert sharing.tag_changes(current, tags, state, purge) == (added, removed)


# -- members option ------------------------------------------------------------
def test_parse_entries():
    assert sharing.parse_entries(['p1', {'project': 'p2', 'can_share': 'yes'}, {'cloud': 'c', 'status': 'accepted'}]) == [
        {'project': 'p1', 'can_share': None, 'status': None, 'cloud': None},
        {'project': 'p2', 'can_share': True, 'status': None, 'cloud': None},
        {'project': None, 'can_share': None, 'status': 'accepted', 'cloud': 'c'},
    ]


@pytest.mark.parametrize('members, message', [
    ([{'project': 'p', 'colour': 'x'}], 'unknown key(s) colour in a members entry'),
    ([{'status': 'accepted'}], 'each members entry needs project'),
    ([None], 'members entries must be project names or IDs'),
    ([{'project': 'p', 'can_share': 'perhaps'}], 'can_share must be a boolean'),
])
def test_parse_entries_refuses(members, message):
    with pytest.raises(GlanceError, match=message.replace('(', r'\(').replace(')', r'\)')):
        sharing.parse_entries(members)


def test_quota_of():
    error = GlanceError('x', status=413, server_message='... Attempted: 129, Maximum: 128:')
    assert sharing.quota_of(error) == 128
    assert sharing.quota_of(GlanceError('x', status=413, server_message='too large')) is None


def test_status_needs_member_credentials(monkeypatch):
    client = FakeClient(FakeApi())
    monkeypatch.setattr(sharing, 'is_admin', lambda client: False)
    with pytest.raises(GlanceError, match='can only be set with its own credentials'):
        sharing.status_client(client, 'other')
    assert sharing.status_client(client, 'owner') is client
    monkeypatch.setattr(sharing, 'is_admin', lambda client: True)
    assert sharing.status_client(client, 'other') is client


# -- v2 writes -------------------------------------------------------------------
def test_v2_replace_sends_only_the_difference_concurrently():
    api = FakeApi(members=ids('old', 3) + ['keep'])
    client = FakeClient(api)
    desired = [want('keep')] + [want(m) for m in ids('new', 20)]
    steps = plan(api.members('img'), desired, '2')
    writer = sharing.Writer(client, IMAGE)
    writer.apply_v2(steps, len(desired))
    assert sorted(api.members_by_id) == sorted(['keep'] + ids('new', 20))
    assert len(api.writes()) == 23
    assert len(writer.effective) == 23


def test_v2_races_are_not_failures():
    api = FakeApi(members=['gone-soon'])
    client = FakeClient(api)
    desired = [want('a')]
    steps = plan(api.members('img'), desired, '2')
    # Someone else adds 'a' and removes 'gone-soon' between the read and the writes.
    api.members_by_id = {'a': {'member_id': 'a', 'status': 'pending', 'can_share': None}}
    writer = sharing.Writer(client, IMAGE)
    writer.apply_v2(steps, len(desired))
    assert writer.effective == []
    assert sorted(api.members_by_id) == ['a']


def test_v2_over_quota_is_taken_back_and_reports_the_quota():
    api = FakeApi(members=['keep'], quota=10)
    client = FakeClient(api)
    desired = [want('keep')] + [want(m) for m in ids('new', 15)]
    steps = plan(api.members('img'), desired, '2')
    writer = sharing.Writer(client, IMAGE, workers=4)
    with pytest.raises(GlanceError) as caught:
        writer.apply_v2(steps, len(desired))
    message = str(caught.value)
    assert 'at most 10 members per image' in message
    assert 'the task asks for 16' in message
    assert '9 member(s) were added before the server refused and were removed again' in message
    assert '\n' not in message
    assert sorted(api.members_by_id) == ['keep']
    # Adds stop at the first refusal: at most one refused add per worker.
    refused = len([call for call in api.writes() if call[0] == 'ADD']) - 9
    assert 1 <= refused <= 4


def test_v2_list_that_fits_once_removals_are_done():
    api = FakeApi(members=ids('old', 10), quota=10)
    client = FakeClient(api)
    desired = [want(m) for m in ids('new', 10)]
    steps = plan(api.members('img'), desired, '2')
    writer = sharing.Writer(client, IMAGE)
    writer.apply_v2(steps, len(desired))
    assert sorted(api.members_by_id) == ids('new', 10)


def test_v2_other_failure_stops_and_says_how_far_it_got():
    api = FakeApi()
    api.fail['bad'] = GlanceError('add_member image img member bad refused', status=403)
    client = FakeClient(api)
    desired = [want('bad')] + [want(m) for m in ids('new', 3)]
    writer = sharing.Writer(client, IMAGE, workers=1)
    with pytest.raises(GlanceError) as caught:
        writer.apply_v2(plan([], desired, '2'), len(desired))
    assert str(caught.value).startswith('add_member image img member bad refused (0 of 4 member change(s)')
    assert api.writes() == [('ADD', 'bad')]


def test_status_goes_through_the_member_credentials():
    owner_api, member_api = FakeApi(), FakeApi()
    member_api.members_by_id = owner_api.members_by_id
    client, member = FakeClient(owner_api), FakeClient(member_api, project_id='m1')
    desired = [want('m1', status='accepted')]
    writer = sharing.Writer(client, IMAGE, status_clients={'m1': member})
    writer.apply_v2(plan([], desired, '2'), len(desired))
    assert owner_api.writes() == [('ADD', 'm1')]
    assert member_api.writes() == [('STATUS', 'm1')]
    assert owner_api.members_by_id['m1']['status'] == 'accepted'


# -- converge: check mode, diff, changed ----------------------------------------
def test_check_mode_sends_no_write_and_predicts():
    api = FakeApi(members=['a'])
    client = FakeClient(api)
    module = FakeModule(check_mode=True)
    current = api.members('img')
    steps = plan(current, [want('b', status='pending')], '2')
    tracker, final, _writer = sharing.converge(module, client, IMAGE, current, steps, {}, wanted=[want('b')])
    assert api.writes() == []
    assert tracker.changed
    assert [m['member_id'] for m in final] == ['b']
    assert tracker.diff() == {'before': {'members': [{'member_id': 'a', 'status': 'pending'}]},
                              'after': {'members': [{'member_id': 'b', 'status': 'pending'}]}}


def test_no_change_reads_once():
    api = FakeApi(members=['a'])
    client = FakeClient(api)
    current = api.members('img')
    tracker, _final, _writer = sharing.converge(FakeModule(), client, IMAGE, current,
                                                plan(current, [want('a')], '2'), {}, wanted=[want('a')])
    assert not tracker.changed
    assert api.calls == [('GET', None)]


def test_written_list_is_read_back_once():
    api = FakeApi(members=['a'])
    client = FakeClient(api)
    current = api.members('img')
    tracker, final, _writer = sharing.converge(FakeModule(), client, IMAGE, current,
                                               plan(current, [want('b')], '2'), {}, wanted=[want('b')])
    assert tracker.changed
    assert [m['member_id'] for m in final] == ['b']
    assert [call for call in api.calls if call[0] == 'GET'] == [('GET', None)] * 2


@pytest.mark.parametrize('project, kind', [([], 'a list'), ({'id': 'x'}, 'a mapping')])
def test_members_entry_project_must_be_a_name_or_id(project, kind):
    with pytest.raises(GlanceError) as info:
        sharing.parse_entries([{'project': project}])
    assert str(info.value) == 'members entry project must be a project name or ID, got %s' % kind


class TagQuotaApi:
    def __init__(self, quota):
        self.tags, self.quota, self.calls = set(), quota, []

    def add_tag(self, image_id, tag):
        self.calls.append(('add', tag))
        if len(self.tags) >= self.quota:
            raise GlanceError('modify_image image img tag %s failed' % tag, status=413,
                              server_message='Attempted: %d, Maximum: %d' % (len(self.tags) + 1, self.quota))
        self.tags.add(tag)

    def remove_tag(self, image_id, tag):
        self.calls.append(('remove', tag))
        self.tags.discard(tag)


def test_tags_over_the_limit_are_taken_back():
    from ansible_collections.cloudimage.glance.plugins.module_utils.lost_updates import WantedState
    api = TagQuotaApi(quota=3)
    with pytest.raises(GlanceError) as info:
        sharing.send_tags(api, 'img', WantedState(tags_added=['a', 'b', 'c', 'd']))
    assert api.tags == set()
    assert 'the 3 tag(s) added before it refused were removed again' in str(info.value)
    assert info.value.status == 413
