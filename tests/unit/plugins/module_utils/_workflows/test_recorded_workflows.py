# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Workflows end to end on the answers the test cloud's servers gave (tests/unit/fixtures/recorded).

Each task here sends only requests the recording answered, so the real runner,
workflow, driver and transport run on real answers; the assertions cover both
the result and every request sent.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.options import connection_argument_spec
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import (
    Http, RetryPolicy, parse_versions,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.registry import choose_driver
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext, run_workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image import ImageWorkflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_info import ImageInfoWorkflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_member import ImageMemberWorkflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_members_replace import (
    ImageMembersReplaceWorkflow,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_tag import ImageTagWorkflow
from ansible_collections.cloudimage.glance.plugins.modules import image as image_module
from ansible_collections.cloudimage.glance.plugins.modules import image_info as image_info_module
from ansible_collections.cloudimage.glance.plugins.modules import image_member as image_member_module
from ansible_collections.cloudimage.glance.plugins.modules import image_members_replace as members_replace_module
from ansible_collections.cloudimage.glance.plugins.modules import image_tag as image_tag_module
from ansible_collections.cloudimage.glance.tests.unit.replay import RecordedSession

V2 = ('glance33-v2', 'pike-v2')


class RecordedCloud:
    """What a workflow asks of its session, with the real driver over one recording.

    The driver is chosen as GlanceSession chooses it, from the recorded version
    document and the task's api_version. ``persona`` is the role in the
    recording's ids whose project the task runs as. Tasks here name projects
    by ID, which Keystone would give back unchanged.
    """

    def __init__(self, fixture, keys, api_version='auto', persona='owner project', is_admin=False):
        self.recording = RecordedSession(fixture, keys=['versions'] + list(keys))
        self.http = Http(self.recording, self.recording.root, policy=RetryPolicy(attempts=1),
                         sleep=lambda _seconds: None)
        versions = self.http.request('GET', '/', 'discover versions', ok=(200, 300), authenticated=False).json()
        self.driver = choose_driver(api_version, parse_versions(versions), self.recording.root)(self.http)
        self.project_id = self.recording.ids[persona]
        self.project_name = None
        self.is_admin = is_admin
        self.params = None

    @property
    def version(self):
        return self.driver.version

    @property
    def ids(self):
        return self.recording.ids

    def resolve_project(self, reference):
        return str(reference)

    def requests(self):
        """(method, path, sorted query pairs) of each request the task sent, after version discovery."""
        return [(sent.method, sent.path, sent.params) for sent in self.recording.sent[1:]]

    def keys(self):
        return [sent.key for sent in self.recording.sent[1:]]

    def sent(self, key):
        return next(sent for sent in self.recording.sent if sent.key == key)


def options(module, **given):
    """A task's options as the module's argument spec fills them in, with ``given`` on top."""
    spec = dict(connection_argument_spec(), **module.ARGUMENT_SPEC)
    params = {name: option.get('default') for name, option in spec.items()}
    params.update(given)
    return params


def run(workflow, cloud, params, check_mode=False):
    def connect(task_params):
        cloud.params = task_params
        return cloud
    return run_workflow(workflow, TaskContext(params, check_mode, True), session_factory=connect)


def image_path(cloud, *rest):
    return '/'.join(['/v%s/images' % cloud.version, cloud.ids['image']] + list(rest))


@pytest.fixture(autouse=True)
def no_settling(monkeypatch):
    monkeypatch.setattr(lost_updates, 'settle_pause', lambda _seconds: 0)


# -- image_info -----------------------------------------------------------------------------------
@pytest.mark.parametrize('name', V2)
def test_image_info_lists_by_name(name):
    cloud = RecordedCloud(name, keys=['list_by_name'])
    ids = cloud.ids
    result = run(ImageInfoWorkflow(), cloud, options(image_info_module, name=ids['name']))
    assert (result['changed'], result['api_version']) == (False, '2')
    assert [(image['id'], image['name'], image['status']) for image in result['images']] == [
        (ids['second image'], ids['name'], 'queued'), (ids['image'], ids['name'], 'queued')]
    image = result['images'][1]
    assert image['properties'] == {'rec_prop': 'one', 'rec_old': 'old'} and image['tags'] == ['rec-a', 'rec-b']
    # openstack.cloud's names for the same values.
    assert (image['owner_id'], image['is_protected'], image['rec_prop']) == (ids['owner project'], False, 'one')
    assert cloud.requests() == [('GET', '/v2/images', [('limit', '200'), ('name', ids['name'])])]


@pytest.mark.parametrize('name', V2)
def test_image_info_members_of_private_images_are_not_asked_for(name):
    cloud = RecordedCloud(name, keys=['list_by_name'])
    result = run(ImageInfoWorkflow(), cloud, options(image_info_module, name=cloud.ids['name'], include_members=True))
    assert [image['members'] for image in result['images']] == [[], []]
    assert cloud.keys() == ['list_by_name']


def test_image_info_lists_by_name_on_v1_page_by_page():
    cloud = RecordedCloud('pike-v1', keys=['list_by_name', 'list_by_name_after'], api_version='1')
    ids = cloud.ids
    result = run(ImageInfoWorkflow(), cloud, options(image_info_module, name=ids['name'], api_version='1'))
    assert result['api_version'] == '1'
    assert [image['id'] for image in result['images']] == [ids['second image'], ids['image']]
    assert result['images'][1]['properties'] == {'rec_prop': 'one', 'rec_old': 'old'}
    assert cloud.requests() == [
        ('GET', '/v1/images/detail', [('limit', '200'), ('name', ids['name'])]),
        ('GET', '/v1/images/detail', [('limit', '200'), ('marker', ids['image']), ('name', ids['name'])]),
    ]


def test_image_info_owner_on_v1_is_compared_here():
    cloud = RecordedCloud('pike-v1', keys=['list_by_name', 'list_by_name_after'], api_version='1')
    params = options(image_info_module, name=cloud.ids['name'], filters={'owner': cloud.ids['member project']},
                     api_version='1')
    assert run(ImageInfoWorkflow(), cloud, params)['images'] == []
    assert all(key != 'owner' for _method, _path, query in cloud.requests() for key, _value in query)


@pytest.mark.parametrize('name', V2)
def test_image_info_by_id(name):
    cloud = RecordedCloud(name, keys=['get', 'get_missing'])
    found = run(ImageInfoWorkflow(), cloud, options(image_info_module, image=cloud.ids['image']))
    assert [image['id'] for image in found['images']] == [cloud.ids['image']]
    missing = run(ImageInfoWorkflow(), cloud, options(image_info_module, id=cloud.ids['missing image']))
    assert missing['images'] == []
    assert cloud.keys() == ['get', 'get_missing']


def test_image_info_filter_v1_lacks_is_refused_before_any_image_request():
    cloud = RecordedCloud('pike-v1', keys=[], api_version='1')
    with pytest.raises(GlanceError) as info:
        run(ImageInfoWorkflow(), cloud, options(image_info_module, filters={'tags': ['rec-a']}, api_version='1'))
    assert str(info.value) == 'filter tags needs Image API v2; this endpoint speaks Image API v1'
    assert cloud.requests() == []


# -- image_tag ------------------------------------------------------------------------------------
def tag_options(cloud, tags, **given):
    return options(image_tag_module, image=cloud.ids['image'], tags=tags, **given)


@pytest.mark.parametrize('name', V2)
def test_image_tag_check_mode_sends_no_write(name):
    cloud = RecordedCloud(name, keys=['get'])
    result = run(ImageTagWorkflow(), cloud, tag_options(cloud, ['rec-b', 'rec-c'], purge=True), check_mode=True)
    assert (result['changed'], result['added'], result['removed'], result['tags']) == (
        True, ['rec-c'], ['rec-a'], ['rec-b', 'rec-c'])
    assert result['diff'] == {'before': {'tags': ['rec-a', 'rec-b']}, 'after': {'tags': ['rec-b', 'rec-c']}}
    assert cloud.requests() == [('GET', image_path(cloud), [])]


@pytest.mark.parametrize('name', V2)
def test_image_tag_sends_each_tag_then_reads_the_image_back(name):
    # The owner's next recorded read of the image shows the tags as the two calls left them.
    cloud = RecordedCloud(name, keys=['get', 'tag_remove', 'tag_add', 'get_deactivated'])
    result = run(ImageTagWorkflow(), cloud, tag_options(cloud, ['rec-b', 'rec-c'], purge=True))
    assert (result['changed'], result['added'], result['removed'], result['tags'], result['image_id']) == (
        True, ['rec-c'], ['rec-a'], ['rec-b', 'rec-c'], cloud.ids['image'])
    assert result['diff'] == {'before': {'tags': ['rec-a', 'rec-b']}, 'after': {'tags': ['rec-b', 'rec-c']}}
    assert result['api_version'] == '2'
    assert cloud.requests() == [('GET', image_path(cloud), []),
                                ('DELETE', image_path(cloud, 'tags', 'rec-a'), []),
                                ('PUT', image_path(cloud, 'tags', 'rec-c'), []),
                                ('GET', image_path(cloud), [])]


@pytest.mark.parametrize('name', V2)
def test_image_tag_already_there_changes_nothing(name):
    cloud = RecordedCloud(name, keys=['get'])
    result = run(ImageTagWorkflow(), cloud, tag_options(cloud, ['rec-a']))
    assert (result['changed'], result['added'], result['removed'], result['tags']) == (
        False, [], [], ['rec-a', 'rec-b'])
    assert cloud.keys() == ['get']


def test_image_tag_on_v1_is_refused_before_any_image_request():
    cloud = RecordedCloud('pike-v1', keys=[], api_version='1')
    with pytest.raises(GlanceError) as info:
        run(ImageTagWorkflow(), cloud, tag_options(cloud, ['rec-a'], api_version='1'))
    assert str(info.value) == 'image_tag (tags) needs Image API v2; this endpoint speaks Image API v1'
    assert cloud.requests() == []


# -- image_member ---------------------------------------------------------------------------------
def member_options(cloud, **given):
    return options(image_member_module, image=cloud.ids['image'], **given)


def accepting(name):
    # Before it accepts, the member reads the one-member list the owner's recorded listing shows.
    return RecordedCloud(name, keys=['get_as_member', 'members', 'member_accept', 'members_as_member'],
                         persona='member project')


@pytest.mark.parametrize('name', V2)
def test_image_member_accepts_as_the_member(name):
    cloud = accepting(name)
    member = cloud.ids['member project']
    result = run(ImageMemberWorkflow(), cloud, member_options(cloud, status='accepted'))
    assert result['changed'] is True
    assert (result['member']['member_id'], result['member']['status']) == (member, 'accepted')
    assert [(m['member_id'], m['status']) for m in result['members']] == [(member, 'accepted')]
    assert result['diff'] == {'before': {'members': [{'member_id': member, 'status': 'pending'}]},
                              'after': {'members': [{'member_id': member, 'status': 'accepted'}]}}
    assert cloud.requests() == [('GET', image_path(cloud), []),
                                ('GET', image_path(cloud, 'members'), []),
                                ('PUT', image_path(cloud, 'members', member), []),
                                ('GET', image_path(cloud, 'members'), [])]
    assert cloud.sent('member_accept').json == {'status': 'accepted'}


@pytest.mark.parametrize('name', V2)
def test_image_member_accept_in_check_mode_only_reads(name):
    cloud = accepting(name)
    result = run(ImageMemberWorkflow(), cloud, member_options(cloud, status='accepted'), check_mode=True)
    assert result['changed'] is True and result['member']['status'] == 'accepted'
    assert [method for method, _path, _query in cloud.requests()] == ['GET', 'GET']


@pytest.mark.parametrize('name', V2)
def test_image_member_already_a_member_changes_nothing(name):
    # The owner's recorded read of the shared image (deactivated by then, which membership ignores).
    cloud = RecordedCloud(name, keys=['get_deactivated', 'members'])
    member = cloud.ids['member project']
    result = run(ImageMemberWorkflow(), cloud, member_options(cloud, member=member))
    assert result['changed'] is False
    assert (result['member']['member_id'], result['member']['status']) == (member, 'pending')
    assert cloud.keys() == ['get_deactivated', 'members']


@pytest.mark.parametrize('name', V2)
def test_image_member_of_a_private_image_is_refused_before_any_member_request(name):
    cloud = RecordedCloud(name, keys=['get'])
    with pytest.raises(GlanceError) as info:
        run(ImageMemberWorkflow(), cloud, member_options(cloud, member=cloud.ids['member project']))
    assert str(info.value) == ('image %s (%s) has visibility private: only images with visibility shared have '
                               'members; set visibility: shared first (this module never changes visibility)'
                               % (cloud.ids['name'], cloud.ids['image']))
    assert cloud.keys() == ['get']


def test_image_member_on_v1_lists_the_member_already_there():
    cloud = RecordedCloud('pike-v1', keys=['head', 'list_by_name', 'members'], api_version='1')
    member = cloud.ids['member project']
    result = run(ImageMemberWorkflow(), cloud, member_options(cloud, member=member, api_version='1'))
    assert result['changed'] is False
    assert (result['member']['member_id'], result['member']['can_share']) == (member, True)
    assert cloud.requests() == [('HEAD', image_path(cloud), []),
                                ('GET', '/v1/images/detail', [('limit', '200'), ('name', cloud.ids['name'])]),
                                ('GET', image_path(cloud, 'members'), [])]


def test_image_member_status_on_v1_is_refused_before_any_image_request():
    cloud = RecordedCloud('pike-v1', keys=[], api_version='1')
    with pytest.raises(GlanceError) as info:
        run(ImageMemberWorkflow(), cloud, member_options(cloud, status='accepted', api_version='1'))
    assert str(info.value) == ('status (accepting or rejecting an image) needs Image API v2; this endpoint speaks '
                               'Image API v1')
    assert cloud.requests() == []


# -- image_members_replace ------------------------------------------------------------------------
def replace_options(cloud):
    return options(members_replace_module, image=cloud.ids['image'], api_version='1',
                   members=[{'project': cloud.ids['member project'], 'can_share': False},
                            cloud.ids['second member project']])


def test_image_members_replace_on_v1_adds_a_member_in_one_call():
    cloud = RecordedCloud('pike-v1', api_version='1',
                          keys=['head', 'list_by_name', 'members', 'members_replace', 'members_after_replace'])
    member, other = cloud.ids['member project'], cloud.ids['second member project']
    result = run(ImageMembersReplaceWorkflow(), cloud, replace_options(cloud))
    assert result['changed'] is True
    assert (result['added'], result['removed'], result['updated']) == ([other], [], [member])
    assert [(m['member_id'], m['can_share']) for m in result['members']] == sorted([(member, False), (other, False)])
    after = sorted([{'member_id': member, 'can_share': False}, {'member_id': other, 'can_share': False}],
                   key=lambda entry: entry['member_id'])
    assert result['diff'] == {'before': {'members': [{'member_id': member, 'can_share': True}]},
                              'after': {'members': after}}
    assert cloud.requests() == [('HEAD', image_path(cloud), []),
                                ('GET', '/v1/images/detail', [('limit', '200'), ('name', cloud.ids['name'])]),
                                ('GET', image_path(cloud, 'members'), []),
                                ('PUT', image_path(cloud, 'members'), []),
                                ('GET', image_path(cloud, 'members'), [])]
    assert cloud.sent('members_replace').json == cloud.recording.exchange('members_replace')['request']['body']['json']


def test_image_members_replace_on_v1_in_check_mode_only_reads():
    cloud = RecordedCloud('pike-v1', api_version='1', keys=['head', 'list_by_name', 'members'])
    result = run(ImageMembersReplaceWorkflow(), cloud, replace_options(cloud), check_mode=True)
    assert result['changed'] is True and result['added'] == [cloud.ids['second member project']]
    assert [method for method, _path, _query in cloud.requests()] == ['HEAD', 'GET', 'GET']


# -- image ----------------------------------------------------------------------------------------
def property_options(cloud):
    return options(image_module, id=cloud.ids['image'], properties={'rec_prop': 'two', 'rec_added': 'yes'},
                   purge_properties=True)


@pytest.mark.parametrize('name', V2)
def test_image_properties_in_check_mode_only_read(name):
    cloud = RecordedCloud(name, keys=['get'])
    result = run(ImageWorkflow(), cloud, property_options(cloud), check_mode=True)
    assert result['changed'] is True and result['changes'] == ['update properties']
    assert result['diff']['before']['properties'] == {'rec_prop': 'one', 'rec_old': 'old'}
    assert result['diff']['after']['properties'] == {'rec_prop': 'two', 'rec_added': 'yes'}
    assert cloud.requests() == [('GET', image_path(cloud), [])]


@pytest.mark.parametrize('name', V2)
def test_image_properties_sent_in_one_json_patch(name):
    # The owner's next recorded read of the image comes after the recording's upload: it also shows data.
    cloud = RecordedCloud(name, keys=['get', 'patch', 'get_after_upload'])
    result = run(ImageWorkflow(), cloud, property_options(cloud))
    assert result['changed'] is True and result['changes'] == ['update properties']
    assert result['image']['properties'] == {'rec_prop': 'two', 'rec_added': 'yes'}
    assert json.loads(cloud.sent('patch').data) == cloud.recording.exchange('patch')['request']['body']['json']
    assert [(method, path) for method, path, _query in cloud.requests()] == [
        ('GET', image_path(cloud)), ('PATCH', image_path(cloud)), ('GET', image_path(cloud)),
        ('GET', image_path(cloud))]
