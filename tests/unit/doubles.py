# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stand-ins for what the collection talks to, shared by the unit tests.

Both image service stand-ins take the place of keystoneauth's session, so the
real transport (``Http``) and the real drivers run on top of them:

- ``ScriptedSession`` answers from a script, one answer per request;
- ``ImageServiceV2`` keeps Image API v2 images, tags and members in memory and
  answers as Glance does, recording every request in order.

``Keystone`` stands in for openstacksdk's identity proxy, and ``session_for``
builds a real ``GlanceSession`` over them without connecting anywhere.
"""

from __future__ import annotations

import copy
import email.utils
import hashlib
import json
import random
import threading
import time
import uuid
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import jsonpatch
from keystoneauth1 import exceptions as ksa_exceptions

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.session import GlanceSession
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import Http, RetryPolicy
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import PATCH_MEDIA_TYPE, ImageDriverV2

ROOT = 'http://glance'
# Requests that read and change nothing.
READS = ('get', 'list', 'members', 'import_methods', 'download')
# Requests that save an image record (and stamp its updated_at).
IMAGE_WRITES = ('patch', 'add_tag', 'remove_tag', 'upload', 'import', 'deactivate', 'reactivate')
# The in-memory server's clock starts here (2027-01-15, whole seconds).
SERVER_EPOCH = 1_800_000_000


def server_stamp(seconds):
    """``updated_at`` as Glance writes it: UTC, whole seconds."""
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(seconds))


class Response:
    """What the transport and the drivers read of a requests.Response."""

    def __init__(self, status_code, body=None, text=None, headers=None, content=b''):
        self.status_code = status_code
        self._body = body
        self.text = text if text is not None else (json.dumps(body) if body is not None else '')
        self.headers = headers or {}
        self.content = content

    def json(self, **_kwargs):
        return self._body if self._body is not None else json.loads(self.text)

    def iter_content(self, chunk_size=1):
        return iter(self.content if isinstance(self.content, list) else [self.content])


def reset_failure(url='http://glance/v2/images'):
    """keystoneauth's exception for a connection the server (or a proxy) reset, with its real cause chain."""
    try:
        try:
            raise ConnectionResetError(104, 'Connection reset by peer')
        except ConnectionResetError as cause:
            raise ksa_exceptions.ConnectFailure(
                "Unable to establish connection to %s: ('Connection aborted.', "
                "ConnectionResetError(104, 'Connection reset by peer'))" % url) from cause
    except ksa_exceptions.ConnectFailure as exc:
        return exc


def refused_failure(url='http://glance/v2/images'):
    try:
        try:
            raise ConnectionRefusedError(111, 'Connection refused')
        except ConnectionRefusedError as cause:
            raise ksa_exceptions.ConnectFailure(
                'Unable to establish connection to %s: [Errno 111] Connection refused' % url) from cause
    except ksa_exceptions.ConnectFailure as exc:
        return exc


