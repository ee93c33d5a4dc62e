# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ImageDriverV1 on the answers Pike's Image API v1 gave (tests/unit/fixtures/recorded/pike-v1.json)."""

from __future__ import annotations

import hashlib
import json

import pytest
from requests.structures import CaseInsensitiveDict

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import Http, RetryPolicy
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import (
    ImageDriverV1, headers_to_image, image_fields, update_headers, v1_meta_headers,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import NORMALIZED_KEYS, RecordChanges
from ansible_collections.cloudimage.glance.tests.unit.replay import RecordedSession, load, reused

PIKE = 'pike-v1'
DATA = b'recorded image data\n'
IDS = load(PIKE)['ids']


def recorded(keys, lost=(), attempts=1, extra=()):
    """(the recorded session, a real ImageDriverV1 over it); ``attempts`` > 1 retries without pausing."""
    session = RecordedSession(PIKE, keys=keys, lost=lost, extra=extra)
    http = Http(session, session.root, policy=RetryPolicy(attempts=attempts), sleep=lambda _seconds: None)
    return session, ImageDriverV1(http)


def exchange(key):
    return next(e for e in load(PIKE)['exchanges'] if e['key'] == key)


def answer(key):
    return json.loads(exchange(key)['response']['body'])


def request_id(key):
    return CaseInsensitiveDict(exchange(key)['response']['headers'])['x-openstack-request-id']


def listed_image():
    """The image as the recorded listing shows it (properties named as stored)."""
    return next(image for image in answer('list_by_name')['images'] if image['id'] == IDS['image'])


def requests(session):
    return [(sent.method, sent.path, sent.params) for sent in session.sent]


IMAGE_PATH = '/v1/images/%s' % IDS['image']


# -- decoding -------------------------------------------------------------------------------------
def test_head_headers_decode_to_the_v1_document():
    image = headers_to_image(CaseInsensitiveDict(exchange('head')['response']['headers']))
    assert image == {
        'id': IDS['image'], 'name': IDS['name'], 'owner': IDS['owner project'], 'status': 'queued',
        'container_format': 'bare', 'disk_format': 'raw',
        'created_at': '2026-12-02T12:35:49.767398', 'updated_at': '2026-12-02T12:35:49.767406',
        # Booleans and integers arrive as header text.
        'is_public': False, 'protected': False, 'deleted': False, 'min_disk': 0, 'min_ram': 0, 'size': 0,
        # Pike re-capitalizes property names in headers: only the listing has them as stored.
        'properties': {'Rec_old': 'old', 'Rec_prop': 'one'},
    }


def test_head_after_upload_decodes_size_and_checksum():
    image = ImageDriverV1(None).normalize(
        headers_to_image(CaseInsensitiveDict(exchange('head_after_upload')['response']['headers'])))
    assert (image['status'], image['size'], image['min_disk']) == ('active', 20, 1)
    assert image['checksum'] == hashlib.md5(DATA).hexdigest()


def test_normalize_a_listed_image():
    image = ImageDriverV1(None).normalize(listed_image())
    assert tuple(image) == NORMALIZED_KEYS
    assert image['properties'] == {'rec_prop': 'one', 'rec_old': 'old'}
    assert (image['visibility'], image['protected'], image['hidden'], image['tags']) == ('private', False, False, [])
    assert (image['os_hash_algo'], image['os_hash_value'], image['api_version']) == (None, None, '1')
    assert image['owner'] == IDS['owner project']


def test_get_reads_the_headers_then_the_properties_from_the_listing():
    session, driver = recorded(['head', 'list_by_name', 'list_by_name_after'])
    raw = driver.get(IDS['image'])
    assert raw == listed_image()
    # The listing is left as soon as the image is in it.
    assert requests(session) == [('HEAD', IMAGE_PATH, []),
                                 ('GET', '/v1/images/detail', [('limit', '200'), ('name', IDS['name'])])]


@pytest.mark.parametrize('key', ['head_missing', 'head_deleted', 'head_as_other_project'])
def test_get_is_none_for_an_image_not_there_or_not_visible(key):
    session, driver = recorded([key])
    assert driver.get(exchange(key)['request']['path'].rsplit('/', 1)[1]) is None
    assert len(session.sent) == 1


def test_what_v1_keeps_of_an_image():
    driver = ImageDriverV1(None)
    assert driver.can_hide(listed_image()) is False
    assert driver.data_algorithms(driver.normalize(listed_image())) == {'md5'}
    assert driver.import_methods() == []
    # Property names travel in headers; Pike stores them in lowercase.
    assert driver.canonical_properties({'Rec_Prop': 'x'}) == {'rec_prop': 'x'}


# -- images ---------------------------------------------------------------------------------------
def test_list_pages_by_marker_until_a_page_is_empty():
    session, driver = recorded(['list_by_name', 'list_by_name_after'])
    listed = list(driver.list([('name', IDS['name'])]))
    assert [image['id'] for image in listed] == [IDS['second image'], IDS['image']]
    assert requests(session) == [
        ('GET', '/v1/images/detail', [('limit', '200'), ('name', IDS['name'])]),
        ('GET', '/v1/images/detail', [('limit', '200'), ('marker', IDS['image']), ('name', IDS['name'])]),
    ]


def test_find_by_name_without_owner_lists_as_the_server_does_by_default():
    session, driver = recorded(['list_by_name', 'list_by_name_after'])
    assert len(driver.find_by_name(IDS['name'])) == 2
    assert all(('is_public', 'None') not in sent.params for sent in session.sent)


@pytest.mark.parametrize('owner, found', [(IDS['owner project'], 2), (IDS['member project'], 0)])
def test_find_by_name_with_owner_lists_private_images_too_and_compares_the_owner_here(owner, found):
    # Pike lists an admin another project's private images only with is_public=None.
    query = [('name', IDS['name']), ('is_public', 'None'), ('limit', '200')]
    extra = [reused(PIKE, 'list_by_name', 'list_all_by_name', 'GET', '/v1/images/detail', query),
             reused(PIKE, 'list_by_name_after', 'list_all_by_name_after', 'GET', '/v1/images/detail',
                    query + [('marker', IDS['image'])])]
    session, driver = recorded([], extra=extra)
    assert len(driver.find_by_name(IDS['name'], owner=owner)) == found
    assert all(('owner', owner) not in sent.params and ('is_public', 'None') in sent.params for sent in session.sent)


def create_fields(name=None):
    return {'id': IDS['image'], 'name': name or IDS['name'], 'disk_format': 'raw', 'container_format': 'bare',
            'visibility': 'private'}


def test_create_sends_image_meta_headers():
    session, driver = recorded(['create'])
    raw = driver.create(create_fields(), {'rec_prop': 'one', 'rec_old': 'old'})
    assert dict(session.sent[0].headers) == exchange('create')['request']['headers'] == {
        'x-image-meta-id': IDS['image'], 'x-image-meta-name': IDS['name'], 'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare', 'x-image-meta-is_public': 'False',
        'x-image-meta-property-rec_prop': 'one', 'x-image-meta-property-rec_old': 'old'}
    assert session.sent[0].data is None and session.sent[0].json is None
    assert raw['id'] == IDS['image'] and raw['properties'] == {'rec_prop': 'one', 'rec_old': 'old'}


@pytest.mark.parametrize('visibility, header', [('public', 'True'), ('private', 'False')])
def test_visibility_travels_as_is_public(visibility, header):
    fields = image_fields({'visibility': visibility, 'protected': True, 'min_disk': None})
    assert v1_meta_headers(fields) == {'x-image-meta-is_public': header, 'x-image-meta-protected': 'True'}


def test_create_conflict_on_the_first_attempt_is_an_error():
    session, driver = recorded(['create_duplicate_id'])
    with pytest.raises(GlanceError) as info:
        driver.create(create_fields())
    assert str(info.value) == ('add_image image %s failed (HTTP 409, request %s) - server said: 409 Conflict: An image '
                               'with identifier %s already exists'
                               % (IDS['name'], request_id('create_duplicate_id'), IDS['image']))
    assert len(session.sent) == 1


def test_create_repeated_after_a_lost_answer_finds_its_own_image():
    session, driver = recorded(['create', 'create_duplicate_id', 'head', 'list_by_name'], lost=['create'], attempts=3)
    raw = driver.create(create_fields(), {'rec_prop': 'one', 'rec_old': 'old'})
    assert raw == listed_image()
    assert [(sent.method, sent.key) for sent in session.sent] == [
        ('POST', 'create'), ('POST', 'create_duplicate_id'), ('HEAD', 'head'), ('GET', 'list_by_name')]


def test_update_without_removals_keeps_the_other_properties():
    session, driver = recorded(['update_keep_props'])
    changes = RecordChanges(set_properties={'rec_prop': 'two', 'rec_added': 'yes'})
    raw = driver.update(answer('create')['image'], changes)
    assert dict(session.sent[0].headers) == exchange('update_keep_props')['request']['headers'] == {
        'x-image-meta-property-rec_prop': 'two', 'x-image-meta-property-rec_added': 'yes',
        'x-glance-registry-purge-props': 'false'}
    assert raw['properties'] == {'rec_prop': 'two', 'rec_old': 'old', 'rec_added': 'yes'}


def test_update_with_removals_sends_every_property_that_stays():
    session, driver = recorded(['update_purge_props'])
    changes = RecordChanges(fields={'min_disk': 1}, set_properties={'rec_prop': 'three'},
                            removed_properties=['rec_old', 'rec_added'])
    raw = driver.update(answer('update_keep_props')['image'], changes)
    assert dict(session.sent[0].headers) == exchange('update_purge_props')['request']['headers'] == {
        'x-image-meta-min_disk': '1', 'x-image-meta-property-rec_prop': 'three',
        'x-glance-registry-purge-props': 'true'}
    assert (raw['min_disk'], raw['properties']) == (1, {'rec_prop': 'three'})


def test_update_headers_keep_what_is_not_removed():
    current = answer('update_keep_props')['image']['properties']
    assert update_headers(current, RecordChanges(removed_properties=['rec_old'])) == (
        {}, {'rec_prop': 'two', 'rec_added': 'yes'}, True)
    assert update_headers(current, RecordChanges(fields={'visibility': 'public'})) == ({'is_public': True}, {}, False)


def test_update_refused_by_pike_as_a_generic_500_is_retried_then_reported_as_transient():
    # Pike's registry refuses a member's update with a 404 that its API passes on as a generic 500.
    session, driver = recorded(['update_as_member'], attempts=3)
    with pytest.raises(GlanceError) as info:
        driver.update(listed_image(), RecordChanges(set_properties={'rec_intruder': 'x'}))
    assert str(info.value) == (
        'modify_image image %s failed (HTTP 500, request %s) - server said: 500 Internal Server Error: The server '
        'has either erred or is incapable of performing the requested operation.'
        % (IDS['image'], request_id('update_as_member')))
    assert info.value.transient is True
    assert [sent.key for sent in session.sent] == ['update_as_member'] * 3


def test_update_of_an_image_not_visible_is_a_one_line_404():
    session, driver = recorded(['update_as_other_project'])
    with pytest.raises(GlanceError) as info:
        driver.update(listed_image(), RecordChanges(set_properties={'rec_intruder': 'x'}))
    assert str(info.value) == (
        'modify_image image %s failed (HTTP 404, request %s) - server said: 404 Not Found: The resource could not be '
        'found. Image with identifier %s not found'
        % (IDS['image'], request_id('update_as_other_project'), IDS['image']))
    assert (info.value.status, info.value.transient) == (404, False)


# -- data -----------------------------------------------------------------------------------------
def test_upload_headers():
    session, driver = recorded(['upload'])
    raw = driver.upload(IDS['image'], iter([b'recorded ', b'image data\n']), len(DATA))
    sent = session.sent[0]
    assert dict(sent.headers) == exchange('upload')['request']['headers'] == {
        'Content-Type': 'application/octet-stream', 'x-image-meta-size': '20',
        'x-glance-registry-purge-props': 'false'}
    assert sent.data == DATA
    assert (raw['status'], raw['checksum']) == ('active', hashlib.md5(DATA).hexdigest())


def test_upload_is_not_repeated_after_a_lost_answer():
    session, driver = recorded(['upload'], lost=['upload'], attempts=3)
    with pytest.raises(GlanceError) as info:
        driver.upload(IDS['image'], DATA, len(DATA))
    assert info.value.transient is True and len(session.sent) == 1


def test_download_streams_the_data():
    session, driver = recorded(['download'])
    assert b''.join(driver.download(IDS['image'], chunk_size=3)) == DATA
    assert requests(session) == [('GET', IMAGE_PATH, [])] and session.sent[0].kwargs['stream'] is True


def test_delete_twice():
    session, driver = recorded(['delete', 'delete_again'])
    driver.delete(IDS['image'])
    driver.delete(IDS['image'])
    assert [sent.key for sent in session.sent] == ['delete', 'delete_again']


# -- members --------------------------------------------------------------------------------------
def test_member_added_with_can_share_then_again_without():
    session, driver = recorded(['member_add', 'member_add_again'])
    member = IDS['member project']
    assert driver.add_member(IDS['image'], member, can_share=True) is True
    # A PUT of an existing member without a body keeps its can_share.
    assert driver.add_member(IDS['image'], member) is True
    assert [(sent.method, sent.path, sent.json) for sent in session.sent] == [
        ('PUT', IMAGE_PATH + '/members/' + member, {'member': {'can_share': True}}),
        ('PUT', IMAGE_PATH + '/members/' + member, None)]
    assert session.sent[0].json == exchange('member_add')['request']['body']['json']


def test_members_listed():
    session, driver = recorded(['members'])
    assert driver.members(IDS['image']) == [
        {'member_id': IDS['member project'], 'status': None, 'can_share': True, 'created_at': None,
         'updated_at': None}]


def test_member_list_replaced_in_one_call():
    session, driver = recorded(['members_replace', 'members_after_replace'])
    member, other = IDS['member project'], IDS['second member project']
    driver.replace_members(IDS['image'], [{'member_id': member, 'can_share': False}, {'member_id': other}])
    assert session.sent[0].json == exchange('members_replace')['request']['body']['json'] == {
        'memberships': [{'member_id': member, 'can_share': False}, {'member_id': other}]}
    assert [(m['member_id'], m['can_share']) for m in driver.members(IDS['image'])] == [
        (member, False), (other, False)]
    assert requests(session) == [('PUT', IMAGE_PATH + '/members', []), ('GET', IMAGE_PATH + '/members', [])]


def test_member_removed_then_again():
    session, driver = recorded(['member_remove', 'member_remove_again'])
    other = IDS['second member project']
    assert driver.remove_member(IDS['image'], other) is True
    assert driver.remove_member(IDS['image'], other) is False
    assert [sent.path for sent in session.sent] == [IMAGE_PATH + '/members/' + other] * 2


# -- list queries ---------------------------------------------------------------------------------
@pytest.mark.parametrize('filters, query, owner', [
    ({'visibility': 'public'}, [('is_public', 'true')], None),
    ({'visibility': 'private'}, [('is_public', 'false')], None),
    ({'property-rec_prop': 'one'}, [('property-rec_prop', 'one')], None),
    ({'property_rec_prop': 'one'}, [('property-rec_prop', 'one')], None),
    ({'owner': 'p1', 'status': 'active'}, [('status', 'active')], 'p1'),
    ({'changes_since': 't', 'protected': True, 'size_min': 1}, [('changes-since', 't'), ('protected', 'true'),
                                                                ('size_min', '1')], None),
    ({'min_ram': None}, [], None),
])
def test_list_query(filters, query, owner):
    assert ImageDriverV1(None).list_query(filters, name='n') == ([('name', 'n')] + query, owner)


def test_list_query_owner_is_compared_on_the_recorded_listing():
    session, driver = recorded(['list_by_name', 'list_by_name_after'])
    query, owner = driver.list_query({'owner': IDS['member project']}, IDS['name'])
    assert [image for image in driver.list(query) if image.get('owner') == owner] == []
    assert all(key != 'owner' for sent in session.sent for key, _value in sent.params)


# -- what v1 lacks --------------------------------------------------------------------------------
LACKS = [
    ('tags', lambda driver: driver.create(create_fields(), tags=['a'])),
    ('tags', lambda driver: driver.update(listed_image(), RecordChanges(tags_added=['a']))),
    ('tags', lambda driver: driver.update(listed_image(), RecordChanges(tags_removed=['a']))),
    ('deactivation', lambda driver: driver.deactivate(IDS['image'])),
    ('deactivation', lambda driver: driver.reactivate(IDS['image'])),
    ('import method web-download', lambda driver: driver.import_from_url(IDS['image'], 'http://example.org/d')),
    ('member status (accepting or rejecting an image)',
     lambda driver: driver.set_member_status(IDS['image'], IDS['member project'], 'accepted')),
    ('filter tags', lambda driver: driver.list_query({'tags': ['a']})),
    ('filter hidden', lambda driver: driver.list_query({'hidden': True})),
    ('filter member_status', lambda driver: driver.list_query({'member_status': 'all'})),
    ("visibility 'shared'", lambda driver: driver.list_query({'visibility': 'shared'})),
    ("visibility 'community'", lambda driver: driver.list_query({'visibility': 'community'})),
]


@pytest.mark.parametrize('what, call', LACKS, ids=['%s-%d' % (what, n) for n, (what, _call) in enumerate(LACKS)])
def test_what_v1_lacks_is_refused_with_one_message_before_any_request(what, call):
    session, driver = recorded([])
    with pytest.raises(GlanceError) as info:
        call(driver)
    assert str(info.value) == '%s needs Image API v2; this endpoint speaks Image API v1' % what
    assert session.sent == []
