# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Image API v2 adapter."""

from __future__ import annotations

import json

from urllib.parse import parse_qsl, urlsplit

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.images import normalize_v2
from ansible_collections.cloudimage.glance.plugins.module_utils.transport import (
    created_by_earlier_attempt, error_from_response, image_path,
)

PATCH_MEDIA_TYPE = 'application/openstack-images-v2.1-json-patch'
PAGE_SIZE = 200


def _path(image_id, *rest):
    return image_path('2', image_id, *rest)


class ImageApiV2:
    version = '2'

    def __init__(self, http):
        self.http = http

    normalize = staticmethod(normalize_v2)

    # -- images ---------------------------------------------------------
    def get(self, image_id):
        """The image document, or None when there is no such image (or it is not visible)."""
        response = self.http.request('GET', _path(image_id), 'get_image', 'image %s' % image_id, tolerate=(404,))
        return None if response.status_code == 404 else response.json()

    def list(self, filters=None, page_size=PAGE_SIZE):
        """Yield every image matching ``filters`` (a list of (key, value) pairs), all pages followed."""
        params = list(filters or []) + [('limit', str(page_size))]
        path = '/v2/images'
        while True:
            response = self.http.request('GET', path, 'get_images', params=params)
            body = response.json()
            yield from body.get('images', [])
            following = body.get('next')
            if not following:
                return
            split = urlsplit(following)
            path = split.path
            if not path.startswith('/v2/'):
                # The endpoint root has a path prefix: keep only what follows it.
                path = path[path.index('/v2/'):]
            params = parse_qsl(split.query, keep_blank_values=True)

    def hash_algorithm(self):
        """The multihash algorithm of this server, as an active image shows it ('' for none), or None if unseen."""
        listed = self.http.request('GET', '/v2/images', 'get_images',
                                   params=[('status', 'active'), ('limit', '1')]).json().get('images', [])
        return str(listed[0].get('os_hash_algo') or '').lower() if listed else None

    def find_by_name(self, name, owner=None, include_shared_pending=False):
        filters = [('name', name)]
        if owner:
            filters.append(('owner', owner))
        if include_shared_pending:
            filters += [('visibility', 'all'), ('member_status', 'all')]
        # Listings leave hidden images out unless asked for them alone: ask both ways,
        # so a hidden image is found and a same-named pair is still seen as ambiguous.
        return list(self.list(filters)) + list(self.list(filters + [('os_hidden', 'true')]))

    def create(self, fields):
        """Create the image record; ``fields`` carries the new image's ``id``, which makes the POST safe to repeat."""
        response = self.http.request('POST', '/v2/images', 'add_image', 'image %s' % fields.get('name', ''),
                                     json_body=fields, ok=(201,), idempotent='id' in fields, tolerate=(409,))
        if response.status_code == 201:
            return response.json()
        return created_by_earlier_attempt(self, response, fields)

    def patch(self, image_id, operations):
        headers = {'Content-Type': PATCH_MEDIA_TYPE}
        response = self.http.request('PATCH', _path(image_id), 'modify_image', 'image %s' % image_id,
                                     data=json.dumps(operations), headers=headers, tolerate=(409,))
        if response.status_code != 409:
            return response.json()
        # A repeated patch conflicts when its first attempt already removed a key.
        current = self.get(image_id) if response.retried else None
        if current is None or not patch_applied(current, operations):
            raise error_from_response(response, 'modify_image', 'image %s' % image_id)
        return current

    def upload(self, image_id, body, size):
        # The body knows its length (len()), so the client sends Content-Length itself.
        headers = {'Content-Type': 'application/octet-stream'}
        # A streamed body cannot be sent twice here: the caller decides after reading the image again.
        self.http.request('PUT', _path(image_id, 'file'), 'upload_image', 'image %s' % image_id,
                          data=body, headers=headers, ok=(204,), idempotent=False)

    def download(self, image_id, chunk_size=1024 * 1024):
        """Yield the image's data in chunks, streamed."""
        response = self.http.request('GET', _path(image_id, 'file'), 'download_image', 'image %s' % image_id,
                                     stream=True)
        return response.iter_content(chunk_size=chunk_size)

    def delete(self, image_id):
        self.http.request('DELETE', _path(image_id), 'delete_image', 'image %s' % image_id,
                          ok=(204,), tolerate=(404,))

    def deactivate(self, image_id):
        # Deactivating a deactivated image is a no-op for Glance: safe to repeat.
        self.http.request('POST', _path(image_id, 'actions', 'deactivate'), 'deactivate',
                          'image %s' % image_id, ok=(204,), idempotent=True)

    def reactivate(self, image_id):
        self.http.request('POST', _path(image_id, 'actions', 'reactivate'), 'reactivate',
                          'image %s' % image_id, ok=(204,), idempotent=True)

    def import_methods(self):
        body = self.http.request('GET', '/v2/info/import', 'get_import_info').json()
        return list(body.get('import-methods', {}).get('value', []))

    def import_from_url(self, image_id, url):
        body = {'method': {'name': 'web-download', 'uri': url}}
        # Repeated after an unanswered attempt, the import conflicts with the one already running.
        response = self.http.request('POST', _path(image_id, 'import'), 'import_image', 'image %s' % image_id,
                                     json_body=body, ok=(202,), idempotent=True, tolerate=(409,))
        if response.status_code == 409 and not response.retried:
            raise error_from_response(response, 'import_image', 'image %s' % image_id)

    # -- tags -----------------------------------------------------------
    def add_tag(self, image_id, tag):
        self.http.request('PUT', _path(image_id, 'tags', tag), 'modify_image',
                          'image %s tag %s' % (image_id, tag), ok=(204,))

    def remove_tag(self, image_id, tag):
        self.http.request('DELETE', _path(image_id, 'tags', tag), 'modify_image',
                          'image %s tag %s' % (image_id, tag), ok=(204,), tolerate=(404,))

    # -- members --------------------------------------------------------
    def members(self, image_id):
        body = self.http.request('GET', _path(image_id, 'members'), 'get_members', 'image %s' % image_id).json()
        return [normalize_member_v2(member) for member in body.get('members', [])]

    def add_member(self, image_id, member_id, can_share=None):
        """Add a member; returns False when it was already there (another writer won the race)."""
        if can_share is not None:
            raise GlanceError('can_share exists only in Image API v1; v2 members cannot re-share')
        response = self.http.request('POST', _path(image_id, 'members'), 'add_member',
                                     'image %s member %s' % (image_id, member_id),
                                     json_body={'member': member_id}, idempotent=True, tolerate=(409,))
        return response.status_code != 409 or response.retried

    def remove_member(self, image_id, member_id):
        """Remove a member; returns False when it was already gone."""
        response = self.http.request('DELETE', _path(image_id, 'members', member_id), 'delete_member',
                                     'image %s member %s' % (image_id, member_id), ok=(204,), tolerate=(404,))
        return response.status_code != 404 or response.retried

    def set_member_status(self, image_id, member_id, status):
        body = self.http.request('PUT', _path(image_id, 'members', member_id), 'modify_member',
                                 'image %s member %s' % (image_id, member_id),
                                 json_body={'status': status}).json()
        return normalize_member_v2(body)


def normalize_member_v2(member):
    return {
        'member_id': member.get('member_id'),
        'status': member.get('status'),
        'can_share': None,
        'created_at': member.get('created_at'),
        'updated_at': member.get('updated_at'),
    }


def patch_applied(document, operations):
    """True when the image ``document`` already shows every operation of a json-patch."""
    for operation in operations:
        key = operation['path'][1:].replace('~1', '/').replace('~0', '~')
        if operation['op'] == 'remove':
            if key in document:
                return False
        elif key == 'tags':
            if sorted(document.get('tags') or []) != sorted(operation['value']):
                return False
        elif document.get(key) != operation['value']:
            return False
    return True
