# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.secrets import (
    secret_values, strip_url_secrets, task_secrets, url_secrets,
)

CLOUD = {
    'auth': {'auth_url': 'http://127.0.0.1:5000/v3', 'username': 'producer', 'password': 'pw-producer-1',
             'project_name': 'producer', 'user_domain_name': 'Default', 'project_domain_name': 'Default'},
    'region_name': 'RegionOne',
}


def test_a_cloud_name_is_no_secret():
    assert task_secrets({'cloud': 'producer', 'member_cloud': 'consumer1'}) == set()


def test_secrets_inside_every_credential_option():
    params = {
        'cloud': CLOUD,
        'auth': {'password': 'pw-auth'},
        'member_cloud': {'auth_type': 'v3applicationcredential',
                         'auth': {'application_credential_id': 'ac-id', 'application_credential_secret': 'pw-appcred'}},
        'members': ['consumer2', {'project': 'consumer1', 'cloud': {'auth': {'token': 'tok-member', 'passcode': 'pc'}}}],
        'url': 'https://ci:pw-url@images.example/x.img?token=tok-url&size=5&temp_url_sig=sig-url',
    }
    assert task_secrets(params) == {'pw-producer-1', 'pw-auth', 'pw-appcred', 'tok-member', 'pc', 'pw-url',
                                    'tok-url', 'sig-url'}


def test_values_next_to_secrets_stay_readable():
    secrets = task_secrets({'cloud': CLOUD})
    assert 'producer' not in secrets and 'Default' not in secrets and 'RegionOne' not in secrets


@pytest.mark.parametrize('url, secrets, shown', [
    ('http://127.0.0.1:8000/x.img', set(), 'http://127.0.0.1:8000/x.img'),
    ('http://ci:s3cret@127.0.0.1/x.img', {'s3cret'}, 'http://ci:********@127.0.0.1/x.img'),
    ('http://127.0.0.1/x.img?X-Amz-Signature=abc&X-Amz-Date=20261202', {'abc'},
     'http://127.0.0.1/x.img?X-Amz-Signature=********&X-Amz-Date=20261202'),
    ('not a url', set(), 'not a url'),
])
def test_url_secrets(url, secrets, shown):
    assert url_secrets(url) == secrets
    assert strip_url_secrets(url) == shown


def test_secrets_in_lists_and_urls_inside_credentials():
    assert secret_values([{'token': 'tok-1'}, 'https://u:pw-2@h/x']) == {'tok-1', 'pw-2'}
    assert secret_values({'password': ''}) == set()


def test_the_openstack_cloud_name_of_url_is_masked_too():
    assert task_secrets({'uri': 'https://u:pw-uri@h/x.img'}) == {'pw-uri'}
