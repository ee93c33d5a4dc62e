# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Raw HTTP access to the image endpoint through the authenticated session.

The drivers speak Glance's wire format directly (json-patch, x-image-meta-*
headers, streamed bodies), so they use keystoneauth's session rather than the
openstacksdk image proxy, which hides or rewrites parts of those requests.
"""

from __future__ import annotations

import html
import json
import random
import re
import time

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.failures import connection_failure, connection_failure_kind
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.secrets import strip_url_secrets
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError, one_line

_VERSION_SUFFIX = re.compile(r'/v\d+(\.\d+)?/?$')
_TAGS = re.compile(r'<[^>]+>')

# Without api_timeout, each request still waits at most this long to connect, and this
# long for the next bytes of an answer: a silence, never a total, so that a long upload
# or download that makes progress is not cut.
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
# Retries of one request start within this many seconds of its first attempt, or
# within this many times one attempt's timeout when that is longer.
RETRY_WINDOW = 60.0
RETRY_WINDOW_TIMEOUTS = 3
# A listing that has not ended after this many pages never will (200 images a page).
MAX_PAGES = 10000


def request_timeout(api_timeout=None, streams_body=False):
    """The requests ``timeout`` of one attempt: ``api_timeout``, else (connect, read) defaults.

    urllib3 sends a request body under the connect timeout, so a streamed body
    (an upload) gets the read timeout for both: it may wait as long between
    two writes as for an answer.
    """
    if api_timeout:
        return float(api_timeout)
    if streams_body:
        return (DEFAULT_READ_TIMEOUT, DEFAULT_READ_TIMEOUT)
    return (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)


def retry_window(api_timeout=None):
    """Seconds after a request's first attempt in which a failed attempt is followed by another."""
    return max(RETRY_WINDOW, RETRY_WINDOW_TIMEOUTS * float(api_timeout or DEFAULT_READ_TIMEOUT))


def bound_session(session, api_timeout=None):
    """Give a keystoneauth session the default timeouts when ``api_timeout`` is not set (Keystone calls too)."""
    if not api_timeout:
        session.timeout = request_timeout()


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


class RetryPolicy:
    """Which failed requests are sent again, and how long to wait before each new attempt.

    Only requests that may safely reach the server twice are retried: the
    idempotent methods, and POSTs their caller made idempotent (an image
    create with a chosen ID, a member add whose duplicate answers 409).
    Pauses grow exponentially with full jitter; no attempt starts after the
    window (see ``retry_window``) has passed. Glance's generic 500 is retried
    only ``server_error_attempts`` times in all: it may be a passing database
    lock, but when it is not, every attempt costs as long as the first.
    """

    IDEMPOTENT_METHODS = frozenset(('GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'))
    # Gateways and proxies answer these when the server is briefly unavailable.
    GATEWAY_STATUSES = frozenset((502, 503, 504))
    # Glance answers an unexpected server-side exception, typically a database
    # lock or deadlock under concurrent writes, with webob's generic 500 page;
    # a 500 with its own explanation is a real error and is not retried.
    GENERIC_500 = 'The server has either erred or is incapable of performing the requested operation'

    def __init__(self, attempts=6, first_pause=0.25, longest_pause=4.0, window=RETRY_WINDOW, rng=None,
                 server_error_attempts=3):
        self.attempts = attempts
        self.server_error_attempts = server_error_attempts
        self.first_pause = first_pause
        self.longest_pause = longest_pause
        self.window = window
        self.rng = rng or random.Random()

    def retriable(self, method, idempotent=None, status=None, body='', failure=None):
        """True when a request that got ``status`` (or raised ``failure``) may be sent again."""
        if idempotent is None:
            idempotent = method.upper() in self.IDEMPOTENT_METHODS
        if not idempotent:
            return False
        if failure is not None:
            return connection_failure_kind(failure) in ('reset', 'timeout')
        if status in self.GATEWAY_STATUSES:
            return True
        return status == 500 and (not body or self.GENERIC_500 in body)

    def pause(self, attempt):
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        ceiling = min(self.longest_pause, self.first_pause * (2 ** (attempt - 1)))
        return self.rng.uniform(ceiling / 2, ceiling)

    def next_pause(self, attempt, started, now, status=None):
        """The pause before another attempt, or None when no attempt is left (``status``: the last answer's)."""
        if attempt >= (self.server_error_attempts if status == 500 else self.attempts):
            return None
        pause = self.pause(attempt)
        if now + pause - started > self.window:
            return None
        return pause


