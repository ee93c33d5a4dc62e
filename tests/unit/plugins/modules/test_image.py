# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.modules import image as image_module
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2, session_for
from ansible_collections.cloudimage.glance.tests.unit.module_runs import run_module

KERNEL_ID = '11111111-1111-4111-8111-111111111111'
IMAGE_ID = '33333333-3333-4333-8333-333333333333'
PRODUCER = 'e82189f4771c4dcebd97a50760a10ff3'


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(lost_updates, 'settle_pause', lambda _seconds: 0)


def existing(**fields):
    return dict(dict(id=IMAGE_ID, name='ci', status='active', visibility='public', protected=False, os_hidden=False,
                     disk_format='qcow2', container_format='bare', tags=[], min_ram=0, owner=PRODUCER,
                     checksum='0' * 32, os_hash_algo='sha512', os_hash_value='0' * 128), **fields)


def test_image_module_refuses_contradictions_before_any_request(monkeypatch, capsys):
    server = ImageServiceV2([existing()], project_id=PRODUCER)
    result = run_module(monkeypatch, capsys, image_module, server.session(), name='ci', is_public=True,
                        visibility='private')
    assert result['failed'] and result['msg'] == 'is_public: true and visibility: private disagree; give one of them'
    assert server.calls == [] and result['_connections'] == 0


def test_image_module_update_without_is_public_keeps_visibility(monkeypatch, capsys):
    server = ImageServiceV2([existing(kernel_id=None)], project_id=PRODUCER)
    server.images[KERNEL_ID] = dict(existing(id=KERNEL_ID, name='vmlinuz', disk_format='aki', container_format='aki'))
    result = run_module(monkeypatch, capsys, image_module, server.session(), name='ci', min_ram=64,
                        is_protected=True, kernel='vmlinuz')
    assert result['changed'] and not result.get('failed')
    assert server.images[IMAGE_ID]['visibility'] == 'public'
    assert server.images[IMAGE_ID]['protected'] is True and server.images[IMAGE_ID]['kernel_id'] == KERNEL_ID
    assert result['image']['is_protected'] is True and result['image']['kernel_id'] == KERNEL_ID
    assert all('/visibility' not in json.dumps(call) for call in server.writes())


def test_what_the_api_lacks_fails_the_task_with_the_one_message(monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, image_module, session_for(ImageDriverV1(None)), name='ci',
                        tags=['golden'])
    assert result['failed'] and result['_rc'] == 1
    assert result['msg'] == 'option tags needs Image API v2; this endpoint speaks Image API v1'
    assert result['error'] == {'status': None, 'request_id': None, 'action': None}
    assert result['_connections'] == 1


@pytest.mark.parametrize('diff', [False, True])
def test_the_diff_is_returned_only_with_diff_mode(monkeypatch, capsys, diff):
    server = ImageServiceV2([existing()], project_id=PRODUCER)
    result = run_module(monkeypatch, capsys, image_module, server.session(), diff=diff, check_mode=True, name='ci',
                        min_ram=64)
    assert result['changed'] and result['api_version'] == '2' and server.writes() == []
    assert ('diff' in result) is diff
