# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure functions: what must change on an image record, as a v2 json-patch or v1 headers."""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.images import (
    REPLACES_PROPERTY, RESERVED_PREFIX, property_string,
)

# Image attributes the image module manages, by option name (in diff order).
MANAGED_FIELDS = ('name', 'disk_format', 'container_format', 'visibility', 'protected', 'hidden',
                  'min_disk', 'min_ram', 'owner')
# Option name -> key of the v2 image document, where they differ.
V2_KEYS = {'hidden': 'os_hidden'}
# Option name -> v1 x-image-meta-* field, where they differ (visibility is converted).
V1_KEYS = {'visibility': 'is_public'}
V1_FIELDS = ('name', 'disk_format', 'container_format', 'visibility', 'protected', 'min_disk', 'min_ram', 'owner')

READ_ONLY_PROPERTIES = frozenset((
    'id', 'status', 'checksum', 'size', 'virtual_size', 'os_hash_algo', 'os_hash_value', 'created_at',
    'updated_at', 'self', 'file', 'schema', 'direct_url', 'locations', 'location', 'stores', 'deleted',
    'deleted_at', 'is_public',
))
OPTION_PROPERTIES = frozenset(MANAGED_FIELDS + ('os_hidden', 'tags'))


# Glance's schema: names and tags are at most 255 characters.
GLANCE_STRING_LIMIT = 255


def shortened(text, length=24):
    return text if len(text) <= length else text[:length] + '\u2026'


def validate_name(name):
    if name is not None and len(name) > GLANCE_STRING_LIMIT:
        raise GlanceError('name is %d characters long; Glance allows at most %d' % (len(name), GLANCE_STRING_LIMIT))


def validate_tags(tags):
    """Tags Glance would take: non-empty strings of at most 255 characters."""
    for tag in tags or []:
        if not isinstance(tag, str) or not tag.strip():
            raise GlanceError('tags must be non-empty strings, got %r' % (tag,))
        if len(tag) > GLANCE_STRING_LIMIT:
            raise GlanceError('tag %r is %d characters long; Glance allows at most %d'
                              % (shortened(tag), len(tag), GLANCE_STRING_LIMIT))
        if '/' in tag:
            # A tag travels in the URL path of its own call (PUT /v2/images/<id>/tags/<tag>).
            raise GlanceError('tag %r contains a slash, which Glance cannot take in a tag' % (tag,))


def validate_properties(properties):
    """Refuse custom properties that Glance would refuse or that belong to an option."""
    for key, value in (properties or {}).items():
        if value is not None and not isinstance(value, (str, int, float, bool)):
            kind = 'a mapping' if isinstance(value, dict) else 'a list' if isinstance(value, list) else \
                type(value).__name__
            raise GlanceError('properties.%s must be a string, a number or a boolean, got %s' % (key, kind))
        if key in READ_ONLY_PROPERTIES:
            raise GlanceError('property %r is read-only in Glance and cannot be set' % key)
        if key.startswith(RESERVED_PREFIX):
            raise GlanceError('property %r is reserved by Glance (prefix %s)' % (key, RESERVED_PREFIX))
        if key == REPLACES_PROPERTY:
            raise GlanceError('property %r is kept by this collection while it replaces image data' % key)
        if key in OPTION_PROPERTIES:
            raise GlanceError('property %r is an image attribute: set it with the %s option'
                              % (key, 'hidden' if key == 'os_hidden' else key))


def managed_state(image):
    """What the image module manages, from a normalized image (the diff's before/after)."""
    state = {field: image.get(field) for field in MANAGED_FIELDS}
    state['properties'] = dict(image.get('properties') or {})
    state['tags'] = sorted(image.get('tags') or [])
    return state


def field_changes(current, desired):
    """Managed attributes whose desired value differs from the normalized ``current`` image.

    ``desired`` holds only options the task gave: an option left out is left alone.
    """
    return {field: value for field, value in desired.items()
            if value is not None and current.get(field) != value}


def property_changes(current, desired, purge):
    """(properties to set, as strings; names to remove)."""
    wanted = {key: property_string(value) for key, value in (desired or {}).items()}
    to_set = {key: value for key, value in wanted.items() if current.get(key) != value}
    to_remove = sorted(key for key in current if key not in wanted) if purge else []
    return to_set, to_remove


def tag_target(current, desired, purge):
    """The tag list the image should end with, or None when it should not change."""
    if desired is None:
        return None
    target = set(desired) if purge else set(current) | set(desired)
    return sorted(target) if target != set(current) else None


def _pointer(key):
    return '/' + key.replace('~', '~0').replace('/', '~1')


def v2_patch(current_raw, fields, to_set, to_remove, tags):
    """One json-patch (v2.1 media type) for all changes: add where a key is absent, else replace."""
    operations = []
    for option, value in fields.items():
        key = V2_KEYS.get(option, option)
        operations.append({'op': 'replace' if key in current_raw else 'add', 'path': _pointer(key), 'value': value})
    for key, value in to_set.items():
        operations.append({'op': 'replace' if key in current_raw else 'add', 'path': _pointer(key), 'value': value})
    for key in to_remove:
        operations.append({'op': 'remove', 'path': _pointer(key)})
    if tags is not None:
        operations.append({'op': 'replace', 'path': '/tags', 'value': list(tags)})
    return operations


def v2_create_body(fields, properties, tags):
    body = {V2_KEYS.get(option, option): value for option, value in fields.items() if value is not None}
    body.update({key: property_string(value) for key, value in (properties or {}).items()})
    if tags:
        body['tags'] = sorted(set(tags))
    return body


def v1_fields(fields):
    """Option values as v1 image fields (visibility becomes is_public)."""
    converted = {}
    for option, value in fields.items():
        if value is None:
            continue
        if option == 'visibility':
            converted['is_public'] = value == 'public'
        else:
            converted[V1_KEYS.get(option, option)] = value
    return converted


def v1_update(current_properties, fields, to_set, to_remove):
    """(fields, properties, purge) for one v1 PUT.

    Without removals only what changes is sent and the server keeps the rest
    (purge off). Removing a property needs purge on, so then the complete
    property list that must remain is sent.
    """
    if to_remove:
        remaining = {key: value for key, value in current_properties.items() if key not in to_remove}
        remaining.update(to_set)
        return v1_fields(fields), remaining, True
    return v1_fields(fields), dict(to_set), False
