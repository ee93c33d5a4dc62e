# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import json

import jsonpatch
import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import (
    PATCH_MEDIA_TYPE, ImageDriverV2, patch_operations,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import (
    NORMALIZED_KEYS, RecordChanges, property_changes,
)
from ansible_collections.cloudimage.glance.tests.unit.doubles import (
    ImageServiceV2, Response, ScriptedSession, http, reset_failure,
)

IMAGE_ID = '6a0b4f67-6b0e-4cf4-9d54-5d0c2b0a1f11'
V2_IMAGE = {
    'id': '0b5f8a6e-3d2a-4c43-9f6e-2b8c1a7e9d10', 'name': 'demo', 'status': 'active', 'visibility': 'shared',
    'protected': False, 'os_hidden': True, 'disk_format': 'raw', 'container_format': 'bare', 'min_disk': 1,
    'min_ram': 64, 'size': 3, 'virtual_size': 3, 'checksum': 'abc', 'os_hash_algo': 'sha512',
    'os_hash_value': 'def', 'owner': 'p1', 'created_at': 't0', 'updated_at': 't1', 'tags': ['b', 'a'],
    'self': '/v2/images/x', 'file': '/v2/images/x/file', 'schema': '/v2/schemas/image', 'stores': 'fs',
    'os_glance_importing_to_stores': '', 'os_distro': 'cirros', 'hw_disk_bus': 'virtio',
}
CURRENT_RAW = {
    'id': 'i1', 'name': 'demo', 'visibility': 'shared', 'protected': False, 'os_hidden': False,
    'disk_format': 'raw', 'container_format': 'bare', 'min_disk': 0, 'min_ram': 0, 'owner': 'p1',
    'tags': ['a', 'b'], 'os_distro': 'cirros', 'hw_disk_bus': 'virtio', 'status': 'active',
}


def driver(*answers):
    session = ScriptedSession(*answers)
    return ImageDriverV2(http(session)), session


def v2_image(name='ci-image', image_id=IMAGE_ID):
    return {'id': image_id, 'name': name, 'status': 'queued', 'visibility': 'shared', 'tags': []}


# -- decoding ------------------------------------------------------------------------------------
def test_normalize_separates_properties_and_drops_server_fields():
    image = ImageDriverV2(None).normalize(V2_IMAGE)
    assert list(image) == list(NORMALIZED_KEYS)
    assert image['properties'] == {'os_distro': 'cirros', 'hw_disk_bus': 'virtio'}
    assert image['hidden'] is True
    assert image['tags'] == ['a', 'b']
    assert image['api_version'] == '2'


def test_only_a_server_that_shows_os_hidden_can_hide():
    v2 = ImageDriverV2(None)
    assert v2.can_hide(CURRENT_RAW) is True
    assert v2.can_hide({key: value for key, value in CURRENT_RAW.items() if key != 'os_hidden'}) is False


# -- json-patch encoding -------------------------------------------------------------------------
def test_patch_operations_reach_the_desired_document():
    to_set, to_remove = property_changes({'os_distro': 'cirros', 'hw_disk_bus': 'virtio'},
                                         {'os_distro': 'ubuntu', 'new/key': 'x~y'}, True)
    operations = patch_operations(CURRENT_RAW, dict({'visibility': 'private', 'os_hidden': True}, **to_set), to_remove)
    after = jsonpatch.apply_patch(copy.deepcopy(CURRENT_RAW), operations)
    assert after['visibility'] == 'private' and after['os_hidden'] is True
    assert after['os_distro'] == 'ubuntu' and after['new/key'] == 'x~y'
    assert 'hw_disk_bus' not in after
    # Existing keys are replaced, absent ones added; a removal names an existing key.
    ops = {op['path']: op['op'] for op in operations}
    assert ops['/visibility'] == 'replace' and ops['/new~1key'] == 'add' and ops['/hw_disk_bus'] == 'remove'


def test_patch_operations_empty_when_nothing_changes():
    assert patch_operations(CURRENT_RAW, {}, []) == []


def test_update_is_one_patch_for_attributes_and_properties_and_one_call_per_tag():
    server = ImageServiceV2([CURRENT_RAW], project_id='p1')
    to_set, to_remove = property_changes({'os_distro': 'cirros', 'hw_disk_bus': 'virtio'},
                                         {'os_distro': 'ubuntu', 'new/key': 'x~y'}, True)
    changes = RecordChanges({'visibility': 'private', 'hidden': True}, to_set, to_remove,
                            tags_added=['c'], tags_removed=['b'])
    server.driver().update(copy.deepcopy(CURRENT_RAW), changes)
    after = server.images['i1']
    assert after['visibility'] == 'private' and after['os_hidden'] is True
    assert after['os_distro'] == 'ubuntu' and after['new/key'] == 'x~y' and 'hw_disk_bus' not in after
    assert after['tags'] == ['a', 'c']
    assert server.kinds() == ['patch', 'remove_tag', 'add_tag']
    # A tag travels in its own call, never as a whole list that could drop others' tags.
    assert all(op['path'] != '/tags' for op in server.calls[0][1])


def test_update_without_changes_sends_nothing():
    server = ImageServiceV2([CURRENT_RAW], project_id='p1')
    assert server.driver().update(copy.deepcopy(CURRENT_RAW), RecordChanges()) == CURRENT_RAW
    assert server.calls == []


def test_create_body_converts_options_and_properties():
    v2, session = driver(Response(201, v2_image()))
    v2.create({'name': 'n', 'hidden': True, 'min_ram': None}, {'flag': True, 'n': 1}, ['b', 'a', 'b'])
    ((method, _url, kwargs),) = session.calls
    assert method == 'POST'
    assert kwargs['json'] == {'name': 'n', 'os_hidden': True, 'flag': 'True', 'n': '1', 'tags': ['a', 'b']}


def test_patch_is_sent_with_the_json_patch_media_type():
    v2, session = driver(Response(200, dict(CURRENT_RAW, min_ram=64)))
    v2.update(CURRENT_RAW, RecordChanges({'min_ram': 64}))
    ((method, _url, kwargs),) = session.calls
    assert method == 'PATCH' and kwargs['headers']['Content-Type'] == PATCH_MEDIA_TYPE
    assert json.loads(kwargs['data']) == [{'op': 'replace', 'path': '/min_ram', 'value': 64}]


# -- image_info's filters -----------------------------------------------------------------------
@pytest.mark.parametrize('filters, name, params', [
    ({}, None, []),
    ({}, 'demo', [('name', 'demo')]),
    ({'tags': ['a', 'b']}, None, [('tag', 'a'), ('tag', 'b')]),
    ({'tag': 'a'}, None, [('tag', 'a')]),
    ({'hidden': True}, None, [('os_hidden', 'true')]),
    ({'member_status': 'pending'}, None, [('member_status', 'pending'), ('visibility', 'all')]),
    ({'member_status': 'all', 'visibility': 'shared'}, None, [('member_status', 'all'), ('visibility', 'shared')]),
    ({'status': 'active', 'owner': 'p1', 'os_distro': 'cirros'}, None,
     [('status', 'active'), ('owner', 'p1'), ('os_distro', 'cirros')]),
    ({'status': None}, None, []),
])
def test_list_query(filters, name, params):
    assert ImageDriverV2(None).list_query(filters, name) == (params, None)


def test_list_query_does_not_change_the_callers_filters():
    filters = {'tags': ['a'], 'member_status': 'all'}
    ImageDriverV2(None).list_query(filters)
    assert filters == {'tags': ['a'], 'member_status': 'all'}


def test_custom_properties_are_filtered_by_their_own_name():
    assert ImageDriverV2(None).property_filter('os_distro') == 'os_distro'


# -- the digests computed while uploading ------------------------------------------------------------
@pytest.mark.parametrize('image, listed, algorithms', [
    ({'os_hash_algo': None}, [], {'md5', 'sha512'}),
    ({'os_hash_algo': None}, [{'os_hash_algo': 'sha256'}], {'md5', 'sha256'}),
    ({'os_hash_algo': None}, [{'os_hash_algo': None}], {'md5'}),  # Pike's v2: md5 only
    ({'os_hash_algo': 'SHA256'}, None, {'md5', 'sha256'}),
])
def test_data_algorithms_are_what_the_server_keeps(image, listed, algorithms):
    answers = [] if listed is None else [Response(200, {'images': listed})]
    v2, session = driver(*answers)
    assert v2.data_algorithms(dict(image, api_version='2')) == algorithms
    if listed is not None:
        # The server's own algorithm is read from one active image.
        assert session.calls[0][2]['params'] == [('status', 'active'), ('limit', '1')]


# -- creates that repeat safely ----------------------------------------------------------
def test_create_lost_answer_then_conflict_finds_its_own_image():
    v2, session = driver(reset_failure(), Response(409, text='Conflict'), Response(200, v2_image()))
    created = v2.create({'id': IMAGE_ID, 'name': 'ci-image'})
    assert created['id'] == IMAGE_ID
    posts = [kwargs['json'] for method, _url, kwargs in session.calls if method == 'POST']
    assert posts == [{'id': IMAGE_ID, 'name': 'ci-image'}] * 2
    assert session.calls[-1][:2] == ('GET', 'http://glance/v2/images/%s' % IMAGE_ID)


def test_create_conflict_on_the_first_attempt_is_an_error():
    v2, session = driver(Response(409, text='{"message": "Image with identifier %s already exists!"}' % IMAGE_ID))
    with pytest.raises(GlanceError) as info:
        v2.create({'id': IMAGE_ID, 'name': 'ci-image'})
    assert info.value.status == 409 and len(session.calls) == 1


def test_create_conflict_with_another_image_under_that_id_is_an_error():
    v2, _session = driver(Response(504), Response(409, text='Conflict'), Response(200, v2_image(name='other')))
    with pytest.raises(GlanceError):
        v2.create({'id': IMAGE_ID, 'name': 'ci-image'})


def test_create_without_id_is_not_retried():
    v2, session = driver(Response(504))
    with pytest.raises(GlanceError):
        v2.create({'name': 'ci-image'})
    assert len(session.calls) == 1


# -- other requests whose first attempt may have done the work ---------------------------
def test_member_add_repeated_after_a_lost_answer_counts_as_added():
    v2, _session = driver(Response(504), Response(409, text='Conflict'))
    assert v2.add_member(IMAGE_ID, 'p1') is True


def test_member_add_conflict_without_retry_means_someone_else_added_it():
    v2, _session = driver(Response(409, text='Conflict'))
    assert v2.add_member(IMAGE_ID, 'p1') is False


def test_member_remove_repeated_after_a_lost_answer_counts_as_removed():
    v2, _session = driver(reset_failure(), Response(404, text='Not Found'))
    assert v2.remove_member(IMAGE_ID, 'p1') is True


def test_patch_conflict_after_a_lost_answer_is_done_when_the_image_shows_it():
    raw = dict(v2_image(), stage='beta')
    v2, session = driver(Response(504), Response(409, text='Conflict'),
                         Response(200, dict(v2_image(), os_distro='debian')))
    assert v2.update(raw, RecordChanges(set_properties={'os_distro': 'debian'},
                                        removed_properties=['stage']))['os_distro'] == 'debian'
    sent = json.loads(session.calls[0][2]['data'])
    assert sent == [{'op': 'add', 'path': '/os_distro', 'value': 'debian'}, {'op': 'remove', 'path': '/stage'}]


def test_patch_conflict_after_a_lost_answer_is_an_error_when_the_image_does_not_show_it():
    raw = dict(v2_image(), stage='beta')
    v2, _session = driver(Response(504), Response(409, text='Conflict'), Response(200, dict(v2_image(), stage='beta')))
    with pytest.raises(GlanceError) as info:
        v2.update(raw, RecordChanges(removed_properties=['stage']))
    assert info.value.status == 409


def test_import_repeated_after_a_lost_answer_is_done():
    v2, session = driver(Response(503), Response(409, text='Conflict'))
    v2.import_from_url(IMAGE_ID, 'http://127.0.0.1/x.img')
    assert [method for method, _u, _k in session.calls] == ['POST', 'POST']


def test_import_conflict_on_the_first_attempt_is_an_error():
    v2, _session = driver(Response(409, text='{"message": "Image status transition from active is not allowed"}'))
    with pytest.raises(GlanceError):
        v2.import_from_url(IMAGE_ID, 'http://127.0.0.1/x.img')


def test_upload_is_sent_once_by_the_transport():
    v2, session = driver(Response(503))
    with pytest.raises(GlanceError) as info:
        v2.upload(IMAGE_ID, b'data', 4)
    assert len(session.calls) == 1 and info.value.transient


# -- tags ------------------------------------------------------------------------------------------
def test_tags_over_the_limit_are_taken_back():
    server = ImageServiceV2([dict(CURRENT_RAW, tags=[])], project_id='p1', tag_quota=3)
    with pytest.raises(GlanceError) as info:
        server.driver().update(dict(CURRENT_RAW, tags=[]), RecordChanges(tags_added=['a', 'b', 'c', 'd']))
    assert server.images['i1']['tags'] == []
    assert 'the 3 tag(s) added before it refused were removed again' in str(info.value)
    assert info.value.status == 413


# -- what v2 lacks is refused before any request --------------------------------------------------
@pytest.mark.parametrize('call, text', [
    (lambda v2: v2.add_member(IMAGE_ID, 'p1', can_share=True), 'can_share needs Image API v1'),
    (lambda v2: v2.replace_members(IMAGE_ID, [{'member_id': 'p1'}]),
     'replacing the member list in one call needs Image API v1'),
])
def test_what_v2_lacks_is_refused_without_a_request(call, text):
    v2, session = driver()
    with pytest.raises(GlanceError) as info:
        call(v2)
    assert str(info.value) == text + '; this endpoint speaks Image API v2'
    assert session.calls == []


# -- a write answered "image not found" while the image exists ---------------------------------
# Glance on a server database answers 404 to a tag PUT (or a PATCH) on an existing image when
# another write to the same image commits at the same moment (seen on RegionTwo, PostgreSQL).
@pytest.mark.parametrize('kind, changes', [
    ('add_tag', RecordChanges(tags_added=['golden'])),
    ('patch', RecordChanges(set_properties={'os_distro': 'ubuntu'})),
])
def test_a_write_answered_not_found_on_an_existing_image_is_sent_again(kind, changes):
    server = ImageServiceV2([dict(CURRENT_RAW, tags=[])], project_id='p1')
    server.fail(kind, status=404, message='Image i1 not found.')
    raw = server.driver().update(dict(CURRENT_RAW, tags=[]), changes)
    assert server.kinds().count(kind) == 2
    assert server.images['i1'].get('os_distro') == 'ubuntu' or server.images['i1']['tags'] == ['golden']
    assert raw['id'] == 'i1'


def test_a_write_answered_not_found_on_a_deleted_image_fails_at_once():
    server = ImageServiceV2([dict(CURRENT_RAW, tags=[])], project_id='p1')
    server.fail('add_tag', status=404, message='Image i1 not found.')
    del server.images['i1']
    with pytest.raises(GlanceError) as info:
        server.driver().update(dict(CURRENT_RAW, tags=[]), RecordChanges(tags_added=['golden']))
    assert info.value.status == 404
    assert server.kinds().count('add_tag') == 1

