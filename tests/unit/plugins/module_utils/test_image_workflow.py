from __future__ import annotations

import copy
import hashlib

import jsonpatch
import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.data import HashingReader
from ansible_collections.cloudimage.glance.plugins.module_utils.images import (
    normalize_v2, replaced_id, settle_replacements,
)
from ansible_collections.cloudimage.glance.plugins.module_utils import image as image_workflow

IMAGE_ID = '6a0b4f67-6b0e-4cf4-9d54-5d0c2b0a1f11'
DATA = b'disk image bytes' * 100


class Module:
    check_mode = False
    _diff = False

    def __init__(self, params):
        self.params = params
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


class V2Server:
    """Image documents as Glance 33 keeps them, and every call the workflow makes, in order."""

    normalize = staticmethod(normalize_v2)
    version = '2'
    hides = True  # Rocky and later keep os_hidden; Pike's v2 does not know it

    def __init__(self, images=(), stored_data=None):
        self.images = {image['id']: copy.deepcopy(image) for image in images}
        self.stored_data = stored_data  # what the server keeps of an upload (None: what it was sent)
        self.calls = []

    def get(self, image_id):
        self.calls.append(('get', image_id))
        return copy.deepcopy(self.images.get(image_id))

    def hash_algorithm(self):
        return 'sha512'

    def create(self, fields):
        self.calls.append(('create', dict(fields)))
        image = dict(fields, status='queued', visibility=fields.get('visibility', 'shared'), protected=False,
                     os_hidden=fields.get('os_hidden', False), tags=fields.get('tags', []), checksum=None, os_hash_algo=None,
                     os_hash_value=None)
        if not self.hides:
            del image['os_hidden']
        self.images[image['id']] = image
        return copy.deepcopy(image)

    def patch(self, image_id, operations):
        self.calls.append(('patch', operations))
        self.images[image_id] = jsonpatch.apply_patch(self.images[image_id], operations)
        return copy.deepcopy(self.images[image_id])

    def upload(self, image_id, reader, size):
        sent = b''.join(reader)
        self.calls.append(('upload', image_id))
        if self.images[image_id].get('container_format') is None:
            raise GlanceError('upload_image refused', status=400,
                              server_message='Property container_format must be set prior to saving data.')
        kept = sent if self.stored_data is None else self.stored_data
        self.images[image_id].update(status='active', checksum=hashlib.md5(kept).hexdigest(), os_hash_algo='sha512',
                                     os_hash_value=hashlib.sha512(kept).hexdigest(), size=len(kept))

    def delete(self, image_id):
        self.calls.append(('delete', image_id))
        self.images.pop(image_id, None)

    def find_by_name(self, name, owner=None, include_shared_pending=False):
        return [copy.deepcopy(image) for image in self.images.values() if image['name'] == name]


class Client:
    version = '2'
    project_id = 'p'

    def __init__(self, api):
        self.api = api

    def find_image_and_replacement(self, name=None, image_id=None, owner=None, include_shared_pending=False):
        images, in_progress = settle_replacements(self.api.find_by_name(name))
        assert len(images) <= 1
        if not images:
            return None, None
        return images[0], next((r for r in in_progress if replaced_id(r) == images[0]['id']), None)


def params(tmp_path, **options):
    data = tmp_path / 'disk.raw'
    data.write_bytes(DATA)
    base = dict(name='ci', id=None, state='present', filename=str(data), url=None, checksum=None, owner=None,
                replace_data=False, disk_format='raw', container_format='bare', visibility=None, protected=None,
                hidden=None, min_disk=None, min_ram=None, properties=None, purge_properties=False, tags=None,
                purge_tags=False, timeout=5, wait=True)
    base.update(options)
    return base


def run(server, task_params):
    return image_workflow.ImageTask(Module(task_params), Client(server)).run()


def queued(**fields):
    return dict(dict(id=IMAGE_ID, name='ci', status='queued', visibility='shared', protected=False, os_hidden=False,
                     disk_format='raw', container_format='bare', tags=[], checksum=None, os_hash_algo=None,
                     os_hash_value=None), **fields)


def test_resumed_queued_image_is_protected_only_after_its_data_is_verified(tmp_path):
    server = V2Server([queued()])
    result = run(server, params(tmp_path, protected=True))
    kinds = [call[0] for call in server.calls]
    assert kinds.index('upload') < kinds.index('patch')
    protecting = [ops for kind, ops in server.calls if kind == 'patch']
    assert protecting == [[{'op': 'replace', 'path': '/protected', 'value': True}]]
    assert result['image']['protected'] is True and result['changed']


