# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import hashlib
import json
import struct
from types import SimpleNamespace

import jsonpatch
import pytest

from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cloudimage.glance.plugins.module_utils import module as runner
from ansible_collections.cloudimage.glance.plugins.module_utils import openstack_cloud_compat as compat
from ansible_collections.cloudimage.glance.plugins.module_utils.client import GlanceClient
from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.image import ImageTask
from ansible_collections.cloudimage.glance.plugins.module_utils.images import normalize_v2
from ansible_collections.cloudimage.glance.plugins.modules import image as image_module
from ansible_collections.cloudimage.glance.plugins.modules import image_info as image_info_module

KERNEL_ID = '11111111-1111-4111-8111-111111111111'
RAMDISK_ID = '22222222-2222-4222-8222-222222222222'
IMAGE_ID = '33333333-3333-4333-8333-333333333333'
PRODUCER = 'e82189f4771c4dcebd97a50760a10ff3'


def translate(**params):
    return compat.translate_image_params(params)


# -- pure translation ------------------------------------------------------------------
@pytest.mark.parametrize('given, visibility', [
    (dict(is_public=True), 'public'),
    (dict(is_public=False), 'private'),
    (dict(is_public=True, visibility='public'), 'public'),
    (dict(is_public=False, visibility='private'), 'private'),
    (dict(visibility='shared'), 'shared'),
    (dict(is_public=None), None),
    ({}, None),
])
def test_is_public_sets_visibility_and_leaves_it_alone_when_omitted(given, visibility):
    params, references = translate(**given)
    assert params.get('visibility') == visibility
    assert references == {}


@pytest.mark.parametrize('given, text', [
    (dict(is_public=True, visibility='private'), 'is_public: true and visibility: private disagree'),
    (dict(is_public=False, visibility='shared'), 'is_public: false and visibility: shared disagree'),
    (dict(is_protected=True, protected=False), 'is_protected: true and protected: false disagree'),
    (dict(volume='7c1e'), 'option volume'),
    (dict(import_method='glance-download', url='http://x'), 'import_method glance-download'),
    (dict(import_method='web-download'), 'import_method web-download needs uri'),
    (dict(use_import=True, filename='/tmp/x.qcow2'), 'use_import (the glance-direct import) is not supported'),
    (dict(owner_domain='Default'), 'owner_domain (project_domain) needs owner'),
    (dict(kernel='vmlinuz', properties={'kernel_id': KERNEL_ID}), 'kernel and properties.kernel_id disagree'),
    (dict(ramdisk='initrd', properties={'ramdisk_id': RAMDISK_ID}), 'ramdisk and properties.ramdisk_id disagree'),
])
def test_contradictions_and_unsupported_options_fail_in_one_line(given, text):
    with pytest.raises(GlanceError) as info:
        translate(**given)
    assert text in str(info.value)
    assert '\n' not in str(info.value)


def test_is_protected_is_protected():
    assert translate(is_protected=True)[0]['protected'] is True
    assert translate(is_protected=False, protected=False)[0]['protected'] is False
    assert translate(protected=True)[0]['protected'] is True
    assert translate()[0].get('protected') is None


@pytest.mark.parametrize('given, expected', [
    (dict(import_method='web-download', url='https://mirror.example/cirros.img'),
     {'url': 'https://mirror.example/cirros.img'}),
    (dict(use_import=True), {'filename': None, 'url': None}),
    (dict(use_import=True, url='https://mirror.example/cirros.img'), {'url': 'https://mirror.example/cirros.img'}),
    (dict(use_import=False, filename='/tmp/x.qcow2'), {'filename': '/tmp/x.qcow2'}),
    (dict(volume=''), {'visibility': None}),
    (dict(owner='producer', owner_domain='Default'), {'owner': 'producer', 'owner_domain': 'Default'}),
])
def test_what_maps_onto_this_collection_passes(given, expected):
    params, references = translate(**given)
    assert {key: params.get(key) for key in expected} == expected
    assert references == {}


