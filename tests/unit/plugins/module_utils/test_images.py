from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils.images import (
    NORMALIZED_KEYS, looks_like_uuid, normalize_v1, normalize_v2, property_string, v1_headers_to_image,
)

V2_IMAGE = {
    'id': '0b5f8a6e-3d2a-4c43-9f6e-2b8c1a7e9d10', 'name': 'demo', 'status': 'active', 'visibility': 'shared',
    'protected': False, 'os_hidden': True, 'disk_format': 'raw', 'container_format': 'bare', 'min_disk': 1,
    'min_ram': 64, 'size': 3, 'virtual_size': 3, 'checksum': 'abc', 'os_hash_algo': 'sha512',
    'os_hash_value': 'def', 'owner': 'p1', 'created_at': 't0', 'updated_at': 't1', 'tags': ['b', 'a'],
    'self': '/v2/images/x', 'file': '/v2/images/x/file', 'schema': '/v2/schemas/image', 'stores': 'fs',
    'os_glance_importing_to_stores': '', 'os_distro': 'cirros', 'hw_disk_bus': 'virtio',
}


def test_normalize_v2_separates_properties_and_drops_server_fields():
    image = normalize_v2(V2_IMAGE)
    assert list(image) == list(NORMALIZED_KEYS)
    assert image['properties'] == {'os_distro': 'cirros', 'hw_disk_bus': 'virtio'}
    assert image['hidden'] is True
    assert image['tags'] == ['a', 'b']
    assert image['api_version'] == '2'


def test_normalize_v1_maps_is_public_to_visibility():
    raw = {'id': 'x', 'name': 'legacy', 'is_public': True, 'protected': False, 'properties': {'a': '1'},
           'status': 'active', 'checksum': 'md5', 'owner': 'p'}
    image = normalize_v1(raw)
    assert list(image) == list(NORMALIZED_KEYS)
    assert image['visibility'] == 'public'
    assert image['hidden'] is False and image['tags'] == []
    assert image['properties'] == {'a': '1'}
    assert image['api_version'] == '1'
    assert normalize_v1(dict(raw, is_public=False))['visibility'] == 'private'


def test_v1_headers_to_image_parses_types():
    headers = {
        'X-Image-Meta-Id': 'x', 'X-Image-Meta-Name': 'n', 'X-Image-Meta-Is_public': 'False',
        'X-Image-Meta-Protected': 'True', 'X-Image-Meta-Size': '12', 'X-Image-Meta-Min_ram': '0',
        'X-Image-Meta-Virtual_size': 'None', 'X-Image-Meta-Property-Os_distro': 'cirros',
        'Content-Type': 'text/html',
    }
    image = v1_headers_to_image(headers)
    assert image['is_public'] is False and image['protected'] is True
    assert image['size'] == 12 and image['min_ram'] == 0 and image['virtual_size'] is None
    assert image['properties'] == {'Os_distro': 'cirros'}
    assert 'content-type' not in image


@pytest.mark.parametrize('value, text', [
    (True, 'True'), (False, 'False'), (1, '1'), (1.5, '1.5'), ('x', 'x'), (None, ''),
])
def test_property_string(value, text):
    assert property_string(value) == text


@pytest.mark.parametrize('value, expected', [
    ('0b5f8a6e-3d2a-4c43-9f6e-2b8c1a7e9d10', True),
    ('0b5f8a6e3d2a4c439f6e2b8c1a7e9d10', True),
    ('cirros', False),
    ('0b5f8a6e-3d2a-4c43-9f6e-2b8c1a7e9d1', False),
])
def test_looks_like_uuid(value, expected):
    assert looks_like_uuid(value) is expected
