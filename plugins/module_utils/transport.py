# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Raw HTTP access to the image endpoint through the authenticated session.

The adapters speak Glance's wire format directly (json-patch, x-image-meta-*
headers, streamed bodies), so they use keystoneauth's session rather than the
openstacksdk image proxy, which hides or rewrites parts of those requests.
"""

from __future__ import annotations

import html
import json
import re
import time
from urllib.parse import quote

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError, one_line

# Glance on a busy or SQLite-backed server answers some writes with 5xx
# ("database is locked"); those are retried with a growing pause.
RETRY_STATUSES = frozenset((500, 502, 503, 504))
RETRY_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)

_VERSION_SUFFIX = re.compile(r'/v\d+(\.\d+)?/?$')
_TAGS = re.compile(r'<[^>]+>')


def endpoint_root(url):
    """The unversioned root of an image endpoint (``.../v2`` and trailing slashes removed)."""
    return _VERSION_SUFFIX.sub('', url.rstrip('/')).rstrip('/')


def parse_versions(document):
    """Return the major versions (``'1'``, ``'2'``) that a ``GET /`` document lists as usable."""
    majors = set()
    for version in (document or {}).get('versions', []):
        if str(version.get('status', '')).upper() in ('CURRENT', 'SUPPORTED', 'DEPRECATED', 'STABLE'):
            match = re.match(r'v(\d+)', str(version.get('id', '')))
            if match:
                majors.add(match.group(1))
    return majors


def choose_version(requested, offered, root):
    """Pick the API major version to speak: ``requested`` is auto, '1' or '2'."""
    listing = ', '.join('v%s' % v for v in sorted(offered)) or 'none'
    if requested == 'auto':
        if '2' in offered:
            return '2'
        if '1' in offered:
            return '1'
        raise GlanceError('the image endpoint %s offers no Image API version this collection speaks (offered: %s)'
                          % (root, listing))
    if requested not in offered:
        raise GlanceError('api_version %s requested, but the image endpoint %s does not offer Image API v%s '
                          '(offered: %s)' % (requested, root, requested, listing))
    return requested


def server_message(body):
    """Extract the human message from a Glance / Keystone error body (JSON or HTML)."""
    if not body:
        return ''
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ('message', 'explanation', 'detail', 'title'):
            if isinstance(data.get(key), str):
                return one_line(data[key])
        for value in data.values():
            if isinstance(value, dict) and isinstance(value.get('message'), str):
                return one_line(value['message'])
        return one_line(body)
    text = one_line(html.unescape(_TAGS.sub(' ', body)))
    # Error pages repeat their status line (<title> and <h1>): keep it once.
    match = re.match(r'^((?:\d{3} )?[A-Za-z ]+?) \1 (.*)$', text)
    if match:
        text = '%s: %s' % (match.group(1), match.group(2))
    return text.strip()


class Http:
    """Requests against one image endpoint root with retries and one error type."""

    def __init__(self, session, root, timeout=None):
        self.session = session
        self.root = root
        self.timeout = timeout

    def url(self, path):
        return self.root + path

    def request(self, method, path, action, target=None, ok=(200, 201, 204), params=None,
                json_body=None, data=None, headers=None, stream=False, retry=True, tolerate=()):
        """Send one request; return the response when its status is in ``ok`` or ``tolerate``.

        Anything else raises GlanceError naming ``action`` (Glance's policy
        name where there is one) and ``target``.
        """
        kwargs = dict(raise_exc=False, headers=dict(headers or {}), stream=stream)
        if params is not None:
            kwargs['params'] = params
        if json_body is not None:
            kwargs['json'] = json_body
        if data is not None:
            kwargs['data'] = data
        if self.timeout:
            kwargs['timeout'] = self.timeout
        pauses = list(RETRY_PAUSES) if retry else []
        while True:
            try:
                response = self.session.request(self.url(path), method, **kwargs)
            except Exception as exc:  # keystoneauth ConnectFailure, timeouts, TLS errors
                raise GlanceError('%s: cannot reach the image endpoint %s: %s'
                                  % (describe(action, target), self.root, one_line(exc)), action=action) from exc
            if response.status_code in RETRY_STATUSES and pauses:
                time.sleep(pauses.pop(0))
                continue
            break
        if response.status_code in ok or response.status_code in tolerate:
            return response
        raise error_from_response(response, action, target)


def image_path(version, image_id, *rest):
    """``/v<version>/images/<id>/<rest...>`` with every part quoted."""
    parts = ['/v%s/images' % version, quote(image_id, safe='')] + [quote(part, safe='') for part in rest]
    return '/'.join(parts)


def describe(action, target):
    return '%s %s' % (action, target) if target else action


def error_from_response(response, action, target=None):
    try:
        body = response.text
    except Exception:
        body = ''
    message = server_message(body)
    verb = 'refused' if response.status_code in (401, 403) else 'failed'
    return GlanceError('%s %s' % (describe(action, target), verb),
                       status=response.status_code,
                       request_id=response.headers.get('x-openstack-request-id'),
                       action=action,
                       server_message=message)