def test_resumed_queued_image_with_mismatched_data_is_reported_and_kept(tmp_path):
    server = V2Server([queued()], stored_data=b'something else')
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, protected=True))
    assert 'different data' in str(info.value)
    assert 'delete' not in [call[0] for call in server.calls]
    assert server.images[IMAGE_ID]['protected'] is False


def test_new_image_with_mismatched_data_is_removed(tmp_path):
    server = V2Server(stored_data=b'something else')
    with pytest.raises(GlanceError):
        run(server, params(tmp_path, protected=True))
    assert server.images == {}


def test_container_format_defaults_to_bare_when_creating_with_data(tmp_path):
    server = V2Server()
    result = run(server, params(tmp_path, container_format=None))
    created = [fields for kind, fields in server.calls if kind == 'create']
    assert created[0]['container_format'] == 'bare'
    assert result['image']['status'] == 'active'


def test_creating_with_data_needs_disk_format_before_any_request(tmp_path):
    server = V2Server()
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, disk_format=None, container_format=None))
    assert str(info.value) == 'disk_format is required to create image ci with data (for example raw or qcow2)'
    assert server.images == {} and not [call for call in server.calls if call[0] != 'get']


# -- uploads that fail on the way ------------------------------------------------------
class UploadApi:
    """Uploads fail as scripted; reading the image answers the scripted statuses."""

    def __init__(self, upload_failures, statuses):
        self.upload_failures = list(upload_failures)
        self.statuses = list(statuses)
        self.uploads = []

    def upload(self, image_id, reader, size):
        self.uploads.append(b''.join(reader))
        if self.upload_failures:
            raise self.upload_failures.pop(0)

    def get(self, image_id):
        return {'id': image_id, 'status': self.statuses.pop(0)}


def upload_task(tmp_path, api):
    task_params = params(tmp_path)
    (tmp_path / 'disk.raw').write_bytes(b'x' * 3000)
    reader = HashingReader(task_params['filename'], {'sha512'}, chunk_size=1000)
    return image_workflow.ImageTask(Module(task_params), Client(api)), reader


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(image_workflow, 'POLL_INTERVAL', 0)


def transient():
    return GlanceError('upload_image image x failed', status=503, transient=True)


def test_upload_sent_again_while_the_image_is_still_queued(tmp_path):
    api = UploadApi([transient()], ['saving', 'queued'])
    work, reader = upload_task(tmp_path, api)
    work.send_data(IMAGE_ID, reader)
    assert api.uploads == [b'x' * 3000] * 2
    assert reader.size == 3000 and reader.digests()['sha512'] == hashlib.sha512(b'x' * 3000).hexdigest()


def test_upload_whose_answer_was_lost_but_the_server_kept_the_data_is_not_sent_again(tmp_path):
    api = UploadApi([transient()], ['active'])
    work, reader = upload_task(tmp_path, api)
    work.send_data(IMAGE_ID, reader)
    assert len(api.uploads) == 1


def test_upload_gives_up_after_its_attempts(tmp_path):
    api = UploadApi([transient()] * image_workflow.UPLOAD_ATTEMPTS, ['queued'] * image_workflow.UPLOAD_ATTEMPTS)
    work, reader = upload_task(tmp_path, api)
    with pytest.raises(GlanceError) as info:
        work.send_data(IMAGE_ID, reader)
    assert len(api.uploads) == image_workflow.UPLOAD_ATTEMPTS and info.value.transient


@pytest.mark.parametrize('failure, statuses', [
    (GlanceError('upload_image refused', status=403), []),
    (transient(), ['killed']),
])
def test_upload_is_not_sent_again_after_a_final_answer(tmp_path, failure, statuses):
    api = UploadApi([failure], statuses)
    work, reader = upload_task(tmp_path, api)
    with pytest.raises(GlanceError):
        work.send_data(IMAGE_ID, reader)
    assert len(api.uploads) == 1


def test_each_new_image_gets_its_own_id_chosen_before_the_request(tmp_path):
    created = []

    class CreatingApi(UploadApi):
        def create(self, fields):
            created.append(fields)
            return dict(fields, status='queued')

    work, _reader = upload_task(tmp_path, CreatingApi([], []))
    work.create_record({'name': 'ci'}, {}, [])
    work.create_record({'name': 'ci'}, {}, [])
    ids = [fields['id'] for fields in created]
    assert len(set(ids)) == 2 and all(len(image_id) == 36 for image_id in ids)
    work.create_record({'name': 'ci', 'id': IMAGE_ID}, {}, [])
    assert created[-1]['id'] == IMAGE_ID