def test_kernel_and_ramdisk_are_left_for_lookup_and_empty_ones_ignored():
    params, references = translate(kernel='vmlinuz', ramdisk='', properties={'os_distro': 'cirros'})
    assert references == {'kernel': 'vmlinuz'}
    assert params['properties'] == {'os_distro': 'cirros'}
    # Saying the same thing twice is no contradiction.
    assert translate(kernel=KERNEL_ID, properties={'kernel_id': KERNEL_ID})[1] == {'kernel': KERNEL_ID}


def test_translation_does_not_change_the_callers_options():
    given = dict(is_public=True, is_protected=True, properties={'a': 1})
    before = copy.deepcopy(given)
    translate(**given)
    assert given == before


# -- lookups --------------------------------------------------------------------------
class LookupClient:
    """find_image as the client does it: one lookup per call, an error for two images of one name."""

    def __init__(self, images):
        self.images = images
        self.lookups = []

    def find_image(self, name=None, **_kwargs):
        self.lookups.append(name)
        matches = [image for image in self.images if name in (image['id'], image['name'])]
        if len(matches) > 1:
            raise GlanceError('%d images are named %r (IDs: %s); give the image ID instead'
                              % (len(matches), name, ', '.join(sorted(m['id'] for m in matches))))
        return matches[0] if matches else None


def test_kernel_and_ramdisk_become_ids_with_one_lookup_each():
    client = LookupClient([{'id': KERNEL_ID, 'name': 'vmlinuz'}, {'id': RAMDISK_ID, 'name': 'initrd'}])
    params = compat.image_params(dict(kernel='vmlinuz', ramdisk=RAMDISK_ID, properties={'os_distro': 'cirros'}),
                                 client)
    assert params['properties'] == {'os_distro': 'cirros', 'kernel_id': KERNEL_ID, 'ramdisk_id': RAMDISK_ID}
    assert client.lookups == ['vmlinuz', RAMDISK_ID]


def test_no_lookup_without_kernel_or_ramdisk():
    client = LookupClient([])
    params = compat.image_params(dict(name='x', properties=None), client)
    assert client.lookups == [] and params['properties'] is None


def test_missing_or_ambiguous_kernel_fails_in_one_line():
    client = LookupClient([{'id': KERNEL_ID, 'name': 'twin'}, {'id': RAMDISK_ID, 'name': 'twin'}])
    with pytest.raises(GlanceError) as info:
        compat.image_params(dict(kernel='twin'), client)
    assert str(info.value).startswith("kernel: 2 images are named 'twin'")
    assert KERNEL_ID in str(info.value) and RAMDISK_ID in str(info.value)
    with pytest.raises(GlanceError) as info:
        compat.image_params(dict(ramdisk='nowhere'), client)
    assert str(info.value) == "ramdisk image 'nowhere' not found"


class Forbidden(Exception):
    status_code = 403


class Identity:
    """Keystone as openstacksdk's identity proxy shows it, recording each request."""

    def __init__(self, domains, projects, may_list=True):
        self.domains = domains            # {id: name}
        self.projects_ = projects         # [(id, name, domain_id)]
        self.may_list = may_list
        self.calls = []

    def find_domain(self, reference, ignore_missing=True):
        self.calls.append(('find_domain', reference))
        if not self.may_list:
            raise Forbidden('forbidden')
        for domain, name in self.domains.items():
            if reference in (domain, name):
                return SimpleNamespace(id=domain, name=name)
        return None

    def projects(self, **query):
        self.calls.append(('projects', query))
        if not self.may_list:
            raise Forbidden('forbidden')
        return [SimpleNamespace(id=pid, name=name, domain_id=domain) for pid, name, domain in self.projects_
                if name == query.get('name') and domain == query.get('domain_id')]


def keystone(may_list=True):
    return SimpleNamespace(identity=Identity({'default': 'Default', 'd2': 'Other'},
                                             [(PRODUCER, 'producer', 'default'), ('f' * 32, 'producer', 'd2')],
                                             may_list))


def test_project_name_is_found_in_its_domain_with_one_filtered_listing():
    conn = keystone()
    assert compat.project_in_domain(conn, 'producer', 'Default') == PRODUCER
    assert compat.project_in_domain(conn, 'producer', 'd2') == 'f' * 32
    assert conn.identity.calls[:2] == [('find_domain', 'Default'),
                                       ('projects', {'name': 'producer', 'domain_id': 'default'})]