class ScriptedSession:
    """Answers requests from a script: one Response or exception per call, recording each call."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, url, method, **kwargs):
        self.calls.append((method, url, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def http(session, timeout=None, attempts=6):
    """The real transport over ``session``; its pauses are recorded in ``pauses`` instead of slept."""
    pauses = []
    client = Http(session, ROOT, timeout=timeout,
                  policy=RetryPolicy(attempts=attempts, window=float(timeout or 60), rng=random.Random(7)),
                  sleep=pauses.append)
    client.pauses = pauses
    return client


# -- Keystone ---------------------------------------------------------------------------
class Forbidden(Exception):
    status_code = 403


class Keystone:
    """Keystone as openstacksdk's identity proxy shows it, recording each request.

    ``projects``: (id, name, domain id) triples; ``domains``: {id: name}. Without
    ``may_list`` every listing is refused as it is for a user without rights.
    """

    def __init__(self, projects=(), domains=None, may_list=True, own=None):
        self.projects_ = list(projects)
        self.domains = dict(domains or {})
        self.may_list = may_list
        self.own = own
        self.calls = []
        self.listed = 0

    def projects(self, **query):
        self.calls.append(('projects', query))
        self.listed += 1
        if not self.may_list:
            raise Forbidden('forbidden')
        return [SimpleNamespace(id=pid, name=name, domain_id=domain) for pid, name, domain in self.projects_
                if all({'name': name, 'domain_id': domain}[key] == value for key, value in query.items())]

    def find_domain(self, reference, ignore_missing=True):
        self.calls.append(('find_domain', reference))
        if not self.may_list:
            raise Forbidden('forbidden')
        for domain, name in self.domains.items():
            if reference in (domain, name):
                return SimpleNamespace(id=domain, name=name)
        return None

    def get(self, path, raise_exc=False):
        self.calls.append(('get', path))
        own = [{'id': pid, 'name': name} for pid, name, _domain in self.projects_ if pid == self.own]
        return SimpleNamespace(status_code=200, json=lambda: {'projects': own})


def session_for(driver, project_id='p', project_name=None, roles=(), keystone=None):
    """A real GlanceSession on ``driver`` (a driver instance), built without connecting anywhere."""
    session = GlanceSession.__new__(GlanceSession)
    access = SimpleNamespace(project_name=project_name, role_names=list(roles))
    session.params = {}
    session.conn = SimpleNamespace(current_project_id=project_id,
                                   identity=keystone if keystone is not None else Keystone(own=project_id),
                                   session=SimpleNamespace(auth=SimpleNamespace(get_access=lambda _s: access)))
    session.driver = driver
    session.http = getattr(driver, 'http', None)
    session.root = ROOT
    session.timeout = None
    session._projects, session._projects_read, session._own = None, False, None
    return session


# -- Image API v2 in memory --------------------------------------------------------------
def query_text(value):
    """A value as it travels in a query string."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


class Request:
    """One request as the in-memory service sees it: ``kind`` names it, ``detail`` is what the log shows."""

    def __init__(self, caller, method, path, kwargs):
        self.caller = caller
        self.method = method
        self.path = path
        self.params = list(kwargs.get('params') or [])
        self.json = kwargs.get('json')
        self.headers = kwargs.get('headers') or {}
        data = kwargs.get('data')
        if data is not None and not isinstance(data, (bytes, str)):
            data = b''.join(data)  # a streamed upload: read it the way the HTTP client does
        self.data = data
        self.image_id = self.member_id = self.tag = None
        self.kind, self.detail = self._route()

    def _route(self):
        parts = [unquote(part) for part in self.path.strip('/').split('/')]
        method = self.method
        if parts[:2] == ['v2', 'info'] and parts[2:] == ['import']:
            return 'import_methods', None
        if parts[:2] != ['v2', 'images']:
            return 'unknown', self.path
        rest = parts[2:]
        if not rest:
            if method == 'GET':
                return 'list', [(key, value) for key, value in self.params if key not in ('limit', 'marker')]
            return 'create', self.json
        self.image_id = rest[0]
        rest = rest[1:]
        if not rest:
            return {'GET': ('get', self.image_id), 'PATCH': ('patch', json.loads(self.data or '[]')),
                    'DELETE': ('delete', self.image_id)}.get(method, ('unknown', self.path))
        if rest == ['file']:
            return ('upload', self.image_id) if method == 'PUT' else ('download', self.image_id)
        if rest[0] == 'actions':
            return rest[1], self.image_id
        if rest == ['import']:
            return 'import', (self.json or {}).get('method', {}).get('uri')
        if rest[0] == 'tags':
            self.tag = rest[1]
            return ('add_tag' if method == 'PUT' else 'remove_tag'), self.tag
        if rest[0] == 'members':
            if len(rest) == 1:
                if method == 'GET':
                    return 'members', self.image_id
                self.member_id = (self.json or {}).get('member')
                return 'add_member', self.member_id
            self.member_id = rest[1]
            return {'DELETE': 'remove_member', 'PUT': 'member_status'}.get(method, 'unknown'), self.member_id
        return 'unknown', self.path


def _error(status, message):
    return Response(status, {'message': message, 'code': status, 'title': 'Error'})


class Caller:
    """The service as one project's credentials reach it; ``calls`` logs this caller's requests."""

    def __init__(self, service, project_id, admin=False):
        self.service = service
        self.project_id = project_id
        self.admin = admin
        self.calls = []

    def request(self, url, method, **kwargs):
        return self.service.answer(self, urlsplit(url).path, method, kwargs)

    def writes(self):
        return [call for call in self.calls if call[0] not in READS]


