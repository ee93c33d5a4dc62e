# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection options, the connection itself and the single error type.

Everything here is importable without Ansible running a module, so unit tests
can exercise it directly.
"""

from __future__ import annotations

import traceback

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
    ``str()`` is a single line fit for a module's ``msg``.
    """

    def __init__(self, message, status=None, request_id=None, action=None, server_message=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.action = action
        self.server_message = server_message

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
        interface=dict(type='str', default='public', choices=['public', 'internal', 'admin'],
                       aliases=['endpoint_type']),
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
    """Return an authenticated openstacksdk ``Connection`` for the common options."""
    if not HAS_OPENSTACKSDK:
        raise GlanceError('openstacksdk is required: pip install openstacksdk')
    kwargs = connection_kwargs(params)
    try:
        conn = openstack.connect(app_name='cloudimage.glance', **kwargs)
        # Authenticate now, so that a wrong password or an unreachable Keystone
        # surfaces here as one clear message rather than in the first API call.
        conn.authorize()
    except openstack.exceptions.ConfigException as exc:
        raise GlanceError('cannot load cloud configuration: %s' % one_line(exc)) from exc
    except openstack.exceptions.SDKException as exc:
        raise GlanceError('cannot authenticate to %s: %s' % (describe_cloud(params), one_line(exc)),
                          status=getattr(exc, 'status_code', None)) from exc
    except Exception as exc:  # keystoneauth raises its own family, e.g. ConnectFailure
        raise GlanceError('cannot authenticate to %s: %s' % (describe_cloud(params), one_line(exc))) from exc
    return conn


def describe_cloud(params):
    cloud = params.get('cloud')
    if isinstance(cloud, str):
        return 'cloud %r' % cloud
    return 'the configured cloud'


def one_line(value):
    """Collapse any text (exception, HTML error page) into one line."""
    return ' '.join(str(value).split())