def test_project_id_needs_no_lookup():
    conn = keystone()
    assert compat.project_in_domain(conn, PRODUCER, 'Other') == PRODUCER
    assert conn.identity.calls == []


def test_unknown_project_or_domain_fails_in_one_line():
    with pytest.raises(GlanceError, match="^project 'consumer9' not found in domain 'default'$"):
        compat.project_in_domain(keystone(), 'consumer9', 'Default')
    with pytest.raises(GlanceError, match="^domain 'Nowhere' does not exist$"):
        compat.project_in_domain(keystone(), 'producer', 'Nowhere')


def test_without_rights_to_list_the_name_is_left_to_the_callers_own_projects():
    assert compat.project_in_domain(keystone(may_list=False), 'producer', 'Default') == 'producer'


def test_owner_with_domain_becomes_the_project_id():
    client = SimpleNamespace(conn=keystone())
    params = compat.image_params(dict(owner='producer', owner_domain='Default'), client)
    assert params['owner'] == PRODUCER


# -- image_info ---------------------------------------------------------------------
@pytest.mark.parametrize('filters, version, expected', [
    ({'is_protected': False, 'owner_id': 'p', 'is_hidden': True}, '2', {'protected': False, 'owner': 'p', 'hidden': True}),
    ({'hash_value': 'ab', 'hash_algo': 'sha512'}, '2', {'os_hash_value': 'ab', 'os_hash_algo': 'sha512'}),
    ({'properties': {'os_distro': 'cirros', 'needs_config_drive': 'True'}}, '2',
     {'os_distro': 'cirros', 'img_config_drive': 'True'}),
    ({'properties': {'os_distro': 'cirros'}}, '1', {'property-os_distro': 'cirros'}),
    ({'visibility': 'public', 'protected': True, 'is_protected': True}, '2', {'visibility': 'public', 'protected': True}),
    ({}, '2', {}),
])
def test_info_filters_with_openstacksdk_names(filters, version, expected):
    assert compat.translate_info_filters(filters, version) == expected


def test_info_filters_that_disagree_fail():
    with pytest.raises(GlanceError, match='filters protected and is_protected disagree'):
        compat.translate_info_filters({'protected': True, 'is_protected': False}, '2')


def test_pattern_warning_only_for_wildcards_that_matched_nothing():
    assert 'matched exactly' in compat.pattern_warning('cirros*', [])
    assert compat.pattern_warning('cirros*', [{'id': 'x'}]) is None
    assert compat.pattern_warning('cirros', []) is None
    assert compat.pattern_warning(None, []) is None


def test_results_also_carry_the_openstack_cloud_keys():
    image = normalize_v2({'id': IMAGE_ID, 'name': 'n', 'protected': True, 'os_hidden': False, 'owner': PRODUCER,
                          'os_hash_algo': 'sha512', 'os_hash_value': 'ab', 'kernel_id': KERNEL_ID,
                          'img_config_drive': 'mandatory', 'status': 'active', 'tags': []})
    view = compat.openstack_cloud_view(image)
    assert view['is_protected'] is True and view['is_hidden'] is False and view['owner_id'] == PRODUCER
    assert view['hash_algo'] == 'sha512' and view['hash_value'] == 'ab'
    assert view['kernel_id'] == KERNEL_ID and view['properties']['kernel_id'] == KERNEL_ID
    assert view['needs_config_drive'] == 'mandatory'
    assert {key: view[key] for key in image} == image
    assert compat.openstack_cloud_view(None) is None


