# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import (
    NORMALIZED_KEYS, REPLACES_PROPERTY, RecordChanges, complete, describe, field_changes, looks_like_uuid,
    managed_state, property_changes, property_string, replaced_id, settle_replacements, tag_changes, tag_target,
    validate_name, validate_properties, validate_tags,
)

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


def test_an_image_glance_left_in_status_deleted_is_gone_for_name_lookups():
    stuck = {'id': 'a', 'name': 'ci', 'status': 'deleted'}
    live = {'id': 'b', 'name': 'ci', 'status': 'active'}
    assert settle_replacements([stuck, live]) == ([live], [])
    assert settle_replacements([stuck]) == ([], [])


def test_a_replacement_whose_image_exists_is_no_second_image():
    old = {'id': 'a', 'name': 'ci', 'status': 'active'}
    v2_replacement = {'id': 'b', 'name': 'ci', 'status': 'active', REPLACES_PROPERTY: 'a'}
    v1_replacement = {'id': 'c', 'name': 'ci', 'status': 'active', 'properties': {REPLACES_PROPERTY: 'a'}}
    assert replaced_id(v2_replacement) == replaced_id(v1_replacement) == 'a' and replaced_id(old) is None
    assert settle_replacements([old, v2_replacement]) == ([old], [v2_replacement])
    # Once the image it replaces is gone, the replacement is the image.
    assert settle_replacements([v1_replacement]) == ([v1_replacement], [])


# -- image_tag ---------------------------------------------------------------------
@pytest.mark.parametrize('current, tags, state, purge, added, removed', [
    (['a'], ['a', 'b'], 'present', False, ['b'], []),
    (['a', 'c'], ['a', 'b'], 'present', True, ['b'], ['c']),
    (['a', 'c'], [], 'present', True, [], ['a', 'c']),
    (['a', 'c'], [], 'present', False, [], []),
    (['a', 'c'], ['c', 'x'], 'absent', False, [], ['c']),
    (['a'], ['a'], 'present', True, [], []),
])
def test_tag_changes(current, tags, state, purge, added, removed):
    assert tag_changes(current, tags, state, purge) == (added, removed)


# -- records ---------------------------------------------------------------------------
def test_complete_gives_every_normalized_key_in_order():
    image = complete({'tags': [], 'id': 'x', 'unknown': 1})
    assert list(image) == list(NORMALIZED_KEYS)
    assert image['id'] == 'x' and image['name'] is None and 'unknown' not in image


def test_describe_names_an_image_by_name_and_id():
    assert describe({'id': 'x', 'name': 'ci'}) == 'image ci (x)'


def test_managed_state_is_what_the_diff_shows():
    image = dict(complete(dict(CURRENT, id='x', tags=['b', 'a'], properties={'os_distro': 'cirros'})), size=5)
    assert managed_state(image) == dict(CURRENT, tags=['a', 'b'], properties={'os_distro': 'cirros'})


def test_record_changes_are_sorted_and_false_when_empty():
    assert not RecordChanges()
    changes = RecordChanges({'min_ram': 64}, {'a': '1'}, ['z', 'b'], tags_added={'y', 'x'}, tags_removed=['q'])
    assert changes and changes.removed_properties == ['b', 'z'] and changes.tags_added == ['x', 'y']
    assert RecordChanges(tags_removed=['q'])


@pytest.mark.parametrize('tag', ['.', '..'])
def test_dot_segment_tags_are_refused(tag):
    # A tag travels as a path segment; HTTP clients drop '.' and '..' segments (removing '..'
    # would be sent as DELETE /v2/images/<id>/).
    with pytest.raises(GlanceError) as info:
        validate_tags([tag])
    assert str(info.value) == ('tag %r cannot be sent: a tag travels in the request path, where %r is a dot '
                               'segment that HTTP clients drop' % (tag, tag))


def test_dot_like_tags_that_are_no_dot_segment_are_accepted():
    validate_tags(['...', '.hidden', 'v1.0'])


def test_nul_characters_are_refused_everywhere():
    with pytest.raises(GlanceError) as info:
        validate_name('ci\x00x')
    assert str(info.value) == "name 'ci\\x00x' contains a NUL character"
    with pytest.raises(GlanceError) as info:
        validate_tags(['gold\x00en'])
    assert str(info.value) == "tag 'gold\\x00en' contains a NUL character"
    with pytest.raises(GlanceError) as info:
        validate_properties({'ci\x00key': 'x'})
    assert str(info.value) == "properties key 'ci\\x00key' contains a NUL character"
    with pytest.raises(GlanceError) as info:
        validate_properties({'ci_note': 'a\x00b'})
    assert str(info.value) == "properties.ci_note value 'a\\x00b' contains a NUL character"


def test_an_empty_property_key_is_refused():
    with pytest.raises(GlanceError) as info:
        validate_properties({'': 'x'})
    assert str(info.value) == 'properties keys must be non-empty strings, got an empty key'


def test_a_null_property_value_is_refused_naming_the_key():
    with pytest.raises(GlanceError) as info:
        validate_properties({'ci_gone': None})
    assert str(info.value) == ('properties.ci_gone is null; give a value (quote it to store an empty string), or '
                               'leave the key out with purge_properties: true to remove the property')
