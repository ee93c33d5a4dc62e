# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure functions about image records: one normalized shape for v1 and v2."""

from __future__ import annotations

import re

UUID_PATTERN = re.compile(r'^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$')

# Keys of a v2 image document that are not custom properties.
V2_BASE_KEYS = frozenset((
    'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'disk_format', 'container_format',
    'min_disk', 'min_ram', 'size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value', 'owner',
    'created_at', 'updated_at', 'tags', 'self', 'file', 'schema', 'direct_url', 'locations', 'stores',
    'deleted', 'deleted_at',
))
# Prefix of properties Glance reserves for itself (set by the server, never by users).
RESERVED_PREFIX = 'os_glance'

# Property a replacement image carries, naming the image it replaces, until the swap
# is complete (image with replace_data); a re-run that finds it resumes the swap.
REPLACES_PROPERTY = 'cloudimage_replaces'

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


def normalize_v2(raw):
    """Normalize a v2 image document."""
    properties = {
        key: value for key, value in raw.items()
        if key not in V2_BASE_KEYS and not key.startswith(RESERVED_PREFIX)
    }
    image = {key: raw.get(key) for key in NORMALIZED_KEYS if key in raw}
    image.update(
        hidden=bool(raw.get('os_hidden', False)),
        protected=bool(raw.get('protected', False)),
        tags=sorted(raw.get('tags') or []),
        properties=properties,
        api_version='2',
    )
    return _complete(image)


def normalize_v1(raw):
    """Normalize a v1 image document (from JSON or from HEAD headers, see ``v1_headers_to_image``)."""
    image = {key: raw.get(key) for key in NORMALIZED_KEYS if key in raw}
    image.update(
        visibility='public' if raw.get('is_public') else 'private',
        protected=bool(raw.get('protected', False)),
        hidden=False,
        tags=[],
        properties=dict(raw.get('properties') or {}),
        os_hash_algo=None,
        os_hash_value=None,
        api_version='1',
    )
    return _complete(image)


def _complete(image):
    return {key: image.get(key) for key in NORMALIZED_KEYS}


_V1_BOOLEANS = ('is_public', 'protected', 'deleted')
_V1_INTEGERS = ('min_disk', 'min_ram', 'size', 'virtual_size')


def v1_headers_to_image(headers):
    """Turn the ``X-Image-Meta-*`` headers of a v1 HEAD answer into the v1 JSON shape."""
    image = {'properties': {}}
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith('x-image-meta-property-'):
            # Header names lose their case on the way; Glance sends them as stored,
            # requests keeps what it received.
            image['properties'][name[len('x-image-meta-property-'):]] = value
        elif lower.startswith('x-image-meta-'):
            image[lower[len('x-image-meta-'):]] = value
    for key in _V1_BOOLEANS:
        if key in image:
            image[key] = str(image[key]).lower() == 'true'
    for key in _V1_INTEGERS:
        if image.get(key) not in (None, '', 'None'):
            image[key] = int(image[key])
        elif key in image:
            image[key] = None
    return image


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
