# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import (
    ImageDriverV1, check_header_safe, headers_to_image, image_fields, update_headers,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import NORMALIZED_KEYS, RecordChanges
from ansible_collections.cloudimage.glance.tests.unit.doubles import Response, ScriptedSession, http

IMAGE_ID = '6a0b4f67-6b0e-4cf4-9d54-5d0c2b0a1f11'


def driver(*answers):
    session = ScriptedSession(*answers)
    return ImageDriverV1(http(session)), session


# -- names and properties that travel in headers --------------------------------------------
@pytest.mark.parametrize('name, properties', [
    ('cirros', {'os_distro': 'cirros', 'note': 'café'}),
    (None, None),
])
def test_values_that_travel_in_v1_headers(name, properties):
    check_header_safe(name, properties)
    ImageDriverV1(None).check_record(name, properties)


@pytest.mark.parametrize('name, properties, words', [
    ('Ubuntu 24.04 \u2014 golden', None, "name 'Ubuntu 24.04 \u2014 golden' cannot be sent to Image API v1"),
    ('two\nlines', None, "name 'two\\nlines' cannot be sent to Image API v1"),
    ('ok', {'note': 'a\r\nX-Injected: 1'}, "properties.note value 'a\\r\\nX-Injected: 1' cannot be sent"),
    ('ok', {'\u00fcber key': 'x'}, None),
    ('ok', {'bad key': 'x'}, "properties key 'bad key' cannot be sent to Image API v1"),
    ('ok', {'\u4e2d': 'x'}, "properties key '\u4e2d' cannot be sent to Image API v1"),
])
def test_values_refused_before_any_request(name, properties, words):
    if words is None:
        words = 'properties key'
    for check in (check_header_safe, ImageDriverV1(None).check_record):
        with pytest.raises(GlanceError) as info:
            check(name, properties)
        assert str(info.value).startswith(words)
        assert '\n' not in str(info.value)


def test_property_names_as_the_server_stores_them():
    assert ImageDriverV1(None).canonical_properties({'OS_Distro': 'x', 'hw': 1}) == {'os_distro': 'x', 'hw': 1}


# -- decoding -------------------------------------------------------------------------------
def test_normalize_maps_is_public_to_visibility():
    raw = {'id': 'x', 'name': 'legacy', 'is_public': True, 'protected': False, 'properties': {'a': '1'},
           'status': 'active', 'checksum': 'md5', 'owner': 'p'}
    image = ImageDriverV1(None).normalize(raw)
    assert list(image) == list(NORMALIZED_KEYS)
    assert image['visibility'] == 'public'
    assert image['hidden'] is False and image['tags'] == []
    assert image['properties'] == {'a': '1'}
    assert image['api_version'] == '1'
    assert ImageDriverV1(None).normalize(dict(raw, is_public=False))['visibility'] == 'private'


def test_headers_to_image_parses_types():
    headers = {
        'X-Image-Meta-Id': 'x', 'X-Image-Meta-Name': 'n', 'X-Image-Meta-Is_public': 'False',
        'X-Image-Meta-Protected': 'True', 'X-Image-Meta-Size': '12', 'X-Image-Meta-Min_ram': '0',
        'X-Image-Meta-Virtual_size': 'None', 'X-Image-Meta-Property-Os_distro': 'cirros',
        'Content-Type': 'text/html',
    }
    image = headers_to_image(headers)
    assert image['is_public'] is False and image['protected'] is True
    assert image['size'] == 12 and image['min_ram'] == 0 and image['virtual_size'] is None
    assert image['properties'] == {'Os_distro': 'cirros'}
    assert 'content-type' not in image


# -- encoding ---------------------------------------------------------------------------------
@pytest.mark.parametrize('fields, converted', [
    ({'visibility': 'public'}, {'is_public': True}),
    ({'visibility': 'private', 'protected': True}, {'is_public': False, 'protected': True}),
    ({'name': 'n', 'min_ram': None}, {'name': 'n'}),
])
def test_image_fields(fields, converted):
    assert image_fields(fields) == converted


def test_update_without_removal_sends_only_changes_and_keeps_the_rest():
    changes = RecordChanges({'min_ram': 64}, {'a': '9'})
    assert update_headers({'a': '1', 'b': '2'}, changes) == ({'min_ram': 64}, {'a': '9'}, False)


def test_update_with_removal_sends_every_remaining_property_with_purge():
    changes = RecordChanges({}, {'a': '9'}, ['b'])
    assert update_headers({'a': '1', 'b': '2', 'c': '3'}, changes) == ({}, {'a': '9', 'c': '3'}, True)


@pytest.mark.parametrize('changes, purge, sent', [
    (RecordChanges({'visibility': 'public'}, {'a': '9'}), 'false',
     {'x-image-meta-is_public': 'True', 'x-image-meta-property-a': '9'}),
    (RecordChanges(removed_properties=['b']), 'true', {'x-image-meta-property-a': '1'}),
])
def test_update_is_one_put_with_the_purge_header(changes, purge, sent):
    raw = {'id': IMAGE_ID, 'name': 'legacy', 'is_public': False, 'properties': {'a': '1', 'b': '2'}}
    v1, session = driver(Response(200, {'image': dict(raw)}))
    v1.update(raw, changes)
    ((method, url, kwargs),) = session.calls
    assert (method, url) == ('PUT', 'http://glance/v1/images/%s' % IMAGE_ID)
    assert kwargs['headers'] == dict(sent, **{'x-glance-registry-purge-props': purge})