class ImageServiceV2:
    """Glance's Image API v2 in memory, every request recorded in ``calls`` as (kind, detail), in order.

    Images are kept as the documents Glance returns. ``hides``: whether the
    server keeps ``os_hidden`` (Rocky and later; Pike's v2 refuses it).
    ``hash_algo``: the multihash it computes ('' for none, as Pike's v2).
    ``stored_data``: what it keeps of any upload (None: what it was sent).
    ``imported``: the bytes a web-download import fetches.

    ``now`` is the server's clock (seconds since the epoch; tests move it):
    every answer carries it as ``Date``, every image write as ``updated_at``.

    ``before(kind, hook)`` runs ``hook(request)`` ahead of the service's own
    handling of each request of that kind; a hook may answer instead (return a
    Response), raise what the HTTP client would raise, or return None to let
    the request through. ``fail(kind, ...)`` is the common case: refuse one
    request, the service having done nothing.
    """

    def __init__(self, images=(), project_id='p', hides=True, hash_algo='sha512', stored_data=None,
                 imported=b'', import_methods=('glance-direct', 'web-download'), member_quota=128, tag_quota=128):
        self.images = {image['id']: copy.deepcopy(image) for image in images}
        self.data = {}
        self.members = {}
        self.project_id = project_id
        self.hides = hides
        self.hash_algo = hash_algo
        self.stored_data = stored_data
        self.imported = imported
        self.import_method_names = list(import_methods)
        self.member_quota = member_quota
        self.tag_quota = tag_quota
        self.now = SERVER_EPOCH
        self.calls = []
        self.uploads = []
        self.hooks = {}
        self.lock = threading.RLock()
        self.callers = {}
        self.caller(project_id)

    # -- set up ------------------------------------------------------------------------
    def caller(self, project_id=None, admin=False):
        project_id = project_id or self.project_id
        if project_id not in self.callers:
            self.callers[project_id] = Caller(self, project_id, admin)
        return self.callers[project_id]

    def driver(self, project_id=None, admin=False):
        """The real v2 driver over the real transport, as ``project_id`` (never retrying: answers are final)."""
        transport = Http(self.caller(project_id, admin), ROOT, policy=RetryPolicy(attempts=1), sleep=lambda _s: None)
        return ImageDriverV2(transport)

    def session(self, project_id=None, project_name=None, roles=(), keystone=None):
        project_id = project_id or self.project_id
        return session_for(self.driver(project_id, admin='admin' in roles), project_id, project_name, roles, keystone)

    def add_members(self, image_id, member_ids, status='pending'):
        for member_id in member_ids:
            self.members.setdefault(image_id, {})[member_id] = self._member(image_id, member_id, status)

    def before(self, kind, hook):
        self.hooks.setdefault(kind, []).append(hook)

    def fail(self, kind, status=500, when=lambda detail: True, message=None, times=1):
        """Refuse the next ``times`` requests of ``kind`` whose detail passes ``when``, having done nothing."""
        left = [times]

        def hook(request):
            if left[0] and when(request.detail):
                left[0] -= 1
                return _error(status, message or '%s refused' % request.kind)
            return None
        self.before(kind, hook)

    # -- reading the log -----------------------------------------------------------------
    def kinds(self):
        return [kind for kind, _detail in self.calls]

    def writes(self):
        return [call for call in self.calls if call[0] not in READS]

    # -- answering -----------------------------------------------------------------------
    def answer(self, caller, path, method, kwargs):
        with self.lock:
            request = Request(caller, method, path, kwargs)
            call = (request.kind, copy.deepcopy(request.detail))
            self.calls.append(call)
            caller.calls.append(call)
            if request.kind == 'upload':
                self.uploads.append(request.data)
            answer = None
            for hook in self.hooks.get(request.kind, []):
                answer = hook(request)
                if answer is not None:
                    break
            answer = answer if answer is not None else self.handle(request)
            if request.kind in IMAGE_WRITES and answer.status_code < 300 and request.image_id in self.images:
                self.images[request.image_id]['updated_at'] = server_stamp(self.now)
            answer.headers = dict(answer.headers, Date=email.utils.formatdate(self.now, usegmt=True))
            return answer

    def handle(self, request):
        """The service's own answer to ``request``."""
        handler = getattr(self, '_' + request.kind, None)
        if handler is None:
            return _error(404, 'no such resource %s' % request.path)
        known = request.image_id is None or request.image_id in self.images
        if not known and request.kind not in ('get', 'delete'):
            return _error(404, 'No image found with ID %s' % request.image_id)
        return handler(request)

    def _get(self, request):
        image = self.images.get(request.image_id)
        if image is None:
            return _error(404, 'No image found with ID %s' % request.image_id)
        return Response(200, copy.deepcopy(image))

    def _matches(self, image, params):
        hidden = [value for key, value in params if key == 'os_hidden']
        if self.hides and (hidden[:1] == ['true']) != bool(image.get('os_hidden')):
            return False
        for key, value in params:
            if key in ('limit', 'marker', 'member_status') or (key == 'os_hidden' and self.hides):
                continue
            if key == 'visibility' and value == 'all':
                continue
            if key == 'tag':
                if value not in (image.get('tags') or []):
                    return False
            elif query_text(image.get(key)) != value:
                return False
        return True

    def _list(self, request):
        images = [copy.deepcopy(image) for image in self.images.values() if self._matches(image, request.params)]
        return Response(200, {'images': images, 'first': '/v2/images', 'schema': '/v2/schemas/images'})

    def _create(self, request):
        body = dict(request.json or {})
        if not self.hides and 'os_hidden' in body:
            return _error(400, "Attribute 'os_hidden' is reserved.")
        image_id = body.get('id') or str(uuid.uuid4())
        if image_id in self.images:
            return _error(409, 'Image with identifier %s already exists!' % image_id)
        image = dict(body, id=image_id, status='queued', visibility=body.get('visibility', 'shared'),
                     protected=bool(body.get('protected', False)), tags=sorted(body.get('tags') or []),
                     owner=body.get('owner', request.caller.project_id), checksum=None, os_hash_algo=None,
                     os_hash_value=None, size=None, created_at=server_stamp(self.now),
                     updated_at=server_stamp(self.now))
        if self.hides:
            image['os_hidden'] = bool(body.get('os_hidden', False))
        self.images[image_id] = image
        return Response(201, copy.deepcopy(image))

    def _patch(self, request):
        if request.headers.get('Content-Type') != PATCH_MEDIA_TYPE:
            return _error(415, 'Unsupported Content-Type')
        operations = json.loads(request.data)
        if not self.hides and any(op['path'] == '/os_hidden' for op in operations):
            return _error(400, "Attribute 'os_hidden' is reserved.")
        try:
            patched = jsonpatch.apply_patch(copy.deepcopy(self.images[request.image_id]), operations)
        except (jsonpatch.JsonPatchConflict, jsonpatch.JsonPointerException) as exc:
            return _error(409, str(exc))
        self.images[request.image_id] = patched
        return Response(200, copy.deepcopy(patched))

    def keep_data(self, image_id, data):
        """Store ``data`` as the image's own, with the digests this server computes."""
        image = self.images[image_id]
        self.data[image_id] = data
        image.update(status='active', checksum=hashlib.md5(data).hexdigest(), size=len(data),
                     os_hash_algo=self.hash_algo or None,
                     os_hash_value=self._multihash(data))

    def _multihash(self, data):
        if not self.hash_algo:
            return None
        if self.hash_algo not in hashlib.algorithms_available:
            # An algorithm this Python lacks (a server may use one): a stand-in value.
            return hashlib.sha256(self.hash_algo.encode() + data).hexdigest()
        return hashlib.new(self.hash_algo, data).hexdigest()

    def _upload(self, request):
        image = self.images[request.image_id]
        if image.get('container_format') is None:
            return _error(400, 'Property container_format must be set prior to saving data.')
        if image['status'] != 'queued':
            return _error(409, 'Image status transition from %s to saving is not allowed' % image['status'])
        self.keep_data(request.image_id, request.data if self.stored_data is None else self.stored_data)
        return Response(204)

    def _download(self, request):
        data = self.data.get(request.image_id, b'')
        return Response(200, content=[data[:10], data[10:]])

    def _delete(self, request):
        image = self.images.get(request.image_id)
        if image is None:
            return _error(404, 'No image found with ID %s' % request.image_id)
        if image.get('protected'):
            return _error(403, 'Image %s is protected and cannot be deleted.' % request.image_id)
        del self.images[request.image_id]
        self.members.pop(request.image_id, None)
        return Response(204)

    def _deactivate(self, request):
        self.images[request.image_id]['status'] = 'deactivated'
        return Response(204)

    def _reactivate(self, request):
        self.images[request.image_id]['status'] = 'active'
        return Response(204)

    def _import_methods(self, request):
        return Response(200, {'import-methods': {'description': 'Import methods available.', 'type': 'array',
                                                 'value': list(self.import_method_names)}})

    def _import(self, request):
        self.keep_data(request.image_id, self.imported)
        return Response(202, text='')

    def _add_tag(self, request):
        tags = self.images[request.image_id].setdefault('tags', [])
        if request.tag not in tags:
            if len(tags) >= self.tag_quota:
                return _error(413, 'Maximum number of tags exceeded for image. Attempted: %d, Maximum: %d'
                              % (len(tags) + 1, self.tag_quota))
            tags.append(request.tag)
            tags.sort()
        return Response(204)

    def _remove_tag(self, request):
        tags = self.images[request.image_id].get('tags') or []
        if request.tag not in tags:
            return _error(404, 'Tag %s not found' % request.tag)
        tags.remove(request.tag)
        return Response(204)

    # -- members ----------------------------------------------------------------------
    def _member(self, image_id, member_id, status='pending'):
        return {'member_id': member_id, 'image_id': image_id, 'status': status, 'created_at': '2026-01-01T00:00:00Z',
                'updated_at': '2026-01-01T00:00:00Z', 'schema': '/v2/schemas/member'}

    def _owns(self, request):
        return request.caller.admin or self.images[request.image_id].get('owner') == request.caller.project_id

    def _members(self, request):
        if self.images[request.image_id].get('visibility') != 'shared':
            return _error(403, 'Only shared images have members.')
        listed = self.members.get(request.image_id, {})
        if not self._owns(request):
            listed = {key: value for key, value in listed.items() if key == request.caller.project_id}
            if not listed:
                return _error(404, 'No image found with ID %s' % request.image_id)
        return Response(200, {'members': [copy.deepcopy(m) for m in listed.values()], 'schema': '/v2/schemas/members'})

    def _add_member(self, request):
        if self.images[request.image_id].get('visibility') != 'shared':
            return _error(403, 'Only shared images have members.')
        if not self._owns(request):
            return _error(403, 'You are not permitted to create image members for the image.')
        listed = self.members.setdefault(request.image_id, {})
        if request.member_id in listed:
            return _error(409, 'Member %s already exists on image %s' % (request.member_id, request.image_id))
        if len(listed) >= self.member_quota:
            return _error(413, 'Image member limit exceeded for image %s: The limit has been exceeded on the number '
                          'of allowed image members for this image. Attempted: %d, Maximum: %d:'
                          % (request.image_id, len(listed) + 1, self.member_quota))
        listed[request.member_id] = self._member(request.image_id, request.member_id)
        return Response(200, copy.deepcopy(listed[request.member_id]))

    def _remove_member(self, request):
        listed = self.members.get(request.image_id, {})
        if request.member_id not in listed:
            return _error(404, 'Member %s not found' % request.member_id)
        if not self._owns(request):
            return _error(403, 'You are not permitted to delete image members for the image.')
        del listed[request.member_id]
        return Response(204)

    def _member_status(self, request):
        listed = self.members.get(request.image_id, {})
        if request.member_id not in listed:
            return _error(404, 'Member %s not found' % request.member_id)
        if request.caller.project_id != request.member_id and not request.caller.admin:
            return _error(403, 'You are not permitted to modify the status of this member.')
        listed[request.member_id]['status'] = request.json['status']
        return Response(200, copy.deepcopy(listed[request.member_id]))
