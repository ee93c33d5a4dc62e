# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection options, the connection itself and the single error type.

Everything here is importable without Ansible running a module, so unit tests
can exercise it directly.
"""

from __future__ import annotations

import re
import traceback
from urllib.parse import parse_qsl, urlsplit

OPENSTACKSDK_IMPORT_ERROR = None
try:
    import openstack
    import openstack.config
    import openstack.exceptions
    HAS_OPENSTACKSDK = True
except ImportError:
    OPENSTACKSDK_IMPORT_ERROR = traceback.format_exc()
    HAS_OPENSTACKSDK = False


class GlanceError(Exception):
    """One failure talking to the cloud or validating input.

    ``status`` is the HTTP status (None when no request was answered),
    ``request_id`` the server's request id, ``action`` the operation that
    failed in Glance's own words (the policy rule name where there is one).
    ``transient`` is true when the failure may pass by itself (a gateway
    answer, a reset connection, a timeout): what the request asked for may or
    may not have happened. ``str()`` is a single line fit for a module's ``msg``.
    """

    def __init__(self, message, status=None, request_id=None, action=None, server_message=None, transient=False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.action = action
        self.server_message = server_message
        self.transient = transient

    def __str__(self):
        parts = [self.message]
        if self.status is not None:
            detail = 'HTTP %s' % self.status
            if self.request_id:
                detail += ', request %s' % self.request_id
            parts.append('(%s)' % detail)
        if self.server_message and self.server_message not in self.message:
            parts.append('- server said: %s' % self.server_message)
        return ' '.join(' '.join(parts).split())

    def as_result(self):
        return {
            'status': self.status,
            'request_id': self.request_id,
            'action': self.action,
        }


def connection_argument_spec():
    """The common options of every module (see the ``connection`` doc fragment)."""
    return dict(
        cloud=dict(type='raw'),
        auth=dict(type='dict', no_log=True),
        auth_type=dict(type='str'),
        region_name=dict(type='str'),
        interface=dict(type='str', choices=['public', 'internal', 'admin'], aliases=['endpoint_type']),
        validate_certs=dict(type='bool', aliases=['verify']),
        ca_cert=dict(type='path', aliases=['cacert']),
        client_cert=dict(type='path', aliases=['cert']),
        client_key=dict(type='path', aliases=['key'], no_log=False),
        api_timeout=dict(type='int'),
        wait=dict(type='bool', default=True),
        timeout=dict(type='int', default=180),
        api_version=dict(type='str', default='auto', choices=['auto', '1', '2']),
    )


def connection_kwargs(params):
    """Map the module's common options onto ``openstack.connect`` keyword arguments.

    Only options the user set are passed, so clouds.yaml values are not
    overridden by defaults.
    """
    cloud = params.get('cloud')
    kwargs = {}
    if isinstance(cloud, dict):
        if cloud.get('auth') is not None and not isinstance(cloud['auth'], dict):
            raise GlanceError('cloud.auth must be a dictionary (auth_url, username, password, ...), got %s'
                              % type(cloud['auth']).__name__)
        kwargs.update(cloud)
    elif cloud is not None:
        if not isinstance(cloud, str):
            raise GlanceError('cloud must be the name of a clouds.yaml entry or a dictionary, got %s'
                              % type(cloud).__name__)
        kwargs['cloud'] = cloud
    if params.get('auth'):
        auth = dict(kwargs.get('auth') or {})
        auth.update(params['auth'])
        kwargs['auth'] = auth
    renames = dict(auth_type='auth_type', region_name='region_name', interface='interface',
                   validate_certs='verify', ca_cert='cacert', client_cert='cert', client_key='key',
                   api_timeout='api_timeout')
    for option, sdk_name in renames.items():
        if params.get(option) is not None:
            kwargs[sdk_name] = params[option]
    return kwargs


def connect(params):
    """Return an authenticated openstacksdk ``Connection`` for the common options.

    The connection is built by ``openstack.connect`` from clouds.yaml, the
    environment and the options, so everything openstacksdk honours for the
    image service (``image_endpoint_override``, ``image_interface``,
    ``region_name``, TLS settings, ``api_timeout``) applies here too.
    """
    if not HAS_OPENSTACKSDK:
        raise GlanceError('openstacksdk is required: pip install openstacksdk')
    kwargs = connection_kwargs(params)
    try:
        conn = openstack.connect(app_name='cloudimage.glance', **kwargs)
    except openstack.exceptions.ConfigException as exc:
        raise GlanceError('cannot load cloud configuration: %s' % one_line(exc)) from exc
    except Exception as exc:
        raise GlanceError('cannot load cloud configuration for %s: %s' % (describe_cloud(params), one_line(exc))) from exc
    auth_url = (conn.config.config.get('auth') or {}).get('auth_url') or 'the identity service'
    try:
        # Authenticate now, so that a wrong password or an unreachable Keystone
        # surfaces here as one clear message rather than in the first API call.
        conn.authorize()
    except Exception as exc:  # openstacksdk wraps keystoneauth's own family
        if connection_failure_kind(exc) is not None:
            reason = connection_failure(exc, auth_url, conn.config.config.get('api_timeout'))
        else:
            reason = '%s at %s' % (one_line(exc), auth_url)
        raise GlanceError('cannot authenticate to %s: %s' % (describe_cloud(params), reason),
                          status=getattr(exc, 'status_code', None)) from exc
    return conn


def describe_cloud(params):
    cloud = params.get('cloud')
    if isinstance(cloud, str):
        return 'cloud %r' % cloud
    return 'the configured cloud'


def one_line(value):
    """Collapse any text (exception, HTML error page) into one line."""
    return ' '.join(str(value).split())


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
        return 'timed out after %s s waiting for %s' % (timeout, url) if timeout else 'timed out waiting for %s' % url
    if kind == 'reset':
        return 'connection to %s was closed before it answered' % url
    return 'cannot reach %s (%s)' % (url, type(exc).__name__)


# -- secrets -----------------------------------------------------------------------
# Keys whose values are secrets, in clouds.yaml-style dicts and in URL queries.
SECRET_KEY = re.compile(r'pass(word|code|phrase)|secret|token|totp|signature|(^|_)sig$', re.I)
# Options that may hold clouds.yaml-style dicts with credentials.
CREDENTIAL_OPTIONS = ('cloud', 'auth', 'member_cloud')


def task_secrets(params):
    """The secrets a task's options carry: inside credentials (also those of ``members`` entries) and ``url``."""
    found = set()
    for option in CREDENTIAL_OPTIONS:
        found |= secret_values(params.get(option))
    for entry in params.get('members') or []:
        if isinstance(entry, dict):
            found |= secret_values(entry.get('cloud'))
    for option in ('url', 'uri'):  # uri: the openstack.cloud name of url
        if isinstance(params.get(option), str):
            found |= url_secrets(params[option])
    return found


def secret_values(value, key=''):
    """Every secret string inside ``value``: values of secret-looking keys, and URL passwords and tokens."""
    found = set()
    if isinstance(value, dict):
        for sub_key, sub_value in value.items():
            if SECRET_KEY.search(str(sub_key)) and isinstance(sub_value, (str, int)) and str(sub_value):
                found.add(str(sub_value))
            else:
                found |= secret_values(sub_value, str(sub_key))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= secret_values(item, key)
    elif isinstance(value, str) and '://' in value:
        found |= url_secrets(value)
    return found


def url_secrets(url):
    """The password of a URL's user part and the values of its secret-looking query parameters."""
    try:
        split = urlsplit(url)
        found = {split.password} if split.password else set()
        found |= {value for name, value in parse_qsl(split.query, keep_blank_values=False)
                  if SECRET_KEY.search(name) and value}
    except ValueError:
        return set()
    return found


def strip_url_secrets(url):
    """``url`` with any secret of it replaced by ``********``, fit for a message."""
    text = str(url)
    for secret in sorted(url_secrets(text), key=len, reverse=True):
        text = text.replace(secret, '********')
    return text
