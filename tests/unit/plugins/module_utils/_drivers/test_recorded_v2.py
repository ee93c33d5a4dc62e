# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ImageDriverV2 on the answers Glance 33 and Pike's v2 gave (tests/unit/fixtures/recorded)."""

from __future__ import annotations

import hashlib
import json

import pytest
from requests.structures import CaseInsensitiveDict

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import Http, RetryPolicy
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import (
    PATCH_MEDIA_TYPE, ImageDriverV2, patch_operations,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import NORMALIZED_KEYS, RecordChanges
from ansible_collections.cloudimage.glance.tests.unit.replay import RecordedSession, load, reused

V2 = ('glance33-v2', 'pike-v2')
DATA = b'recorded image data\n'


def recorded(name, keys, lost=(), extra=(), attempts=1):
    """(the recorded session, a real ImageDriverV2 over it); ``attempts`` > 1 retries without pausing."""
    session = RecordedSession(name, keys=keys, lost=lost, extra=extra)
    http = Http(session, session.root, policy=RetryPolicy(attempts=attempts), sleep=lambda _seconds: None)
    return session, ImageDriverV2(http)


def answer(name, key):
    """The JSON body a recorded exchange answered."""
    return json.loads(next(e for e in load(name)['exchanges'] if e['key'] == key)['response']['body'])


def request_id(session, key):
    return CaseInsensitiveDict(session.exchange(key)['response']['headers'])['x-openstack-request-id']


def requests(session):
    """(method, path, sorted query pairs) of every request sent."""
    return [(sent.method, sent.path, sent.params) for sent in session.sent]


def image_path(session, *rest):
    return '/'.join(['/v2/images', session.ids['image']] + list(rest))


@pytest.fixture(autouse=True)
def no_settling(monkeypatch):
    monkeypatch.setattr(lost_updates, 'settle_pause', lambda _seconds: 0)


# -- decoding -------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', V2)
def test_normalize_a_recorded_image(name):
    ids = load(name)['ids']
    image = ImageDriverV2(None).normalize(answer(name, 'get'))
    assert tuple(image) == NORMALIZED_KEYS
    assert image['id'] == ids['image'] and image['name'] == ids['name'] and image['owner'] == ids['owner project']
    assert image['properties'] == {'rec_prop': 'one', 'rec_old': 'old'}
    assert image['tags'] == ['rec-a', 'rec-b']
    assert (image['status'], image['visibility'], image['hidden'], image['protected']) == (
        'queued', 'private', False, False)
    assert (image['size'], image['checksum'], image['os_hash_algo'], image['api_version']) == (None, None, None, '2')


def test_normalize_sorts_tags_the_server_lists_in_its_own_order():
    raw = answer('glance33-v2', 'get')
    assert raw['tags'] == ['rec-b', 'rec-a']
    assert ImageDriverV2(None).normalize(raw)['tags'] == ['rec-a', 'rec-b']


@pytest.mark.parametrize('name, multihash', [('glance33-v2', 'sha512'), ('pike-v2', None)])
def test_normalize_an_image_with_data(name, multihash):
    image = ImageDriverV2(None).normalize(answer(name, 'get_after_upload'))
    # Server keys (self, file, schema, stores) are no custom properties.
    assert image['properties'] == {'rec_prop': 'two', 'rec_added': 'yes'}
    assert (image['status'], image['size'], image['checksum']) == ('active', 20, hashlib.md5(DATA).hexdigest())
    assert image['os_hash_algo'] == multihash
    assert image['os_hash_value'] == (hashlib.sha512(DATA).hexdigest() if multihash else None)


@pytest.mark.parametrize('name', V2)
def test_normalize_as_a_member_sees_it(name):
    image = ImageDriverV2(None).normalize(answer(name, 'get_as_member'))
    assert (image['visibility'], image['tags'], image['hidden']) == ('shared', ['rec-b', 'rec-c'], False)


@pytest.mark.parametrize('name, hides', [('glance33-v2', True), ('pike-v2', False)])
def test_can_hide_where_the_server_shows_os_hidden(name, hides):
    assert ImageDriverV2(None).can_hide(answer(name, 'get')) is hides


@pytest.mark.parametrize('name, key, algorithms, asks', [
    ('glance33-v2', 'get_after_upload', {'md5', 'sha512'}, False),
    # No data yet: the server's algorithm shows on an image it has hashed.
    ('glance33-v2', 'get', {'md5', 'sha512'}, True),
    # Pike keeps md5 only: its images show no multihash.
    ('pike-v2', 'get_after_upload', {'md5'}, True),
    ('pike-v2', 'get', {'md5'}, True),
])
def test_data_algorithms(name, key, algorithms, asks):
    session, driver = recorded(name, keys=['list_active_limit1'])
    assert driver.data_algorithms(driver.normalize(answer(name, key))) == algorithms
    assert requests(session) == ([('GET', '/v2/images', [('limit', '1'), ('status', 'active')])] if asks else [])


# -- images ---------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', V2)
@pytest.mark.parametrize('key', ['get_missing', 'get_deleted', 'get_as_other_project'])
def test_get_is_none_for_an_image_not_there_or_not_visible(name, key):
    session, driver = recorded(name, keys=[key])
    assert driver.get(session.exchange(key)['request']['path'].rsplit('/', 1)[1]) is None


@pytest.mark.parametrize('name', V2)
def test_list_follows_the_recorded_next_links(name):
    session, driver = recorded(name, keys=['list_by_name_limit1', 'list_by_name_next', 'list_by_name_end'])
    ids, listed = session.ids, list(driver.list([('name', session.ids['name'])], page_size=1))
    assert [image['id'] for image in listed] == [ids['second image'], ids['image']]
    assert requests(session) == [
        ('GET', '/v2/images', [('limit', '1'), ('name', ids['name'])]),
        ('GET', '/v2/images', [('limit', '1'), ('marker', ids['second image']), ('name', ids['name'])]),
        ('GET', '/v2/images', [('limit', '1'), ('marker', ids['image']), ('name', ids['name'])]),
    ]


@pytest.mark.parametrize('name', V2)
def test_find_by_name_asks_for_hidden_images_too(name):
    session, driver = recorded(name, keys=['list_by_name', 'list_by_name_hidden'])
    ids = session.ids
    found = driver.find_by_name(ids['name'])
    assert sorted(image['id'] for image in found) == sorted([ids['image'], ids['second image']])
    assert requests(session) == [
        ('GET', '/v2/images', [('limit', '200'), ('name', ids['name'])]),
        ('GET', '/v2/images', [('limit', '200'), ('name', ids['name']), ('os_hidden', 'true')]),
    ]


def create_fields(session, name=None):
    return {'id': session.ids['image'], 'name': name or session.ids['name'], 'disk_format': 'raw',
            'container_format': 'bare', 'visibility': 'private'}


@pytest.mark.parametrize('name', V2)
def test_create_with_an_explicit_id(name):
    session, driver = recorded(name, keys=['create'])
    raw = driver.create(create_fields(session), {'rec_prop': 'one', 'rec_old': 'old'}, tags=['rec-b', 'rec-a', 'rec-b'])
    assert session.sent[0].json == session.exchange('create')['request']['body']['json']
    assert driver.normalize(raw)['id'] == session.ids['image']
    assert driver.normalize(raw)['properties'] == {'rec_prop': 'one', 'rec_old': 'old'}


@pytest.mark.parametrize('name', V2)
def test_create_conflict_on_the_first_attempt_is_an_error(name):
    session, driver = recorded(name, keys=['create_duplicate_id'])
    with pytest.raises(GlanceError) as info:
        driver.create(create_fields(session))
    assert str(info.value) == ('add_image image %s failed (HTTP 409, request %s) - server said: 409 Conflict: Image ID '
                               '%s already exists!' % (session.ids['name'], request_id(session, 'create_duplicate_id'),
                                                       session.ids['image']))
    assert [sent.key for sent in session.sent] == ['create_duplicate_id']


@pytest.mark.parametrize('name', V2)
def test_create_repeated_after_a_lost_answer_finds_its_own_image(name):
    session, driver = recorded(name, keys=['create', 'create_duplicate_id', 'get'], lost=['create'], attempts=3)
    raw = driver.create(create_fields(session))
    assert raw['id'] == session.ids['image']
    assert [(sent.method, sent.key) for sent in session.sent] == [
        ('POST', 'create'), ('POST', 'create_duplicate_id'), ('GET', 'get')]


@pytest.mark.parametrize('name', V2)
def test_create_repeated_meeting_an_image_of_another_name_is_an_error(name):
    session, driver = recorded(name, keys=['create', 'create_duplicate_id', 'get'], lost=['create'], attempts=3)
    with pytest.raises(GlanceError) as info:
        driver.create(create_fields(session, name='another'))
    assert info.value.status == 409 and str(info.value).startswith('add_image image another failed (HTTP 409')


@pytest.mark.parametrize('name', V2)
def test_create_without_an_id_is_not_repeated(name):
    session, driver = recorded(name, keys=['create_second'], lost=['create_second'], attempts=3)
    with pytest.raises(GlanceError) as info:
        driver.create({'name': session.ids['name'], 'disk_format': 'raw', 'container_format': 'bare'})
    assert str(info.value) == ('add_image image %s: connection to %s/v2/images was closed before it answered'
                               % (session.ids['name'], session.root))
    assert info.value.transient is True and len(session.sent) == 1


# -- update ---------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', V2)
def test_update_sends_one_json_patch_add_replace_then_remove(name):
    session, driver = recorded(name, keys=['patch'])
    raw = driver.update(answer(name, 'get'), RecordChanges(set_properties={'rec_prop': 'two', 'rec_added': 'yes'},
                                                           removed_properties=['rec_old']))
    sent = session.sent[0]
    assert json.loads(sent.data) == [
        {'op': 'replace', 'path': '/rec_prop', 'value': 'two'},
        {'op': 'add', 'path': '/rec_added', 'value': 'yes'},
        {'op': 'remove', 'path': '/rec_old'},
    ] == session.exchange('patch')['request']['body']['json']
    assert sent.headers['Content-Type'] == PATCH_MEDIA_TYPE and sent.json is None
    assert driver.normalize(raw)['properties'] == {'rec_prop': 'two', 'rec_added': 'yes'}


@pytest.mark.parametrize('name', V2)
def test_update_of_a_field(name):
    session, driver = recorded(name, keys=['patch_visibility_shared'])
    raw = driver.update(answer(name, 'get'), RecordChanges(fields={'visibility': 'shared'}))
    assert json.loads(session.sent[0].data) == [{'op': 'replace', 'path': '/visibility', 'value': 'shared'}]
    assert raw['visibility'] == 'shared'


@pytest.mark.parametrize('name, op', [('glance33-v2', 'replace'), ('pike-v2', 'add')])
def test_hidden_travels_as_os_hidden(name, op):
    assert patch_operations(answer(name, 'get'), {'os_hidden': True}, []) == [
        {'op': op, 'path': '/os_hidden', 'value': True}]


@pytest.mark.parametrize('name', V2)
def test_update_sends_tags_one_call_each_and_no_patch(name):
    session, driver = recorded(name, keys=['tag_remove', 'tag_add'])
    driver.update(answer(name, 'get'), RecordChanges(tags_added=['rec-c'], tags_removed=['rec-a']))
    assert requests(session) == [('DELETE', image_path(session, 'tags', 'rec-a'), []),
                                 ('PUT', image_path(session, 'tags', 'rec-c'), [])]
    assert all(sent.data is None and sent.json is None for sent in session.sent)


@pytest.mark.parametrize('name', V2)
def test_removing_a_tag_already_gone_is_no_error(name):
    session, driver = recorded(name, keys=['tag_remove_missing'])
    driver.update(answer(name, 'get'), RecordChanges(tags_removed=['rec-a']))
    assert [sent.key for sent in session.sent] == ['tag_remove_missing']


@pytest.mark.parametrize('name', V2)
def test_tag_limit_takes_back_the_tags_added(name):
    image_id = load(name)['ids']['image']
    tags = '/v2/images/%s/tags/' % image_id
    # Glance answers a tag PUT over image_tag_quota as it answered the recorded PATCH over it.
    extra = [reused(name, 'patch_too_many_tags', 'tag_add_over_limit', 'PUT', tags + 'rec-d'),
             reused(name, 'tag_remove', 'tag_remove_added', 'DELETE', tags + 'rec-c')]
    session, driver = recorded(name, keys=['tag_add'], extra=extra)
    with pytest.raises(GlanceError) as info:
        driver.update(answer(name, 'get'), RecordChanges(tags_added=['rec-d', 'rec-c']))
    assert str(info.value) == (
        'the server allows no more tags on image %s (image_tag_quota); its tags were put back as they were: the image '
        'is unchanged (HTTP 413, request %s) - server said: 413 Request Entity Too Large: The limit has been '
        'exceeded on the number of allowed image tags. Attempted: 129, Maximum: 128'
        % (image_id, request_id(session, 'patch_too_many_tags')))
    assert [(sent.method, sent.key) for sent in session.sent] == [
        ('PUT', 'tag_add'), ('PUT', 'tag_add_over_limit'), ('DELETE', 'tag_remove_added')]


@pytest.mark.parametrize('name', V2)
def test_update_kept_reads_the_image_back(name):
    session, driver = recorded(name, keys=['tag_remove', 'tag_add', 'get_deactivated'])
    raw = driver.update(answer(name, 'get'), RecordChanges(tags_added=['rec-c'], tags_removed=['rec-a']), keep=True)
    assert sorted(raw['tags']) == ['rec-b', 'rec-c']
    assert [sent.method for sent in session.sent] == ['DELETE', 'PUT', 'GET']


@pytest.mark.parametrize('name', V2)
def test_update_kept_never_overwrites_a_revert_it_cannot_date(name):
    # The first read back shows the tags as before the calls; the recorded answers carry no Date,
    # so whether an overlapping request or a later writer put them back cannot be told: a conflict.
    session, driver = recorded(name, keys=['tag_remove', 'tag_add', 'get'])
    with pytest.raises(GlanceError) as info:
        driver.update(answer(name, 'get'), RecordChanges(tags_added=['rec-c'], tags_removed=['rec-a']), keep=True)
    assert "after this task's write: tag 'rec-a' was added (this task wants it absent); tag 'rec-c' was removed" \
        in str(info.value)
    assert [(sent.method, sent.key) for sent in session.sent] == [
        ('DELETE', 'tag_remove'), ('PUT', 'tag_add'), ('GET', 'get')]


@pytest.mark.parametrize('name', V2)
def test_patch_repeated_after_a_lost_answer_accepts_its_own_removal(name):
    session, driver = recorded(name, keys=['patch', 'patch_remove_missing', 'get_after_upload'], lost=['patch'],
                               attempts=3)
    raw = driver.update(answer(name, 'get'), RecordChanges(set_properties={'rec_prop': 'two', 'rec_added': 'yes'},
                                                           removed_properties=['rec_old']))
    assert [sent.key for sent in session.sent] == ['patch', 'patch_remove_missing', 'get_after_upload']
    assert raw == answer(name, 'get_after_upload')


@pytest.mark.parametrize('name', V2)
def test_patch_conflict_on_the_first_attempt_is_an_error(name):
    session, driver = recorded(name, keys=['patch_remove_missing'])
    with pytest.raises(GlanceError) as info:
        driver.update(answer(name, 'patch'), RecordChanges(removed_properties=['rec_old']))
    assert str(info.value) == (
        'modify_image image %s failed (HTTP 409, request %s) - server said: 409 Conflict: There was a conflict when '
        'trying to complete your request. Property rec_old does not exist.'
        % (session.ids['image'], request_id(session, 'patch_remove_missing')))
    assert len(session.sent) == 1


# -- data -----------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', V2)
def test_upload(name):
    session, driver = recorded(name, keys=['upload'])
    assert driver.upload(session.ids['image'], iter([b'recorded ', b'image data\n']), len(DATA)) is None
    sent = session.sent[0]
    assert (sent.method, sent.path, sent.data) == ('PUT', image_path(session, 'file'), DATA)
    assert dict(sent.headers) == {'Content-Type': 'application/octet-stream'}


@pytest.mark.parametrize('name', V2)
def test_upload_is_not_repeated_after_a_lost_answer(name):
    session, driver = recorded(name, keys=['upload'], lost=['upload'], attempts=3)
    with pytest.raises(GlanceError) as info:
        driver.upload(session.ids['image'], DATA, len(DATA))
    assert info.value.transient is True and len(session.sent) == 1


@pytest.mark.parametrize('name', V2)
def test_download_streams_the_data(name):
    session, driver = recorded(name, keys=['download'])
    assert b''.join(driver.download(session.ids['image'], chunk_size=7)) == DATA
    assert session.sent[0].kwargs['stream'] is True


@pytest.mark.parametrize('name', V2)
def test_delete_twice(name):
    session, driver = recorded(name, keys=['delete', 'delete_again'])
    driver.delete(session.ids['image'])
    driver.delete(session.ids['image'])
    assert [(sent.method, sent.key) for sent in session.sent] == [('DELETE', 'delete'), ('DELETE', 'delete_again')]


@pytest.mark.parametrize('name', V2)
def test_deactivate_and_reactivate(name):
    session, driver = recorded(name, keys=['deactivate', 'get_deactivated', 'reactivate'])
    driver.deactivate(session.ids['image'])
    assert driver.normalize(driver.get(session.ids['image']))['status'] == 'deactivated'
    driver.reactivate(session.ids['image'])
    assert requests(session) == [('POST', image_path(session, 'actions', 'deactivate'), []),
                                 ('GET', image_path(session), []),
                                 ('POST', image_path(session, 'actions', 'reactivate'), [])]


@pytest.mark.parametrize('name', V2)
def test_deactivate_is_repeated_after_a_lost_answer(name):
    session, driver = recorded(name, keys=['deactivate'], lost=['deactivate'], attempts=3)
    driver.deactivate(session.ids['image'])
    assert [(sent.key, sent.lost) for sent in session.sent] == [('deactivate', True), ('deactivate', False)]


def test_import_methods():
    session, driver = recorded('glance33-v2', keys=['import_info'])
    assert driver.import_methods() == ['glance-direct', 'web-download', 'copy-image']
    assert requests(session) == [('GET', '/v2/info/import', [])]


def test_import_methods_on_pike_without_image_import():
    # Pike serves /v2/info/import only with enable_image_import; the 404 fails as any other answer.
    session, driver = recorded('pike-v2', keys=['import_info'])
    with pytest.raises(GlanceError) as info:
        driver.import_methods()
    assert str(info.value) == ('get_import_info failed (HTTP 404, request %s) - server said: 404 Not Found: Image '
                               'import is not supported at this site.' % request_id(session, 'import_info'))


# -- members --------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', V2)
def test_member_added_then_again(name):
    session, driver = recorded(name, keys=['member_add', 'member_add_again'])
    member = session.ids['member project']
    assert driver.add_member(session.ids['image'], member) is True
    assert driver.add_member(session.ids['image'], member) is False
    assert [sent.json for sent in session.sent] == [{'member': member}] * 2


@pytest.mark.parametrize('name', V2)
def test_member_add_repeated_after_a_lost_answer_is_its_own(name):
    session, driver = recorded(name, keys=['member_add', 'member_add_again'], lost=['member_add'], attempts=3)
    assert driver.add_member(session.ids['image'], session.ids['member project']) is True
    assert [sent.key for sent in session.sent] == ['member_add', 'member_add_again']


@pytest.mark.parametrize('name', V2)
def test_members_listed(name):
    session, driver = recorded(name, keys=['members'])
    listed = answer(name, 'members')['members'][0]
    assert driver.members(session.ids['image']) == [{
        'member_id': session.ids['member project'], 'status': 'pending', 'can_share': None,
        'created_at': listed['created_at'], 'updated_at': listed['updated_at']}]


@pytest.mark.parametrize('name', V2)
def test_member_removed_then_again(name):
    session, driver = recorded(name, keys=['member_remove', 'member_remove_again'])
    member = session.ids['member project']
    assert driver.remove_member(session.ids['image'], member) is True
    assert driver.remove_member(session.ids['image'], member) is False
    assert [sent.path for sent in session.sent] == [image_path(session, 'members', member)] * 2


@pytest.mark.parametrize('name', V2)
def test_member_remove_repeated_after_a_lost_answer_is_its_own(name):
    session, driver = recorded(name, keys=['member_remove', 'member_remove_again'], lost=['member_remove'],
                               attempts=3)
    assert driver.remove_member(session.ids['image'], session.ids['member project']) is True


@pytest.mark.parametrize('name', V2)
def test_member_status_set_by_the_member(name):
    session, driver = recorded(name, keys=['member_accept'])
    member = driver.set_member_status(session.ids['image'], session.ids['member project'], 'accepted')
    assert (member['member_id'], member['status'], member['can_share']) == (
        session.ids['member project'], 'accepted', None)
    assert session.sent[0].json == {'status': 'accepted'}


@pytest.mark.parametrize('call, text', [
    (lambda driver, image, member: driver.add_member(image, member, can_share=True),
     'can_share needs Image API v1; this endpoint speaks Image API v2'),
    (lambda driver, image, member: driver.replace_members(image, [{'member_id': member}]),
     'replacing the member list in one call needs Image API v1; this endpoint speaks Image API v2'),
])
def test_what_v2_lacks_is_refused_before_any_request(call, text):
    session, driver = recorded('glance33-v2', keys=[])
    with pytest.raises(GlanceError) as info:
        call(driver, session.ids['image'], session.ids['member project'])
    assert str(info.value) == text and session.sent == []


# -- list queries ---------------------------------------------------------------------------------
@pytest.mark.parametrize('filters, query', [
    ({'tags': ['b', 'a']}, [('tag', 'b'), ('tag', 'a')]),
    ({'tag': 'a'}, [('tag', 'a')]),
    ({'tags': 'a', 'tag': 'ignored'}, [('tag', 'a')]),
    ({'member_status': 'pending'}, [('member_status', 'pending'), ('visibility', 'all')]),
    ({'member_status': 'all', 'visibility': 'shared'}, [('member_status', 'all'), ('visibility', 'shared')]),
    ({'hidden': True}, [('os_hidden', 'true')]),
    ({'protected': False, 'min_ram': 64}, [('protected', 'false'), ('min_ram', '64')]),
    ({'os_distro': 'cirros', 'status': None}, [('os_distro', 'cirros')]),
])
def test_list_query(filters, query):
    assert ImageDriverV2(None).list_query(filters, name='n') == ([('name', 'n')] + query, None)


def test_member_status_listing_sees_shared_images():
    session, driver = recorded('glance33-v2', keys=['list_by_name_as_member'])
    query, _owner = driver.list_query({'member_status': 'all'}, session.ids['name'])
    assert [image['id'] for image in driver.list(query)] == [session.ids['image']]


def test_member_status_listing_on_pike_meets_visibility_all_refused():
    # Pike (Image API v2.5) knows no visibility "all"; without it, it lists the shared image.
    session, driver = recorded('pike-v2', keys=['list_by_name_as_member', 'list_by_name_as_member_status_all'])
    query, _owner = driver.list_query({'member_status': 'all'}, session.ids['name'])
    with pytest.raises(GlanceError) as info:
        list(driver.list(query))
    assert str(info.value) == ('get_images failed (HTTP 400, request %s) - server said: 400 Bad Request: Invalid '
                               'visibility value: all' % request_id(session, 'list_by_name_as_member'))
    listed = driver.list([('name', session.ids['name']), ('member_status', 'all')])
    assert [image['id'] for image in listed] == [session.ids['image']]


# -- errors ---------------------------------------------------------------------------------------
ERRORS = [
    ('patch_as_other_project', 404, 'modify_image image {image} failed',
     lambda driver, ids: driver.update({'id': ids['image']}, RecordChanges(set_properties={'rec_intruder': 'x'}))),
    ('patch_as_member', 403, 'modify_image image {image} refused',
     lambda driver, ids: driver.update({'id': ids['image']}, RecordChanges(set_properties={'rec_intruder': 'x'}))),
    ('member_add_private', 403, 'add_member image {image} member {member} refused',
     lambda driver, ids: driver.add_member(ids['image'], ids['member project'])),
    ('member_status_by_owner', 403, 'modify_member image {image} member {member} refused',
     lambda driver, ids: driver.set_member_status(ids['image'], ids['member project'], 'accepted')),
    ('download_deactivated', 403, 'download_image image {image} refused',
     lambda driver, ids: list(driver.download(ids['image']))),
]

# A write answered 404 is followed by a read of the image: sent again only while it exists.
READ_BACK = {'patch_as_other_project': ['get_as_other_project']}


@pytest.mark.parametrize('name', V2)
@pytest.mark.parametrize('key, status, start, call', ERRORS, ids=[error[0] for error in ERRORS])
def test_refusals_are_one_line_errors_with_status_and_request_id(name, key, status, start, call):
    session, driver = recorded(name, keys=[key] + READ_BACK.get(key, []))
    with pytest.raises(GlanceError) as info:
        call(driver, session.ids)
    error, text = info.value, str(info.value)
    assert (error.status, error.request_id) == (status, request_id(session, key))
    assert text.startswith(start.format(image=session.ids['image'], member=session.ids['member project']))
    assert '(HTTP %d, request %s) - server said: %d ' % (status, error.request_id, status) in text
    assert '\n' not in text and '<' not in text


@pytest.mark.parametrize('key, message', [
    ('patch_as_other_project', '404 Not Found: No image found with ID {image}'),
    ('patch_as_member', '403 Forbidden: You are not authorized to complete modify_image action.'),
    ('member_add_private', '403 Forbidden: Not allowed to create members for image {image}.'),
    ('download_deactivated', '403 Forbidden: The requested image has been deactivated. Image data download is '
                             'forbidden.'),
])
def test_server_message_of_glance33(key, message):
    session, driver = recorded('glance33-v2', keys=[key] + READ_BACK.get(key, []))
    call = next(error[3] for error in ERRORS if error[0] == key)
    with pytest.raises(GlanceError) as info:
        call(driver, session.ids)
    assert info.value.server_message == message.format(image=session.ids['image'])
