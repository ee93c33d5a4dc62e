from __future__ import annotations

import json

import pytest

from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.parameters import PASS_VARS
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cloudimage.glance.plugins.module_utils.common import (
    strip_url_secrets, task_secrets, url_secrets,
)
from ansible_collections.cloudimage.glance.plugins.modules import image_policy

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


def run_policy(capsys, tmp_path, **args):
    args.update(_ansible_tmpdir=str(tmp_path), _ansible_check_mode=False, _ansible_diff=True)
    if 'inject_invocation' in PASS_VARS:
        # ansible-core 2.21 and later send the invocation only when the controller asks for it.
        args['_ansible_inject_invocation'] = True
    module_warnings._global_warnings.clear()
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            image_policy.main()
    return exc.value.code, capsys.readouterr().out


@pytest.mark.parametrize('rules, code', [({'add_member': 'role:admin'}, 0), ({'add_member': 'role:'}, 1)])
def test_module_output_never_holds_the_password(capsys, tmp_path, rules, code):
    rc, out = run_policy(capsys, tmp_path, path=str(tmp_path / 'policy.yaml'), rules=rules, cloud=CLOUD)
    assert rc == code
    assert 'pw-producer-1' not in out
    # The invocation is still shown, with the rest of the cloud readable.
    assert json.loads(out)['invocation']['module_args']['cloud']['auth']['username'] == 'producer'


def test_option_validation_failure_never_holds_the_password(capsys, tmp_path):
    rc, out = run_policy(capsys, tmp_path, path=str(tmp_path / 'policy.yaml'), cloud=CLOUD, no_such_option=1)
    assert rc == 1 and 'no_such_option' in json.loads(out)['msg']
    assert 'pw-producer-1' not in out


def test_a_malformed_cloud_dict_is_named():
    from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError, connection_kwargs
    with pytest.raises(GlanceError) as info:
        connection_kwargs({'cloud': {'auth': 'x'}})
    assert str(info.value) == 'cloud.auth must be a dictionary (auth_url, username, password, ...), got str'
