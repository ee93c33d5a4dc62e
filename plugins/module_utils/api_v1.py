# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Legacy Image API v1 adapter (Glance before Rocky)."""

from __future__ import annotations

import re

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.images import normalize_v1, v1_headers_to_image
from ansible_collections.cloudimage.glance.plugins.module_utils.transport import created_by_earlier_attempt, image_path

PAGE_SIZE = 200


def _path(image_id, *rest):
    return image_path('1', image_id, *rest)


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


class ImageApiV1:
    version = '1'

    def __init__(self, http):
        self.http = http

    normalize = staticmethod(normalize_v1)

    # -- images ---------------------------------------------------------
    def get(self, image_id):
        response = self.http.request('HEAD', _path(image_id), 'get_image', 'image %s' % image_id, tolerate=(404,))
        if response.status_code == 404:
            return None
        image = v1_headers_to_image(response.headers)
        if image.get('properties') and image.get('name'):
            # HEAD answers carry property names re-capitalized by the server;
            # the JSON listing has them exactly as stored.
            for listed in self.list([('name', image['name'])]):
                if listed.get('id') == image.get('id'):
                    return listed
        return image

    def list(self, filters=None, page_size=PAGE_SIZE):
        """Yield every image matching ``filters``; v1 has no next link, so page by marker until empty."""
        base = list(filters or [])
        marker = None
        while True:
            params = base + [('limit', str(page_size))]
            if marker:
                params.append(('marker', marker))
            images = self.http.request('GET', '/v1/images/detail', 'get_images', params=params).json().get('images', [])
            if not images:
                return
            yield from images
            marker = images[-1]['id']

    def find_by_name(self, name, owner=None, include_shared_pending=False):
        images = self.list([('name', name)])
        return [image for image in images if not owner or image.get('owner') == owner]

    def create(self, fields, properties=None):
        """Create the image record; ``fields`` carries the new image's ``id``, which makes the POST safe to repeat."""
        headers = v1_meta_headers(fields, properties)
        response = self.http.request('POST', '/v1/images', 'add_image', 'image %s' % fields.get('name', ''),
                                     headers=headers, ok=(201,), idempotent='id' in fields, tolerate=(409,))
        if response.status_code == 201:
            return response.json()['image']
        return created_by_earlier_attempt(self, response, fields)

    def update(self, image_id, fields, properties=None, purge_properties=False):
        headers = v1_meta_headers(fields, properties)
        # Without this header a v1 PUT drops every property it does not repeat.
        headers['x-glance-registry-purge-props'] = 'true' if purge_properties else 'false'
        return self.http.request('PUT', _path(image_id), 'modify_image', 'image %s' % image_id,
                                 headers=headers).json()['image']

    def upload(self, image_id, body, size):
        # The body knows its length (len()), so the client sends Content-Length itself.
        headers = {'Content-Type': 'application/octet-stream', 'x-image-meta-size': str(size),
                   'x-glance-registry-purge-props': 'false'}
        return self.http.request('PUT', _path(image_id), 'upload_image', 'image %s' % image_id,
                                 data=body, headers=headers, idempotent=False).json()['image']

    def delete(self, image_id):
        self.http.request('DELETE', _path(image_id), 'delete_image', 'image %s' % image_id,
                          ok=(200, 204), tolerate=(404,))

    # -- members --------------------------------------------------------
    def members(self, image_id):
        body = self.http.request('GET', _path(image_id, 'members'), 'get_members', 'image %s' % image_id).json()
        # The API reference calls the list "memberships"; servers answer "members".
        listed = body.get('members', body.get('memberships', []))
        return [normalize_member_v1(member) for member in listed]

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

    def replace_members(self, image_id, memberships):
        """Replace the whole member list in one call; ``memberships``: dicts with member_id and optional can_share."""
        body = {'memberships': [
            dict(member_id=m['member_id'], **({} if m.get('can_share') is None else {'can_share': bool(m['can_share'])}))
            for m in memberships
        ]}
        self.http.request('PUT', _path(image_id, 'members'), 'modify_member', 'image %s' % image_id,
                          json_body=body, ok=(200, 204))

    def set_member_status(self, image_id, member_id, status):
        raise GlanceError('member status (accept / reject) exists only in Image API v2')


def normalize_member_v1(member):
    return {
        'member_id': member.get('member_id'),
        'status': None,
        'can_share': bool(member.get('can_share', False)),
        'created_at': member.get('created_at'),
        'updated_at': member.get('updated_at'),
    }
