from __future__ import annotations

import copy

import jsonpatch
import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.image_diff import (
    field_changes, property_changes, tag_target, v1_fields, v1_update, v2_create_body, v2_patch,
    validate_name, validate_properties, validate_tags,
)

CURRENT_RAW = {
    'id': 'i1', 'name': 'demo', 'visibility': 'shared', 'protected': False, 'os_hidden': False,
    'disk_format': 'raw', 'container_format': 'bare', 'min_disk': 0, 'min_ram': 0, 'owner': 'p1',
    'tags': ['a', 'b'], 'os_distro': 'cirros', 'hw_disk_bus': 'virtio', 'status': 'active',
}
CURRENT = {
    'name': 'demo', 'visibility': 'shared', 'protected': False, 'hidden': False, 'disk_format': 'raw',
    'container_format': 'bare', 'min_disk': 0, 'min_ram': 0, 'owner': 'p1',
}


@pytest.mark.parametrize('desired, changes', [
    ({}, {}),
    ({'visibility': 'shared'}, {}),
    ({'visibility': 'private'}, {'visibility': 'private'}),
    ({'hidden': True, 'min_ram': 0}, {'hidden': True}),
    ({'protected': None, 'name': 'demo'}, {}),
    ({'name': 'renamed', 'min_disk': 2}, {'name': 'renamed', 'min_disk': 2}),
])
def test_field_changes_only_for_given_and_different_options(desired, changes):
    assert field_changes(CURRENT, desired) == changes


@pytest.mark.parametrize('current, desired, purge, to_set, to_remove', [
    ({'a': '1'}, {'a': 1}, False, {}, []),
    ({'a': '1'}, {'a': 2}, False, {'a': '2'}, []),
    ({'a': 'True'}, {'a': True}, False, {}, []),
    ({'a': '1', 'b': '2'}, {'a': '1'}, False, {}, []),
    ({'a': '1', 'b': '2'}, {'a': '1'}, True, {}, ['b']),
    ({'a': '1', 'b': '2'}, {}, True, {}, ['a', 'b']),
    ({}, {'new': 'x'}, True, {'new': 'x'}, []),
])
def test_property_changes(current, desired, purge, to_set, to_remove):
    assert property_changes(current, desired, purge) == (to_set, to_remove)


@pytest.mark.parametrize('current, desired, purge, target', [
    (['a'], None, True, None),
    (['a'], ['a'], False, None),
    (['a'], ['b'], False, ['a', 'b']),
    (['a', 'b'], ['b'], True, ['b']),
    (['a'], [], True, []),
    ([], [], True, None),
    (['b', 'a'], ['a', 'b', 'a'], True, None),
])
def test_tag_target(current, desired, purge, target):
    assert tag_target(current, desired, purge) == target


def test_v2_patch_is_one_request_that_reaches_the_desired_document():
    fields = {'visibility': 'private', 'hidden': True}
    to_set, to_remove = property_changes({'os_distro': 'cirros', 'hw_disk_bus': 'virtio'},
                                         {'os_distro': 'ubuntu', 'new/key': 'x~y'}, True)
    operations = v2_patch(CURRENT_RAW, fields, to_set, to_remove, ['a', 'c'])
    after = jsonpatch.apply_patch(copy.deepcopy(CURRENT_RAW), operations)
    assert after['visibility'] == 'private' and after['os_hidden'] is True
    assert after['os_distro'] == 'ubuntu' and after['new/key'] == 'x~y'
    assert 'hw_disk_bus' not in after
    assert after['tags'] == ['a', 'c']
    # Existing keys are replaced, absent ones added; a removal names an existing key.
    ops = {op['path']: op['op'] for op in operations}
    assert ops['/visibility'] == 'replace' and ops['/new~1key'] == 'add' and ops['/hw_disk_bus'] == 'remove'


def test_v2_patch_empty_when_nothing_changes():
    assert v2_patch(CURRENT_RAW, {}, {}, [], None) == []


def test_v2_create_body_converts_options_and_properties():
    body = v2_create_body({'name': 'n', 'hidden': True, 'min_ram': None}, {'flag': True, 'n': 1}, ['b', 'a', 'b'])
    assert body == {'name': 'n', 'os_hidden': True, 'flag': 'True', 'n': '1', 'tags': ['a', 'b']}


@pytest.mark.parametrize('fields, converted', [
    ({'visibility': 'public'}, {'is_public': True}),
    ({'visibility': 'private', 'protected': True}, {'is_public': False, 'protected': True}),
    ({'name': 'n', 'min_ram': None}, {'name': 'n'}),
])
def test_v1_fields(fields, converted):
    assert v1_fields(fields) == converted


def test_v1_update_without_removal_sends_only_changes_and_keeps_the_rest():
    assert v1_update({'a': '1', 'b': '2'}, {'min_ram': 64}, {'a': '9'}, []) == ({'min_ram': 64}, {'a': '9'}, False)


def test_v1_update_with_removal_sends_every_remaining_property_with_purge():
    assert v1_update({'a': '1', 'b': '2', 'c': '3'}, {}, {'a': '9'}, ['b']) == ({}, {'a': '9', 'c': '3'}, True)


@pytest.mark.parametrize('properties, text', [
    ({'os_hash_value': 'x'}, "property 'os_hash_value' is read-only"),
    ({'id': 'x'}, "property 'id' is read-only"),
    ({'os_glance_import_task': 'x'}, "property 'os_glance_import_task' is reserved"),
    ({'visibility': 'public'}, 'set it with the visibility option'),
    ({'os_hidden': True}, 'set it with the hidden option'),
])
def test_validate_properties_refuses(properties, text):
    with pytest.raises(GlanceError) as info:
        validate_properties(properties)
    assert text in str(info.value)


def test_validate_properties_accepts_custom_names():
    validate_properties({'os_distro': 'x', 'hw_disk_bus': 'virtio'})
    validate_properties(None)


@pytest.mark.parametrize('value, kind', [({'a': 1}, 'a mapping'), ([1], 'a list')])
def test_property_values_must_be_scalars(value, kind):
    with pytest.raises(GlanceError) as info:
        validate_properties({'ci_nested': value})
    assert str(info.value) == 'properties.ci_nested must be a string, a number or a boolean, got %s' % kind


@pytest.mark.parametrize('tags, words', [
    ([''], "tags must be non-empty strings, got ''"),
    (['t' * 256], "tag 'tttttttttttttttttttttttt\u2026' is 256 characters long; Glance allows at most 255"),
    (['a/b'], "tag 'a/b' contains a slash"),
])
def test_tags_glance_would_refuse(tags, words):
    with pytest.raises(GlanceError) as info:
        validate_tags(tags)
    assert str(info.value).startswith(words)


def test_names_of_at_most_255_characters():
    validate_name('n' * 255)
    with pytest.raises(GlanceError) as info:
        validate_name('n' * 256)
    assert str(info.value) == 'name is 256 characters long; Glance allows at most 255'