# -- the image workflow with the create default ------------------------------------------
def text(value):
    """A value as it travels in a query string."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


class Server:
    """Image documents as Glance keeps them; every request the workflow makes, in order."""

    normalize = staticmethod(normalize_v2)
    version = '2'

    def __init__(self, images=()):
        self.images = {image['id']: copy.deepcopy(image) for image in images}
        self.calls = []

    def get(self, image_id):
        self.calls.append(('get', image_id))
        return copy.deepcopy(self.images.get(image_id))

    def hash_algorithm(self):
        return 'sha512'

    def list(self, query, page_size=None):
        self.calls.append(('list', query))
        return [copy.deepcopy(image) for image in self.images.values()
                if all(text(image.get(key)) == value for key, value in query if key != 'limit')]

    def create(self, fields):
        self.calls.append(('create', dict(fields)))
        image = dict(fields, status='queued', visibility=fields.get('visibility', 'shared'), protected=False,
                     os_hidden=False, tags=fields.get('tags', []), checksum=None, os_hash_algo=None,
                     os_hash_value=None)
        self.images[image['id']] = image
        return copy.deepcopy(image)

    def patch(self, image_id, operations):
        self.calls.append(('patch', operations))
        self.images[image_id] = jsonpatch.apply_patch(self.images[image_id], operations)
        return copy.deepcopy(self.images[image_id])

    def upload(self, image_id, reader, size):
        data = b''.join(reader)
        self.calls.append(('upload', image_id))
        self.images[image_id].update(status='active', checksum=hashlib.md5(data).hexdigest(), size=len(data),
                                     os_hash_algo='sha512', os_hash_value=hashlib.sha512(data).hexdigest())

    def delete(self, image_id):
        self.calls.append(('delete', image_id))
        self.images.pop(image_id, None)

    def writes(self):
        return [call for call in self.calls if call[0] not in ('get', 'list')]

    def find_by_name(self, name, owner=None, include_shared_pending=False):
        self.calls.append(('list', [('name', name)]))
        return [copy.deepcopy(image) for image in self.images.values() if image['name'] == name]


def client_for(server):
    """The real client's lookups, over the server stand-in."""
    client = GlanceClient.__new__(GlanceClient)
    client.api, client.version = server, '2'
    client.conn = SimpleNamespace(current_project_id=PRODUCER)
    client._projects, client._projects_read, client._own = None, False, None
    return client


class Module:
    check_mode = False
    _diff = False

    def __init__(self, params):
        self.params = params
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def qcow2_file(tmp_path):
    path = tmp_path / 'disk.qcow2'
    header = struct.pack('>4sIQIIQ', b'QFI\xfb', 3, 0, 0, 16, 1 << 20)
    path.write_bytes(header + bytes(512 - len(header)) + b'payload' * 100)
    return path


def task_params(**options):
    base = dict(name='ci', id=None, state='present', filename=None, url=None, checksum=None, owner=None,
                replace_data=False, disk_format=None, container_format=None, visibility=None, protected=None,
                hidden=None, min_disk=None, min_ram=None, properties=None, purge_properties=False, tags=None,
                purge_tags=False, timeout=5, wait=True)
    base.update(options)
    return base


def run_task(server, params):
    return ImageTask(Module(params), client_for(server)).run()


def test_a_new_image_from_a_qcow2_file_defaults_to_qcow2_and_bare(tmp_path):
    server = Server()
    result = run_task(server, task_params(filename=str(qcow2_file(tmp_path))))
    created = [fields for kind, fields in server.calls if kind == 'create']
    assert created[0]['disk_format'] == 'qcow2' and created[0]['container_format'] == 'bare'
    assert result['image']['status'] == 'active' and result['image']['disk_format'] == 'qcow2'


def test_a_new_image_from_other_data_still_needs_disk_format(tmp_path):
    data = tmp_path / 'disk.raw'
    data.write_bytes(b'raw bytes' * 100)
    server = Server()
    with pytest.raises(GlanceError, match='disk_format is required'):
        run_task(server, task_params(filename=str(data)))
    assert server.writes() == []


def test_an_existing_image_keeps_its_formats(tmp_path):
    path = qcow2_file(tmp_path)
    content = path.read_bytes()
    server = Server([dict(id=IMAGE_ID, name='ci', status='active', visibility='private', protected=False,
                          os_hidden=False, disk_format='raw', container_format='bare', tags=[],
                          checksum=hashlib.md5(content).hexdigest(), os_hash_algo='sha512',
                          os_hash_value=hashlib.sha512(content).hexdigest())])
    result = run_task(server, task_params(filename=str(path), min_ram=64))
    assert result['changed'] and server.writes() == [
        ('patch', [{'op': 'add', 'path': '/min_ram', 'value': 64}])]
    assert server.images[IMAGE_ID]['disk_format'] == 'raw'