# -- web-download imports ------------------------------------------------------------------
class ImportingServer(V2Server):
    """Imports 'fetch' ``imported`` bytes; the server keeps md5 and a sha512 multihash."""

    def __init__(self, imported, images=()):
        super().__init__(images)
        self.imported = imported

    def import_methods(self):
        return ['glance-direct', 'web-download']

    def import_from_url(self, image_id, url):
        self.calls.append(('import', url))
        self.images[image_id].update(status='active', checksum=hashlib.md5(self.imported).hexdigest(),
                                     os_hash_algo='sha512', os_hash_value=hashlib.sha512(self.imported).hexdigest())

    def download(self, image_id):
        self.calls.append(('download', image_id))
        return iter([self.imported[:10], self.imported[10:]])


@pytest.mark.parametrize('algorithm', ['sha512', 'sha256'])
def test_url_import_matching_checksum_is_kept(tmp_path, algorithm):
    server = ImportingServer(DATA)
    digest = hashlib.new(algorithm, DATA).hexdigest()
    result = run(server, params(tmp_path, filename=None, url='http://127.0.0.1/x.img',
                                checksum='%s:%s' % (algorithm, digest)))
    assert result['image']['status'] == 'active'
    # Only a digest the server does not keep costs a read of the data.
    assert [call[0] for call in server.calls].count('download') == (1 if algorithm == 'sha256' else 0)


@pytest.mark.parametrize('algorithm', ['sha512', 'sha256'])
def test_url_import_mismatching_checksum_removes_the_new_image(tmp_path, algorithm):
    server = ImportingServer(b'not what was expected')
    digest = hashlib.new(algorithm, DATA).hexdigest()
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, filename=None, url='http://u:pw@127.0.0.1/x.img',
                           checksum='%s:%s' % (algorithm, digest)))
    assert 'does not match checksum %s:%s' % (algorithm, digest) in str(info.value)
    assert 'pw' not in str(info.value).replace('http://u:********@', '')
    assert server.images == {}


# -- replacing the data of an image, failing at every step -----------------------------------
OLD_DATA = b'old disk image bytes' * 50


class FailingServer(V2Server):
    """Fails the first call of one kind (after the server did nothing), like a refusal or an outage."""

    def __init__(self, images, fail_on=None, fail_when=lambda call: True):
        super().__init__(images)
        self.fail_on = fail_on
        self.fail_when = fail_when

    def _maybe_fail(self, kind, detail):
        if self.fail_on == kind and self.fail_when(detail):
            self.fail_on = None
            raise GlanceError('%s refused' % kind, status=503)

    def upload(self, image_id, reader, size):
        self._maybe_fail('upload', image_id)
        super().upload(image_id, reader, size)

    def delete(self, image_id):
        self._maybe_fail('delete', image_id)
        super().delete(image_id)

    def patch(self, image_id, operations):
        self._maybe_fail('patch', operations)
        return super().patch(image_id, operations)

    def members(self, image_id):
        return []


def old_image():
    return dict(queued(status='active', protected=True), checksum=hashlib.md5(OLD_DATA).hexdigest(),
                os_hash_algo='sha512', os_hash_value=hashlib.sha512(OLD_DATA).hexdigest(), os_distro='debian')


def visible(server):
    """What a plain listing shows under the name (Glance leaves hidden images out)."""
    return [image for image in server.images.values() if image['name'] == 'ci' and not image.get('os_hidden')]


def replace_params(tmp_path):
    return params(tmp_path, replace_data=True, protected=False)


def assert_replaced(server):
    assert len(server.images) == 1
    (image,) = server.images.values()
    assert image['id'] != IMAGE_ID and image['status'] == 'active'
    assert image['os_hash_value'] == hashlib.sha512(DATA).hexdigest()
    assert image['os_distro'] == 'debian' and not image.get('os_hidden')
    assert 'cloudimage_replaces' not in image


def test_replace_without_failure(tmp_path):
    server = FailingServer([old_image()])
    result = run(server, replace_params(tmp_path))
    assert result['changed']
    assert_replaced(server)


@pytest.mark.parametrize('fail_on, fail_when, old_kept', [
    ('upload', lambda image_id: True, True),
    ('delete', lambda image_id: image_id == IMAGE_ID, True),
    ('patch', lambda operations: {'op': 'remove', 'path': '/protected'} not in operations and any(
        op['path'] == '/cloudimage_replaces' for op in operations), False),
])
def test_replace_failing_at_any_step_leaves_one_image_and_a_rerun_converges(tmp_path, fail_on, fail_when, old_kept):
    server = FailingServer([old_image()], fail_on, fail_when)
    with pytest.raises(GlanceError):
        run(server, replace_params(tmp_path))
    # One image under the name for the modules (the old one while it exists) ...
    found, _replacement = Client(server).find_image_and_replacement('ci')
    assert found['id'] == IMAGE_ID if old_kept else replaced_id(found) == IMAGE_ID
    # ... and never two in a plain listing.
    assert len(visible(server)) <= 1
    uploads_before = [call[0] for call in server.calls].count('upload')
    result = run(server, replace_params(tmp_path))
    assert result['changed']
    assert_replaced(server)
    if fail_on != 'upload':
        # The verified replacement was reused, not uploaded again.
        assert [call[0] for call in server.calls].count('upload') == uploads_before
    again = run(server, replace_params(tmp_path))
    assert not again['changed']


