# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The common connection options and the authenticated openstacksdk connection they describe."""

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

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError, one_line
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.failures import connection_failure, connection_failure_kind
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import bound_session, request_timeout


def connection_argument_spec():
    """The common options of every module (see the ``connection`` doc fragment)."""
    return dict(
        cloud=dict(type='raw'),
        # Not no_log: Ansible would then hide every value of it, user names, domains and
        # auth_url too, in every message. Its secrets alone are hidden (see _runner.GlanceModule).
        auth=dict(type='dict', no_log=False),
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
    api_timeout = conn.config.config.get('api_timeout')
    bound_session(conn.session, api_timeout)
    try:
        # Authenticate now, so that a wrong password or an unreachable Keystone
        # surfaces here as one clear message rather than in the first API call.
        conn.authorize()
    except Exception as exc:  # openstacksdk wraps keystoneauth's own family
        if connection_failure_kind(exc) is not None:
            reason = connection_failure(exc, auth_url, request_timeout(api_timeout))
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