def test_an_image_id_given_as_name_finds_the_image_and_keeps_its_name():
    server = Server([existing()])
    result = run_task(server, task_params(name=IMAGE_ID, min_ram=64))
    assert result['changed'] and server.writes() == [
        ('patch', [{'op': 'replace', 'path': '/min_ram', 'value': 64}])]
    assert server.images[IMAGE_ID]['name'] == 'ci'


def test_an_id_with_a_name_still_renames():
    server = Server([existing()])
    run_task(server, task_params(id=IMAGE_ID, name='renamed'))
    assert server.images[IMAGE_ID]['name'] == 'renamed'


# -- the modules, end to end with a server stand-in -----------------------------------
def run_module(monkeypatch, capsys, module, client, **args):
    monkeypatch.setattr(runner, 'GlanceClient', lambda params: client)
    module_warnings._global_warnings.clear()
    with patch_module_args(dict(args, _ansible_check_mode=False, _ansible_diff=False)):
        with pytest.raises(SystemExit):
            module.main()
    result = json.loads(capsys.readouterr().out)
    result['warnings'] = [warning['event']['msg'] if isinstance(warning, dict) else warning
                          for warning in result.get('warnings', [])]
    return result


def existing(**fields):
    return dict(dict(id=IMAGE_ID, name='ci', status='active', visibility='public', protected=False, os_hidden=False,
                     disk_format='qcow2', container_format='bare', tags=[], min_ram=0, owner=PRODUCER,
                     checksum='0' * 32, os_hash_algo='sha512', os_hash_value='0' * 128), **fields)


def test_image_module_refuses_contradictions_before_any_request(monkeypatch, capsys):
    server = Server([existing()])
    result = run_module(monkeypatch, capsys, image_module, client_for(server), name='ci', is_public=True,
                        visibility='private')
    assert result['failed'] and result['msg'] == 'is_public: true and visibility: private disagree; give one of them'
    assert server.calls == []


def test_image_module_update_without_is_public_keeps_visibility(monkeypatch, capsys):
    server = Server([existing(kernel_id=None)])
    server.images[KERNEL_ID] = dict(existing(id=KERNEL_ID, name='vmlinuz', disk_format='aki', container_format='aki'))
    result = run_module(monkeypatch, capsys, image_module, client_for(server), name='ci', min_ram=64,
                        is_protected=True, kernel='vmlinuz')
    assert result['changed'] and not result.get('failed')
    assert server.images[IMAGE_ID]['visibility'] == 'public'
    assert server.images[IMAGE_ID]['protected'] is True and server.images[IMAGE_ID]['kernel_id'] == KERNEL_ID
    assert result['image']['is_protected'] is True and result['image']['kernel_id'] == KERNEL_ID
    assert all('/visibility' not in json.dumps(call) for call in server.writes())


def test_image_info_module_takes_image_by_id_or_name_and_sdk_filters(monkeypatch, capsys):
    server = Server([existing(), existing(id=KERNEL_ID, name='vmlinuz', protected=True)])
    by_id = run_module(monkeypatch, capsys, image_info_module, client_for(server), image=IMAGE_ID)
    assert [image['id'] for image in by_id['images']] == [IMAGE_ID]
    assert by_id['images'][0]['owner_id'] == PRODUCER
    server.calls.clear()
    by_name = run_module(monkeypatch, capsys, image_info_module, client_for(server), image='vmlinuz',
                         filters={'is_protected': True})
    assert [image['id'] for image in by_name['images']] == [KERNEL_ID]
    assert server.calls == [('list', [('name', 'vmlinuz'), ('protected', 'true')])]
    pattern = run_module(monkeypatch, capsys, image_info_module, client_for(server), image='vm*')
    assert pattern['images'] == [] and 'matched exactly' in pattern['warnings'][0]