def test_absent_also_removes_an_unfinished_replacement(tmp_path):
    server = FailingServer([old_image()], 'delete', lambda image_id: image_id == IMAGE_ID)
    with pytest.raises(GlanceError):
        run(server, replace_params(tmp_path))
    assert len(server.images) == 2
    run(server, params(tmp_path, state='absent', protected=False, filename=None))
    assert server.images == {}


# -- another writer saving a stale copy right after this task's write ------------------------
class StaleWriterServer(V2Server):
    """After the task's first patch, another request that read the image before it saves its own copy."""

    def __init__(self, images):
        super().__init__(images)
        self.stale = None

    def patch(self, image_id, operations):
        if self.stale is None:
            self.stale = dict(copy.deepcopy(self.images[image_id]), theirs='kept', tags=['their-tag'])
            document = super().patch(image_id, operations)
            self.images[image_id] = self.stale  # saved after ours, from a copy read before it
            return document
        return super().patch(image_id, operations)

    def add_tag(self, image_id, tag):
        self.calls.append(('add_tag', tag))
        self.images[image_id]['tags'] = sorted(set(self.images[image_id]['tags']) | {tag})

    def remove_tag(self, image_id, tag):
        self.calls.append(('remove_tag', tag))
        self.images[image_id]['tags'] = [t for t in self.images[image_id]['tags'] if t != tag]


def test_update_undone_by_a_concurrent_save_is_sent_again(tmp_path):
    server = StaleWriterServer([dict(old_image(), protected=False)])
    result = run(server, params(tmp_path, filename=None, properties={'ours': 'yes'}, tags=['our-tag']))
    image = server.images[IMAGE_ID]
    assert image['ours'] == 'yes' and image['theirs'] == 'kept'
    assert sorted(image['tags']) == ['our-tag', 'their-tag']
    assert result['changed'] and result['image']['properties']['ours'] == 'yes'
    # The tag went in its own call, never as a whole list that could drop others' tags.
    assert all(op['path'] != '/tags' for kind, ops in server.calls if kind == 'patch' for op in ops)


# -- cleaning up after a cut upload -------------------------------------------------------------
class CutUploadServer(V2Server):
    """The upload is cut; Glance puts the image back to queued only after a moment (saving first)."""

    def __init__(self):
        super().__init__()
        self.saving_reads = 2

    def upload(self, image_id, reader, size):
        b''.join(reader)
        self.calls.append(('upload', image_id))
        self.images[image_id]['status'] = 'saving'
        raise GlanceError('upload_image image %s: connection to http://glance was closed before it answered'
                          % image_id, transient=True)

    def get(self, image_id):
        image = self.images.get(image_id)
        if image is not None and image['status'] == 'saving':
            self.saving_reads -= 1
            if self.saving_reads <= 0:
                image['status'] = 'queued'
        return super().get(image_id)

    def delete(self, image_id):
        assert self.images[image_id]['status'] != 'saving', 'deleted while the server was still saving'
        super().delete(image_id)


def test_a_cut_upload_is_cleaned_up_once_the_server_stopped_saving(tmp_path, monkeypatch):
    monkeypatch.setattr(image_workflow, 'UPLOAD_ATTEMPTS', 1)
    server = CutUploadServer()
    with pytest.raises(GlanceError):
        run(server, params(tmp_path))
    assert server.images == {}


def test_an_image_glance_left_in_status_deleted_is_gone_for_name_lookups():
    from ansible_collections.cloudimage.glance.plugins.module_utils.images import settle_replacements
    stuck = {'id': 'a', 'name': 'ci', 'status': 'deleted'}
    live = {'id': 'b', 'name': 'ci', 'status': 'active'}
    assert settle_replacements([stuck, live]) == ([live], [])
    assert settle_replacements([stuck]) == ([], [])


def test_replace_on_a_v2_without_os_hidden_never_sends_it(tmp_path):
    pike_image = old_image()
    del pike_image['os_hidden']
    server = FailingServer([pike_image])
    server.hides = False
    run(server, replace_params(tmp_path))
    created = [fields for kind, fields in server.calls if kind == 'create']
    patches = [op for kind, ops in server.calls if kind == 'patch' for op in ops]
    assert 'os_hidden' not in created[0] and all(op['path'] != '/os_hidden' for op in patches)
