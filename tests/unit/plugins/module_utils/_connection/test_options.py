# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._connection import options
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.options import (
    connection_argument_spec, connection_kwargs, describe_cloud,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import (
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError


def test_a_malformed_cloud_dict_is_named():
    with pytest.raises(GlanceError) as info:
        connection_kwargs({'cloud': {'auth': 'x'}})
    assert str(info.value) == 'cloud.auth must be a dictionary (auth_url, username, password, ...), got str'


def test_a_cloud_of_another_type_is_named():
    with pytest.raises(GlanceError) as info:
        connection_kwargs({'cloud': ['producer']})
    assert str(info.value) == 'cloud must be the name of a clouds.yaml entry or a dictionary, got list'


def test_only_the_options_given_reach_openstacksdk():
    params = dict({option: None for option in connection_argument_spec()}, cloud='producer', region_name='RegionTwo',
                  validate_certs=False, ca_cert='/ca.pem', auth={'password': 'pw'}, wait=True, timeout=180)
    assert connection_kwargs(params) == {'cloud': 'producer', 'region_name': 'RegionTwo', 'verify': False,
                                         'cacert': '/ca.pem', 'auth': {'password': 'pw'}}


def test_auth_is_merged_into_a_cloud_dict():
    cloud = {'auth': {'auth_url': 'http://k:5000/v3', 'username': 'u'}, 'region_name': 'RegionOne'}
    kwargs = connection_kwargs({'cloud': cloud, 'auth': {'password': 'pw'}})
    assert kwargs == {'auth': {'auth_url': 'http://k:5000/v3', 'username': 'u', 'password': 'pw'},
                      'region_name': 'RegionOne'}
    assert cloud['auth'] == {'auth_url': 'http://k:5000/v3', 'username': 'u'}


def test_messages_name_a_cloud_by_its_entry_only():
    assert describe_cloud({'cloud': 'producer'}) == "cloud 'producer'"
    assert describe_cloud({'cloud': {'auth': {'password': 'pw'}}}) == 'the configured cloud'


class Connection:
    """What ``connect`` reads of an openstacksdk connection; records the session's timeout at authentication."""

    def __init__(self, api_timeout=None):
        self.config = SimpleNamespace(config={'api_timeout': api_timeout, 'auth': {'auth_url': 'http://k:5000/v3'}})
        self.session = SimpleNamespace(timeout=None if api_timeout is None else float(api_timeout))
        self.timeout_at_authentication = 'not authenticated'

    def authorize(self):
        self.timeout_at_authentication = self.session.timeout


@pytest.mark.parametrize('api_timeout, timeout', [
    (None, (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)),
    (5, 5.0),
])
def test_keystone_calls_are_bounded_even_without_api_timeout(monkeypatch, api_timeout, timeout):
    connection = Connection(api_timeout)
    monkeypatch.setattr(options.openstack, 'connect', lambda **_kwargs: connection)
    assert options.connect({'cloud': 'producer'}) is connection
    assert connection.timeout_at_authentication == timeout
