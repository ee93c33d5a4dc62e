# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The legacy Image API v1 driver (Glance before Rocky): x-image-meta-* headers, PUT with purge-props."""

from __future__ import annotations

import re

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import Pages
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.base import (
    Capabilities, ImageDriver, request_path,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.filters import PROPERTY_FILTER_PREFIXES, query_text
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import NORMALIZED_KEYS, complete

# Filters a v1 listing takes, by image_info name -> query name.
FILTER_NAMES = {
    'name': 'name', 'status': 'status', 'disk_format': 'disk_format', 'container_format': 'container_format',
    'min_ram': 'min_ram', 'min_disk': 'min_disk', 'size_min': 'size_min', 'size_max': 'size_max',
    'protected': 'protected', 'changes_since': 'changes-since', 'changes-since': 'changes-since',
}
# Handled here rather than sent as they are: owner (compared here), visibility (is_public), property-<name>.
SPECIAL_FILTERS = ('owner', 'visibility')
_BOOLEANS = ('is_public', 'protected', 'deleted')
_INTEGERS = ('min_disk', 'min_ram', 'size', 'virtual_size')


def _path(image_id, *rest):
    """``/v1/images/<id>/<rest...>`` with every part quoted (and none that would change the path)."""
    return request_path('/v1/images', image_id, *rest)


# A header name is an RFC 7230 token; a value must be Latin-1 without control characters.
_HEADER_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


def _header_value_ok(value):
    try:
        str(value).encode('latin-1')
    except UnicodeEncodeError:
        return False
    return not _CONTROL.search(str(value))


def check_header_safe(name=None, properties=None):
    """Refuse, before any request, a name or property that cannot travel in v1's x-image-meta-* headers."""
    why = 'Image API v1 carries it in an HTTP header (Latin-1 text, no control characters)'
    if name is not None and not _header_value_ok(name):
        raise GlanceError('name %r cannot be sent to Image API v1: %s' % (name, why))
    for key, value in (properties or {}).items():
        if not _HEADER_TOKEN.match(str(key)):
            raise GlanceError('properties key %r cannot be sent to Image API v1: it becomes part of a header name '
                              '(letters, digits and !#$%%&\'*+-.^_`|~ only)' % (key,))
        if not _header_value_ok(value):
            raise GlanceError('properties.%s value %r cannot be sent to Image API v1: %s' % (key, value, why))


def v1_header_value(value):
    if isinstance(value, bool):
        return 'True' if value else 'False'
    return str(value)


def v1_meta_headers(fields, properties=None):
    """``x-image-meta-*`` headers for image ``fields`` and custom ``properties``."""
    headers = {}
    for key, value in fields.items():
        if value is not None:
            headers['x-image-meta-%s' % key] = v1_header_value(value)
    for key, value in (properties or {}).items():
        headers['x-image-meta-property-%s' % key] = v1_header_value(value)
    return headers


def image_fields(fields):
    """Image module option values as v1 image fields (visibility becomes is_public)."""
    converted = {}
    for option, value in fields.items():
        if value is None:
            continue
        if option == 'visibility':
            converted['is_public'] = value == 'public'
        else:
            converted[option] = value
    return converted


def headers_to_image(headers):
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
    for key in _BOOLEANS:
        if key in image:
            image[key] = str(image[key]).lower() == 'true'
    for key in _INTEGERS:
        if image.get(key) not in (None, '', 'None'):
            image[key] = int(image[key])
        elif key in image:
            image[key] = None
    return image


def update_headers(current_properties, changes):
    """(fields, properties, purge) for one v1 PUT of ``changes``.

    Without removals only what changes is sent and the server keeps the rest
    (purge off). Removing a property needs purge on, so then the complete
    property list that must remain is sent.
    """
    if changes.removed_properties:
        remaining = {key: value for key, value in current_properties.items()
                     if key not in changes.removed_properties}
        remaining.update(changes.set_properties)
        return image_fields(changes.fields), remaining, True
    return image_fields(changes.fields), dict(changes.set_properties), False


class ImageDriverV1(ImageDriver):
    version = '1'
    label = 'Image API v1'
    capabilities = Capabilities(
        tags=False, hidden=False, deactivation=False, member_status=False, can_share=True,
        member_list_replacement=True, members_need_shared=False, stores=False, multihash=False,
        visibilities=('public', 'private'),
        visibility_filters=('public', 'private'),
        filters=tuple(FILTER_NAMES) + SPECIAL_FILTERS + ('property-*',),
        import_methods=(),
    )
    strongest_digest = 'md5'

    # -- decoding and input checks ---------------------------------------
    def normalize(self, raw):
        """Normalize a v1 image document (from JSON or from HEAD headers, see ``headers_to_image``)."""
        image = {key: raw.get(key) for key in NORMALIZED_KEYS if key in raw}
        image.update(
            visibility='public' if raw.get('is_public') else 'private',
            protected=bool(raw.get('protected', False)),
            hidden=False,
            tags=[],
            properties=dict(raw.get('properties') or {}),
            os_hash_algo=None,
            os_hash_value=None,
            api_version=self.version,
        )
        return complete(image)

    def check_record(self, name=None, properties=None):
        check_header_safe(name, properties)

    def canonical_properties(self, properties):
        # v1 carries property names in HTTP headers; the server stores them in lowercase.
        return {str(key).lower(): value for key, value in properties.items()}

    def list_query(self, filters, name=None):
        """Query pairs for a v1 listing, and the owner to compare here (v1 cannot filter on it)."""
        params = [('name', name)] if name is not None else []
        filters = {key: value for key, value in (filters or {}).items() if value is not None}
        owner = filters.pop('owner', None)
        visibility = filters.pop('visibility', None)
        if visibility is not None:
            if not self.capabilities.offers('visibility_filters', visibility):
                raise self.lacks('visibility_filters', visibility, "visibility '%s'" % visibility)
            params.append(('is_public', 'true' if visibility == 'public' else 'false'))
        for key, value in filters.items():
            if key.startswith(PROPERTY_FILTER_PREFIXES):
                params.append((self.property_filter(key[len('property-'):]), query_text(value)))
            elif key in FILTER_NAMES:
                params.append((FILTER_NAMES[key], query_text(value)))
            else:
                raise self.lacks('filters', key, 'filter %s' % key)
        return params, owner

    def property_filter(self, name):
        return 'property-%s' % name

    def can_hide(self, raw):
        return False

    # -- images -----------------------------------------------------------
    def get(self, image_id):
        response = self.http.request('HEAD', _path(image_id), 'get_image', 'image %s' % image_id, tolerate=(404,))
        if response.status_code == 404:
            return None
        image = headers_to_image(response.headers)
        if image.get('properties') and image.get('name'):
            # HEAD answers carry property names re-capitalized by the server;
            # the JSON listing has them exactly as stored.
            for listed in self.list([('name', image['name'])]):
                if listed.get('id') == image.get('id'):
                    return listed
        return image

    def list(self, query=None, page_size=None):
        """Yield every image matching ``query``; v1 has no next link, so page by marker until empty."""
        base = list(query or []) + [('limit', str(page_size or self.page_size))]
        path = '/v1/images/detail'
        pages = Pages(self.http.root, path, 'get_images')
        params = base
        pages.visit(path, params)
        while True:
            images = self.http.request('GET', path, 'get_images', params=params).json().get('images', [])
            if not images:
                return
            # A server that ignores the marker sends the same page again: caught before it is yielded.
            params = base + [('marker', images[-1]['id'])]
            pages.visit(path, params)
            yield from images

    def data_algorithms(self, image):
        return {'md5'}

    def find_by_name(self, name, owner=None, include_shared_pending=False):
        query = [('name', name)]
        if owner:
            # Without it, Pike lists an admin no other project's private image (a second one would be made).
            query.append(('is_public', 'None'))
        return [image for image in self.list(query) if not owner or image.get('owner') == owner]

    def create(self, fields, properties=None, tags=()):
        """Create the record; ``fields`` carries the new image's ``id``, which makes the POST safe to repeat."""
        if tags:
            raise self.lacks('tags')
        headers = v1_meta_headers(image_fields(fields), {k: str(v) for k, v in (properties or {}).items()})
        response = self.http.request('POST', '/v1/images', 'add_image', 'image %s' % fields.get('name', ''),
                                     headers=headers, ok=(201,), idempotent='id' in fields, tolerate=(409,))
        if response.status_code == 201:
            return response.json()['image']
        return self.created_by_earlier_attempt(response, fields['id'], fields.get('name'))

    def update(self, raw, changes, keep=False):
        """One PUT; v1 saves only what it is sent, so concurrent writers cannot undo it (``keep`` has nothing to do)."""
        if changes.tags_added or changes.tags_removed:
            raise self.lacks('tags')
        fields, properties, purge = update_headers(self.normalize(raw)['properties'], changes)
        headers = v1_meta_headers(fields, properties)
        # Without this header a v1 PUT drops every property it does not repeat.
        headers['x-glance-registry-purge-props'] = 'true' if purge else 'false'
        return self.http.request('PUT', _path(raw['id']), 'modify_image', 'image %s' % raw['id'],
                                 headers=headers).json()['image']

    def upload(self, image_id, body, size):
        # The body knows its length (len()), so the client sends Content-Length itself.
        headers = {'Content-Type': 'application/octet-stream', 'x-image-meta-size': str(size),
                   'x-glance-registry-purge-props': 'false'}
        return self.http.request('PUT', _path(image_id), 'upload_image', 'image %s' % image_id,
                                 data=body, headers=headers, idempotent=False).json()['image']

    def download(self, image_id, chunk_size=1024 * 1024):
        response = self.http.request('GET', _path(image_id), 'download_image', 'image %s' % image_id, stream=True)
        return response.iter_content(chunk_size=chunk_size)

    def delete(self, image_id):
        self.http.request('DELETE', _path(image_id), 'delete_image', 'image %s' % image_id,
                          ok=(200, 204), tolerate=(404,))

    def deactivate(self, image_id):
        raise self.lacks('deactivation')

    def reactivate(self, image_id):
        raise self.lacks('deactivation')

    def import_methods(self):
        return []

    def import_from_url(self, image_id, url):
        raise self.lacks('import_methods', 'web-download', 'import method web-download')

    # -- members ----------------------------------------------------------
    def members(self, image_id):
        body = self.http.request('GET', _path(image_id, 'members'), 'get_members', 'image %s' % image_id).json()
        # The API reference calls the list "memberships"; servers answer "members".
        listed = body.get('members', body.get('memberships', []))
        return [normalize_member(member) for member in listed]

    def add_member(self, image_id, member_id, can_share=None):
        """Add or update a member. ``can_share`` None keeps an existing member's value (new: false)."""
        body = None if can_share is None else {'member': {'can_share': bool(can_share)}}
        # Pike checks both member PUTs against modify_member (add_member is the v2 rule).
        self.http.request('PUT', _path(image_id, 'members', member_id), 'modify_member',
                          'image %s member %s' % (image_id, member_id), json_body=body, ok=(200, 204))
        return True

    def remove_member(self, image_id, member_id):
        response = self.http.request('DELETE', _path(image_id, 'members', member_id), 'delete_member',
                                     'image %s member %s' % (image_id, member_id), ok=(200, 204), tolerate=(404,))
        return response.status_code != 404 or response.retried

    def set_member_status(self, image_id, member_id, status):
        raise self.lacks('member_status', what='member status (accepting or rejecting an image)')

    def replace_members(self, image_id, memberships):
        body = {'memberships': [
            dict(member_id=m['member_id'], **({} if m.get('can_share') is None else {'can_share': bool(m['can_share'])}))
            for m in memberships
        ]}
        self.http.request('PUT', _path(image_id, 'members'), 'modify_member', 'image %s' % image_id,
                          json_body=body, ok=(200, 204))


def normalize_member(member):
    return {
        'member_id': member.get('member_id'),
        'status': None,
        'can_share': bool(member.get('can_share', False)),
        'created_at': member.get('created_at'),
        'updated_at': member.get('updated_at'),
    }