# -- image_info's filters -----------------------------------------------------------------------
@pytest.mark.parametrize('filters, name, params, owner', [
    ({}, 'n', [('name', 'n')], None),
    ({'visibility': 'public'}, None, [('is_public', 'true')], None),
    ({'visibility': 'private', 'owner': 'p'}, None, [('is_public', 'false')], 'p'),
    ({'property-os_distro': 'cirros', 'changes_since': 't'}, None,
     [('property-os_distro', 'cirros'), ('changes-since', 't')], None),
])
def test_list_query(filters, name, params, owner):
    assert ImageDriverV1(None).list_query(filters, name) == (params, owner)


@pytest.mark.parametrize('filters, text', [
    ({'tags': ['a']}, 'filter tags needs Image API v2; this endpoint speaks Image API v1'),
    ({'member_status': 'all', 'hidden': True}, 'filter member_status needs Image API v2; this endpoint speaks '
                                               'Image API v1'),
    ({'visibility': 'shared'}, "visibility 'shared' needs Image API v2; this endpoint speaks Image API v1"),
    ({'os_distro': 'x'}, 'filter os_distro needs Image API v2; this endpoint speaks Image API v1'),
])
def test_list_query_refuses_what_v1_lacks(filters, text):
    with pytest.raises(GlanceError) as info:
        ImageDriverV1(None).list_query(filters)
    assert str(info.value) == text


def test_custom_properties_are_filtered_as_property_filters():
    assert ImageDriverV1(None).property_filter('os_distro') == 'property-os_distro'


# -- what v1 lacks is refused before any request --------------------------------------------------
@pytest.mark.parametrize('call, text', [
    (lambda v1: v1.deactivate(IMAGE_ID), 'deactivation needs Image API v2'),
    (lambda v1: v1.reactivate(IMAGE_ID), 'deactivation needs Image API v2'),
    (lambda v1: v1.import_from_url(IMAGE_ID, 'http://x/y.img'), 'import method web-download needs Image API v2'),
    (lambda v1: v1.set_member_status(IMAGE_ID, 'p1', 'accepted'),
     'member status (accepting or rejecting an image) needs Image API v2'),
    (lambda v1: v1.create({'id': IMAGE_ID, 'name': 'n'}, {}, ['t']), 'tags needs Image API v2'),
    (lambda v1: v1.update({'id': IMAGE_ID}, RecordChanges(tags_added=['t'])), 'tags needs Image API v2'),
])
def test_what_v1_lacks_is_refused_without_a_request(call, text):
    v1, session = driver()
    with pytest.raises(GlanceError) as info:
        call(v1)
    assert str(info.value) == text + '; this endpoint speaks Image API v1'
    assert session.calls == []


def test_v1_keeps_md5_only_and_hides_nothing():
    v1 = ImageDriverV1(None)
    assert v1.data_algorithms({'api_version': '1'}) == {'md5'}
    assert v1.strongest_digest == 'md5'
    assert v1.can_hide({'id': IMAGE_ID, 'os_hidden': False}) is False
    assert v1.import_methods() == []


# -- creates that repeat safely ----------------------------------------------------------------
def test_create_lost_answer_then_conflict_finds_its_own_image():
    listed = {'id': IMAGE_ID, 'name': 'ci-image', 'status': 'queued', 'properties': {}}
    v1, session = driver(Response(502), Response(409, text='Conflict'),
                         Response(200, text='', headers={'X-Image-Meta-Id': IMAGE_ID,
                                                         'X-Image-Meta-Name': 'ci-image'}))
    created = v1.create({'id': IMAGE_ID, 'name': 'ci-image'})
    assert created['id'] == IMAGE_ID and created['name'] == listed['name']
    headers = [kwargs['headers'] for method, _url, kwargs in session.calls if method == 'POST']
    assert [h['x-image-meta-id'] for h in headers] == [IMAGE_ID, IMAGE_ID]


# -- members ---------------------------------------------------------------------------------------
def test_whole_member_list_in_one_put():
    v1, session = driver(Response(204))
    v1.replace_members(IMAGE_ID, [{'member_id': 'p1', 'can_share': True}, {'member_id': 'p2'}])
    ((method, url, kwargs),) = session.calls
    assert (method, url) == ('PUT', 'http://glance/v1/images/%s/members' % IMAGE_ID)
    assert kwargs['json'] == {'memberships': [{'member_id': 'p1', 'can_share': True}, {'member_id': 'p2'}]}


def test_members_are_read_from_either_list_name():
    for key in ('members', 'memberships'):
        v1, _session = driver(Response(200, {key: [{'member_id': 'p1', 'can_share': True}]}))
        assert [(m['member_id'], m['can_share'], m['status']) for m in v1.members(IMAGE_ID)] == [('p1', True, None)]

