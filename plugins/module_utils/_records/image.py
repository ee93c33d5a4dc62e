# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Image records, pure: the normalized shape every driver decodes into, input checks, and diffs.

No server and no API version here: the drivers turn records and ``RecordChanges``
into requests, and answers into records.
"""

from __future__ import annotations

import re

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError

UUID_PATTERN = re.compile(r'^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$')

# Prefix of properties Glance reserves for itself (set by the server, never by users).
RESERVED_PREFIX = 'os_glance'

# Property a replacement image carries, naming the image it replaces, until the swap
# is complete (image with replace_data); a re-run that finds it resumes the swap.
REPLACES_PROPERTY = 'cloudimage_replaces'

# Statuses in which the server is taking data into an image, on its way to active.
FILLING_STATUSES = ('saving', 'importing', 'uploading')

# Attributes every normalized image carries, in a stable order.
NORMALIZED_KEYS = (
    'id', 'name', 'status', 'visibility', 'protected', 'hidden', 'disk_format', 'container_format',
    'min_disk', 'min_ram', 'size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value', 'owner',
    'created_at', 'updated_at', 'tags', 'properties', 'api_version',
)


def looks_like_uuid(value):
    return bool(UUID_PATTERN.match(str(value)))


def property_string(value):
    """The string form Glance stores a custom property value in.

    Booleans are written the way Python-based clients and Glance's own
    metadata definitions spell them (``True`` / ``False``), so that a task
    saying ``hw_qemu_guest_agent: true`` compares equal to what is stored.
    """
    if isinstance(value, bool):
        return 'True' if value else 'False'
    if value is None:
        return ''
    return str(value)


def complete(image):
    """``image`` with every normalized key, in the stable order (drivers finish their decoding with it)."""
    return {key: image.get(key) for key in NORMALIZED_KEYS}


def describe(image):
    """How messages name an image (normalized or raw)."""
    return 'image %s (%s)' % (image.get('name'), image.get('id'))


def replaced_id(raw):
    """The ID of the image that the raw (v1 or v2) image document is replacing, or None."""
    return raw.get(REPLACES_PROPERTY) or (raw.get('properties') or {}).get(REPLACES_PROPERTY)


def settle_replacements(matches):
    """(images, replacements in progress) among same-named images.

    A replacement whose image still exists does not count as a second image of
    that name: until the swap is complete, the image being replaced is the image.
    An image in status deleted is gone, even where Glance left it listed (a
    delete that failed half-way on its database).
    """
    matches = [image for image in matches if image.get('status') != 'deleted']
    listed = {image['id'] for image in matches}
    in_progress = [image for image in matches if replaced_id(image) in listed]
    images = [image for image in matches if image not in in_progress]
    return images, in_progress


def creation_order(image):
    """The order concurrent writers agree on: created_at (Glance's answers show whole seconds), then ID."""
    return (image.get('created_at') or '', image['id'])


def oldest(images):
    """The image that wins among same-named ones made at the same time (None when there is none)."""
    return min(images, key=creation_order) if images else None


def replacements_of(matches, image_id):
    """The replacements of ``image_id`` among ``matches`` (raw images), oldest first; deleted ones left out."""
    return sorted((image for image in matches if image.get('status') != 'deleted' and replaced_id(image) == image_id),
                  key=creation_order)


def race_winner(images):
    """The one image among same-named ``images`` that a race of creators left, or None.

    Only the oldest may hold data while a race is on: the others are records
    their creators have yet to delete, still queued. Anything else is two
    images, not a race.
    """
    winner = oldest(images)
    if winner is None or any(image['status'] != 'queued' for image in images if image is not winner):
        return None
    return winner


# Image attributes the image module manages, by option name (in diff order).
MANAGED_FIELDS = ('name', 'disk_format', 'container_format', 'visibility', 'protected', 'hidden',
                  'min_disk', 'min_ram', 'owner')
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


# Path segments HTTP clients remove (RFC 3986 dot segments): a request naming one goes elsewhere.
DOT_SEGMENTS = ('.', '..')


def refuse_nul(what, value):
    """Glance stores a NUL character, but no client shows or matches it: refuse it in any text."""
    if '\x00' in str(value):
        raise GlanceError('%s %r contains a NUL character' % (what, value))


def validate_name(name):
    if name is not None and len(name) > GLANCE_STRING_LIMIT:
        raise GlanceError('name is %d characters long; Glance allows at most %d' % (len(name), GLANCE_STRING_LIMIT))
    if name is not None:
        refuse_nul('name', name)


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
        if tag in DOT_SEGMENTS:
            raise GlanceError('tag %r cannot be sent: a tag travels in the request path, where %r is a dot segment '
                              'that HTTP clients drop' % (tag, tag))
        refuse_nul('tag', tag)


def validate_properties(properties):
    """Refuse custom properties that Glance would refuse or that belong to an option."""
    for key, value in (properties or {}).items():
        if key == '':
            raise GlanceError('properties keys must be non-empty strings, got an empty key')
        refuse_nul('properties key', key)
        if value is None:
            # Glance would store '' for it: say how to store that, or to remove the property.
            raise GlanceError('properties.%s is null; give a value (quote it to store an empty string), or leave the '
                              'key out with purge_properties: true to remove the property' % key)
        if not isinstance(value, (str, int, float, bool)):
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
        refuse_nul('properties.%s value' % key, value)


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


class RecordChanges:
    """What one write changes on an image record, in the image module's option names.

    ``fields``: managed attributes with their new values; ``set_properties``:
    custom properties with their new (string) values; ``removed_properties``:
    names to remove; ``tags_added`` / ``tags_removed``: tags.
    """

    def __init__(self, fields=None, set_properties=None, removed_properties=(), tags_added=(), tags_removed=(),
                 target=None):
        self.fields = dict(fields or {})
        self.set_properties = dict(set_properties or {})
        self.removed_properties = sorted(removed_properties)
        self.tags_added = sorted(tags_added)
        self.tags_removed = sorted(tags_removed)
        self.target = target or RecordTarget()

    def __bool__(self):
        return bool(self.fields or self.set_properties or self.removed_properties or self.tags_added
                    or self.tags_removed)


class RecordTarget:
    """The whole state a task wants an image record in, beyond what it changes (checked after writing).

    ``fields`` and ``properties`` (strings): values the record must show;
    ``purge_properties``: no other custom property; ``tags`` / ``absent_tags``:
    tags that must be there / not there; ``purge_tags``: no other tag.
    """

    def __init__(self, fields=None, properties=None, purge_properties=False, tags=(), absent_tags=(),
                 purge_tags=False):
        self.fields = dict(fields or {})
        self.properties = dict(properties or {})
        self.purge_properties = purge_properties
        self.tags = set(tags)
        self.absent_tags = set(absent_tags)
        self.purge_tags = purge_tags


def tag_changes(current, tags, state, purge):
    """Tags to add and to remove (each sorted) so that ``current`` matches an image_tag task."""
    current = set(current or [])
    if state == 'absent':
        target = current - set(tags)
    else:
        target = tag_target(current, tags, purge)
        target = current if target is None else set(target)
    return sorted(target - current), sorted(current - target)
