# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.modules import image_info as image_info_module
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2, session_for
from ansible_collections.cloudimage.glance.tests.unit.module_runs import run_module

KERNEL_ID = '11111111-1111-4111-8111-111111111111'
IMAGE_ID = '33333333-3333-4333-8333-333333333333'
PRODUCER = 'e82189f4771c4dcebd97a50760a10ff3'


def existing(**fields):
    return dict(dict(id=IMAGE_ID, name='ci', status='active', visibility='public', protected=False, os_hidden=False,
                     disk_format='qcow2', container_format='bare', tags=[], min_ram=0, owner=PRODUCER,
                     checksum='0' * 32, os_hash_algo='sha512', os_hash_value='0' * 128), **fields)


def test_image_info_module_takes_image_by_id_or_name_and_sdk_filters(monkeypatch, capsys):
    server = ImageServiceV2([existing(), existing(id=KERNEL_ID, name='vmlinuz', protected=True)],
                            project_id=PRODUCER)
    by_id = run_module(monkeypatch, capsys, image_info_module, server.session(), image=IMAGE_ID)
    assert [image['id'] for image in by_id['images']] == [IMAGE_ID]
    assert by_id['images'][0]['owner_id'] == PRODUCER
    server.calls.clear()
    by_name = run_module(monkeypatch, capsys, image_info_module, server.session(), image='vmlinuz',
                         filters={'is_protected': True})
    assert [image['id'] for image in by_name['images']] == [KERNEL_ID]
    assert server.calls == [('list', [('name', 'vmlinuz'), ('protected', 'true')])]
    pattern = run_module(monkeypatch, capsys, image_info_module, server.session(), image='vm*')
    assert pattern['images'] == [] and 'matched exactly' in pattern['warnings'][0]


def test_a_filter_the_api_lacks_fails_the_task_with_the_one_message(monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, image_info_module, session_for(ImageDriverV1(None)),
                        filters={'tags': ['golden']})
    assert result['failed']
    assert result['msg'] == 'filter tags needs Image API v2; this endpoint speaks Image API v1'


def test_a_bad_filter_value_fails_before_connecting(monkeypatch, capsys):
    server = ImageServiceV2(project_id=PRODUCER)
    result = run_module(monkeypatch, capsys, image_info_module, server.session(), filters={'limit': 0})
    assert result['failed'] and result['msg'] == 'filters.limit must be a whole number from 1 to 1000, got 0'
    assert result['_connections'] == 0 and server.calls == []