class Http:
    """Requests against one image endpoint root: safe retries and one error type."""

    def __init__(self, session, root, timeout=None, policy=None, sleep=time.sleep, clock=time.monotonic):
        self.session = session
        self.root = root
        self.timeout = timeout
        self.policy = policy or RetryPolicy(window=retry_window(timeout))
        self.sleep = sleep
        self.clock = clock

    def url(self, path):
        return self.root + path

    def request(self, method, path, action, target=None, ok=(200, 201, 204), params=None,
                json_body=None, data=None, headers=None, stream=False, idempotent=None, tolerate=(),
                authenticated=None):
        """Send one request; return the response when its status is in ``ok`` or ``tolerate``.

        The response's ``retried`` attribute is true when an earlier attempt
        may have reached the server: a tolerated 404 or 409 then means that
        attempt already did the work. ``idempotent=False`` sends the request
        once (a streamed body cannot be sent twice). Anything else raises
        GlanceError naming ``action`` (Glance's policy name where there is
        one) and ``target``.
        """
        streams_body = data is not None and not isinstance(data, (str, bytes))
        timeout = request_timeout(self.timeout, streams_body)
        kwargs = dict(raise_exc=False, headers=dict(headers or {}), stream=stream, timeout=timeout,
                      connect_retries=0, status_code_retries=0)
        optional = dict(params=params, json=json_body, data=data, authenticated=authenticated)
        kwargs.update((key, value) for key, value in optional.items() if value is not None)
        started, attempt, retried = self.clock(), 0, False
        while True:
            attempt += 1
            try:
                response = self.session.request(self.url(path), method, **kwargs)
            except Exception as exc:  # keystoneauth ConnectFailure, timeouts, TLS errors
                if self._paused_for_retry(self.policy.retriable(method, idempotent, failure=exc), attempt, started):
                    retried = True
                    continue
                raise self._unreachable(exc, path, action, target, timeout, attempt) from exc
            if response.status_code not in ok and response.status_code not in tolerate:
                body = response_text(response)
                retriable = self.policy.retriable(method, idempotent, status=response.status_code, body=body)
                if self._paused_for_retry(retriable, attempt, started, response.status_code):
                    retried = True
                    continue
                raise error_from_response(response, action, target, body=body,
                                          transient=self.policy.retriable(method, True, response.status_code, body))
            response.retried = retried
            guard_json(response, describe(action, target))
            return response

    def _unreachable(self, exc, path, action, target, timeout, attempts):
        """The GlanceError for a request that got no answer, naming the URL (without secrets)."""
        reason = connection_failure(exc, self.url(path), timeout)
        if attempts > 1:
            reason += ' (%d attempts)' % attempts
        return GlanceError('%s: %s' % (describe(action, target), reason), action=action,
                           transient=connection_failure_kind(exc) in ('reset', 'timeout'))

    def _paused_for_retry(self, retriable, attempt, started, status=None):
        """Wait before another attempt and return True, or return False when none is due."""
        pause = self.policy.next_pause(attempt, started, self.clock(), status) if retriable else None
        if pause is None:
            return False
        self.sleep(pause)
        return True


class Pages:
    """The requests of one paged listing: a request that repeats, or too many, end it with one line."""

    def __init__(self, root, path, action):
        self.where = strip_url_secrets(root + path)
        self.action = action
        self.seen = {}

    def visit(self, path, params):
        """Note the request for the next page; raise GlanceError when it was made before, or pages never end."""
        key = (path, tuple(sorted(params or ())))
        number = len(self.seen) + 1
        if key in self.seen:
            raise GlanceError('%s: pages repeat at %s (page %d would be page %d again); the endpoint or a proxy '
                              'in front of it does not page correctly' % (self.action, self.where, number, self.seen[key]),
                              action=self.action)
        if number > MAX_PAGES:
            raise GlanceError('%s: more than %d pages at %s; stopped, as pages repeat or never end'
                              % (self.action, MAX_PAGES, self.where), action=self.action)
        self.seen[key] = number


def guard_json(response, description):
    """Make ``response.json()`` fail with one line when the body is not JSON (a portal or proxy page)."""
    decode = response.json

    def json_or_error(**kwargs):
        try:
            return decode(**kwargs)
        except ValueError as exc:
            kind = response.headers.get('Content-Type') or 'no content type'
            raise GlanceError('%s: the image endpoint answered HTTP %s with a body that is not JSON (%s)'
                              % (description, response.status_code, kind.split(';')[0])) from exc
    response.json = json_or_error


def describe(action, target):
    return '%s %s' % (action, target) if target else action


def response_text(response):
    try:
        return response.text or ''
    except Exception:
        return ''


def error_from_response(response, action, target=None, body=None, transient=False):
    message = server_message(response_text(response) if body is None else body)
    verb = 'refused' if response.status_code in (401, 403) else 'failed'
    return GlanceError('%s %s' % (describe(action, target), verb),
                       status=response.status_code,
                       request_id=response.headers.get('x-openstack-request-id'),
                       action=action,
                       server_message=message,
                       transient=transient)
