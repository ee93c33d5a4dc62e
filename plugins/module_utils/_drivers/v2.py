# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Image API v2 driver: paths, json-patch encoding, decoding of image and member documents."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import Pages, error_from_response
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.base import (
    ANY, Capabilities, ImageDriver, request_path,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.lost_updates import ABSENT, Desired, Write
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.filters import query_text
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import (
    NORMALIZED_KEYS, RESERVED_PREFIX, complete, describe, property_string,
)

PATCH_MEDIA_TYPE = 'application/openstack-images-v2.1-json-patch'
# Glance on a server database may answer 404 to a write on an image that exists, when
# another write to it commits at the same moment: such a write is sent this many times in all.
NOT_FOUND_ATTEMPTS = 4

# Keys of a v2 image document that are not custom properties.
BASE_KEYS = frozenset((
    'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'disk_format', 'container_format',
    'min_disk', 'min_ram', 'size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value', 'owner',
    'created_at', 'updated_at', 'tags', 'self', 'file', 'schema', 'direct_url', 'locations', 'stores',
    'deleted', 'deleted_at',
))
# Option (and filter) name -> key of the v2 image document, where they differ.
KEYS = {'hidden': 'os_hidden'}


def _path(image_id, *rest):
    """``/v2/images/<id>/<rest...>`` with every part quoted (and none that would change the path)."""
    return request_path('/v2/images', image_id, *rest)


class ImageDriverV2(ImageDriver):
    version = '2'
    label = 'Image API v2'
    capabilities = Capabilities(
        tags=True, hidden=True, deactivation=True, member_status=True, can_share=False,
        member_list_replacement=False, members_need_shared=True, stores=True, multihash=True,
        visibilities=('public', 'private', 'shared', 'community'),
        # What a visibility filter takes is the server's to say (all, and values of later releases).
        visibility_filters=ANY,
        filters=ANY,
        import_methods=('web-download',),
    )
    strongest_digest = 'sha512'

    # -- decoding and input checks ---------------------------------------
    def normalize(self, raw):
        properties = {key: raw[key] for key in custom_property_keys(raw)}
        image = {key: raw.get(key) for key in NORMALIZED_KEYS if key in raw}
        image.update(
            hidden=bool(raw.get('os_hidden', False)),
            protected=bool(raw.get('protected', False)),
            tags=sorted(raw.get('tags') or []),
            properties=properties,
            api_version=self.version,
        )
        return complete(image)

    def check_record(self, name=None, properties=None):
        """JSON carries any name and property the records allow."""

    def canonical_properties(self, properties):
        return dict(properties)

    def list_query(self, filters, name=None):
        params = [('name', name)] if name is not None else []
        filters = dict(filters or {})
        tags = filters.pop('tags', None)
        if tags is None:
            tags = filters.pop('tag', None)
        else:
            filters.pop('tag', None)
        if isinstance(tags, str):
            tags = [tags]
        params += [('tag', str(tag)) for tag in tags or []]
        # A consumer's pending or rejected images are only listed with an explicit
        # visibility, so asking for a member status implies looking at all of them.
        if 'member_status' in filters and 'visibility' not in filters:
            filters['visibility'] = 'all'
        params += [(KEYS.get(key, key), query_text(value)) for key, value in filters.items() if value is not None]
        return params, None

    def property_filter(self, name):
        return name

    def can_hide(self, raw):
        """Whether the server keeps os_hidden (since Rocky; Pike's v2 refuses the key)."""
        return 'os_hidden' in raw

    # -- images -----------------------------------------------------------
    def get(self, image_id):
        """The image document, or None when there is no such image (or it is not visible)."""
        response = self.http.request('GET', _path(image_id), 'get_image', 'image %s' % image_id, tolerate=(404,))
        return None if response.status_code == 404 else response.json()

    def list(self, query=None, page_size=None):
        """Yield every image matching ``query`` (a list of (key, value) pairs), all pages followed."""
        params = list(query or []) + [('limit', str(page_size or self.page_size))]
        path = '/v2/images'
        pages = Pages(self.http.root, path, 'get_images')
        pages.visit(path, params)
        while True:
            body = self.http.request('GET', path, 'get_images', params=params).json()
            following = body.get('next')
            if following:
                path, params = next_page(following)
                # Before this page is yielded: a loop lists no image twice.
                pages.visit(path, params)
            yield from body.get('images', [])
            if not following:
                return

    def hash_algorithm(self):
        """The multihash algorithm of this server, as an active image shows it ('' for none), or None if unseen."""
        listed = self.http.request('GET', '/v2/images', 'get_images',
                                   params=[('status', 'active'), ('limit', '1')]).json().get('images', [])
        return str(listed[0].get('os_hash_algo') or '').lower() if listed else None

    def data_algorithms(self, image):
        """md5, and the multihash: the image's own algorithm, else the server's, else Glance's default sha512.

        Pike's v2 keeps md5 only: its images show no algorithm.
        """
        algorithm = image.get('os_hash_algo')
        if not algorithm:
            seen = self.hash_algorithm()
            algorithm = 'sha512' if seen is None else seen
        return {'md5'} | ({algorithm.lower()} if algorithm else set())

    def find_by_name(self, name, owner=None, include_shared_pending=False):
        query = [('name', name)]
        if owner:
            query.append(('owner', owner))
        if include_shared_pending:
            query += [('visibility', 'all'), ('member_status', 'all')]
        # Listings leave hidden images out unless asked for them alone: ask both ways,
        # so a hidden image is found and a same-named pair is still seen as ambiguous.
        return list(self.list(query)) + list(self.list(query + [('os_hidden', 'true')]))

    def create(self, fields, properties=None, tags=()):
        """Create the record; ``fields`` carries the new image's ``id``, which makes the POST safe to repeat."""
        body = {KEYS.get(option, option): value for option, value in fields.items() if value is not None}
        body.update({key: property_string(value) for key, value in (properties or {}).items()})
        if tags:
            body['tags'] = sorted(set(tags))
        response = self.http.request('POST', '/v2/images', 'add_image', 'image %s' % fields.get('name', ''),
                                     json_body=body, ok=(201,), idempotent='id' in fields, tolerate=(409,))
        if response.status_code == 201:
            return response.json()
        return self.created_by_earlier_attempt(response, fields['id'], fields.get('name'))

    def update(self, raw, changes, keep=False):
        """One json-patch for attributes and properties, then one call per tag.

        Tags go one call each, so a request never names a tag the task was not
        asked to change. With ``keep``, the lost-update guard checks the whole
        desired state afterwards (see ``lost_updates``); the answer is then the
        image read back.
        """
        values = {KEYS.get(key, key): value for key, value in changes.fields.items()}
        values.update(changes.set_properties)
        log = lost_updates.WriteLog()
        written = self._send(raw, Write(values, changes.removed_properties, changes.tags_added, changes.tags_removed),
                             log)
        if not keep:
            return written
        return lost_updates.keep(describe(raw), desired_state(changes), raw, lambda: self.reread(raw['id']),
                                 lambda document, undone: self._send(document, Write.of(undone), log), log)

    def _send(self, raw, write, log):
        if write.values or write.removed:
            raw = self._patch(raw['id'], patch_operations(raw, write.values, write.removed), log)
        self._send_tags(raw['id'], write, log)
        return raw

    def _while_image_exists(self, image_id, send):
        """``send()``, sent again when it is answered 404 while the image still exists (see NOT_FOUND_ATTEMPTS)."""
        for attempt in range(1, NOT_FOUND_ATTEMPTS + 1):
            try:
                return send()
            except GlanceError as exc:
                if exc.status != 404 or attempt == NOT_FOUND_ATTEMPTS or self.get(image_id) is None:
                    raise

    def _patch(self, image_id, operations, log):
        headers = {'Content-Type': PATCH_MEDIA_TYPE}
        response = self._while_image_exists(image_id, lambda: log.timed(lambda: self.http.request(
            'PATCH', _path(image_id), 'modify_image', 'image %s' % image_id,
            data=json.dumps(operations), headers=headers, tolerate=(409,))))
        if response.status_code != 409:
            return response.json()
        # A repeated patch conflicts when its first attempt already removed a key.
        current = self.get(image_id) if response.retried else None
        if current is None or not patch_applied(current, operations):
            raise error_from_response(response, 'modify_image', 'image %s' % image_id)
        return current

    def _send_tags(self, image_id, write, log):
        """Remove, then add tags one call each (so a purge within the tag quota fits).

        One at a time: Glance saves an image's whole tag list on each call, so
        parallel calls on one image can undo each other. A tag quota refusal
        puts the tags back as they were: the image is left unchanged.
        """
        removed, added = [], []
        try:
            for tag in write.tags_removed:
                self._tag_call('DELETE', image_id, tag, log)
                removed.append(tag)
            for tag in write.tags_added:
                self._tag_call('PUT', image_id, tag, log)
                added.append(tag)
        except GlanceError as exc:
            if exc.status != 413:
                raise
            for tag in added:
                self._tag_call('DELETE', image_id, tag, log)
            for tag in removed:
                self._tag_call('PUT', image_id, tag, log)
            raise exc.reworded('the server allows no more tags on image %s (image_tag_quota); its tags were put back '
                               'as they were: the image is unchanged' % image_id) from exc

    def _tag_call(self, method, image_id, tag, log):
        """Add (PUT) or remove (DELETE) one tag; removing a tag already gone is no error."""
        self._while_image_exists(image_id, lambda: log.timed(lambda: self.http.request(
            method, _path(image_id, 'tags', tag), 'modify_image', 'image %s tag %s' % (image_id, tag), ok=(204,),
            tolerate=(404,) if method == 'DELETE' else ())))

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

    # -- members ----------------------------------------------------------
    def members(self, image_id):
        body = self.http.request('GET', _path(image_id, 'members'), 'get_members', 'image %s' % image_id).json()
        return [normalize_member(member) for member in body.get('members', [])]

    def add_member(self, image_id, member_id, can_share=None):
        if can_share is not None:
            raise self.lacks('can_share')
        response = self.http.request('POST', _path(image_id, 'members'), 'add_member',
                                     'image %s member %s' % (image_id, member_id),
                                     json_body={'member': member_id}, idempotent=True, tolerate=(409,))
        return response.status_code != 409 or response.retried

    def remove_member(self, image_id, member_id):
        response = self.http.request('DELETE', _path(image_id, 'members', member_id), 'delete_member',
                                     'image %s member %s' % (image_id, member_id), ok=(204,), tolerate=(404,))
        return response.status_code != 404 or response.retried

    def set_member_status(self, image_id, member_id, status):
        body = self.http.request('PUT', _path(image_id, 'members', member_id), 'modify_member',
                                 'image %s member %s' % (image_id, member_id),
                                 json_body={'status': status}).json()
        return normalize_member(body)

    def replace_members(self, image_id, memberships):
        raise self.lacks('member_list_replacement', what='replacing the member list in one call')


def next_page(link):
    """(path, query pairs) of a ``next`` link."""
    split = urlsplit(link)
    path = split.path
    if not path.startswith('/v2/'):
        # The endpoint root has a path prefix: keep only what follows it.
        path = path[path.index('/v2/'):]
    return path, parse_qsl(split.query, keep_blank_values=True)


def normalize_member(member):
    return {
        'member_id': member.get('member_id'),
        'status': member.get('status'),
        'can_share': None,
        'created_at': member.get('created_at'),
        'updated_at': member.get('updated_at'),
    }


def desired_state(changes):
    """The lost-update guard's view of what a ``RecordChanges`` wants the image document to show."""
    target = changes.target
    values = {KEYS.get(key, key): value for key, value in dict(target.fields, **changes.fields).items()}
    values.update(target.properties)
    values.update(changes.set_properties)
    values.update((key, ABSENT) for key in changes.removed_properties)
    tags = {tag: True for tag in target.tags | set(changes.tags_added)}
    tags.update((tag, False) for tag in target.absent_tags | set(changes.tags_removed))
    return Desired(values, tags, exact_tags=target.purge_tags,
                   property_keys=custom_property_keys if target.purge_properties else None)


def custom_property_keys(document):
    """The keys of a v2 image document that are custom properties (as ``normalize`` keeps them)."""
    return [key for key in document if key not in BASE_KEYS and not key.startswith(RESERVED_PREFIX)]


def _pointer(key):
    return '/' + key.replace('~', '~0').replace('/', '~1')


def patch_operations(document, values, removed):
    """json-patch (v2.1 media type) operations: add where ``document`` lacks a key, else replace; then removals."""
    operations = [{'op': 'replace' if key in document else 'add', 'path': _pointer(key), 'value': value}
                  for key, value in values.items()]
    operations += [{'op': 'remove', 'path': _pointer(key)} for key in removed]
    return operations


def patch_applied(document, operations):
    """True when the image ``document`` already shows every operation of a json-patch."""
    for operation in operations:
        key = operation['path'][1:].replace('~1', '/').replace('~0', '~')
        if operation['op'] == 'remove':
            if key in document:
                return False
        elif document.get(key) != operation['value']:
            return False
    return True
