# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Why a server could not be reached, in words, without the HTTP library's internals."""

from __future__ import annotations

import re

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.secrets import strip_url_secrets


# -- connection failures in words ------------------------------------------------
_FAILURE_PATTERNS = (
    ('untrusted', re.compile(r'CERTIFICATE_VERIFY_FAILED|certificate verify failed|self.signed certificate', re.I)),
    ('tls', re.compile(r'SSLError|SSL:|TLS|WRONG_VERSION_NUMBER|handshake', re.I)),
    ('refused', re.compile(r'Connection refused|ConnectionRefusedError|Errno 111\b', re.I)),
    ('unresolved', re.compile(r'Name or service not known|name resolution|nodename nor servname|getaddrinfo|'
                              r'NameResolutionError|No address associated', re.I)),
    ('timeout', re.compile(r'timed? ?out|Timeout', re.I)),
    ('reset', re.compile(r'Connection reset|Connection aborted|RemoteDisconnected|BrokenPipe|Broken pipe|'
                         r'ProtocolError|IncompleteRead|closed connection without response|'
                         r'ChunkedEncodingError|Errno 104\b', re.I)),
)
_CONNECTION_ERROR_NAMES = ('ConnectFailure', 'ConnectTimeout', 'ConnectionError', 'SSLError', 'UnknownConnectionError',
                           'Timeout', 'ReadTimeout', 'ChunkedEncodingError', 'ProtocolError', 'OSError')


def _chain(exc):
    """The exception and those it was raised from or while handling, innermost last."""
    seen = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def connection_failure_kind(exc):
    """What went wrong on the wire, or None when ``exc`` is no connection failure.

    One of untrusted (TLS certificate), tls, refused, unresolved, timeout,
    reset, or other.
    """
    chain = _chain(exc)
    names = ' '.join(type(item).__name__ for item in chain)
    if not any(name in names for name in _CONNECTION_ERROR_NAMES) and not any(
            isinstance(item, (ConnectionError, TimeoutError)) for item in chain):
        return None
    text = names + ' ' + ' '.join(str(item) for item in chain)
    for kind, pattern in _FAILURE_PATTERNS:
        if pattern.search(text):
            return kind
    return 'other'


def connection_failure(exc, url, timeout=None):
    """One line saying why ``url`` could not be reached, without the HTTP library's internals."""
    url = strip_url_secrets(url)
    kind = connection_failure_kind(exc)
    if kind == 'untrusted':
        return 'TLS certificate of %s not trusted (give ca_cert, or validate_certs: false)' % url
    if kind == 'tls':
        return 'TLS connection to %s failed' % url
    if kind == 'refused':
        return 'connection refused by %s' % url
    if kind == 'unresolved':
        return 'cannot resolve the host name of %s' % url
    if kind == 'timeout':
        return 'timed out %s' % waited(url, timeout)
    if kind == 'reset':
        return 'connection to %s was closed before it answered' % url
    return 'cannot reach %s (%s)' % (url, type(exc).__name__)


def waited(url, timeout):
    """How long a request to ``url`` waited: ``timeout`` is one number, (connect, read) defaults or None."""
    if isinstance(timeout, tuple):
        return 'waiting for %s (no connection within %g s or no answer within %g s; see api_timeout)' % ((url,) + timeout)
    if timeout:
        return 'after %g s waiting for %s' % (timeout, url)
    return 'waiting for %s' % url
