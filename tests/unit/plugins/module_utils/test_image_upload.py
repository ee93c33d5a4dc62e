from __future__ import annotations

import hashlib

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.data import HashingReader
from ansible_collections.cloudimage.glance.plugins.module_utils import image as image_workflow

IMAGE_ID = '6a0b4f67-6b0e-4cf4-9d54-5d0c2b0a1f11'


class Module:
    check_mode = False
    _diff = False

    def __init__(self, params):
        self.params = params
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


class Api:
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


class Client:
    version = '2'
    project_id = 'p'

    def __init__(self, api):
        self.api = api


def task(tmp_path, api):
    data = tmp_path / 'disk.raw'
    data.write_bytes(b'x' * 3000)
    params = dict(name='ci', id=None, state='present', filename=str(data), url=None, checksum=None, owner=None,
                  properties=None, min_disk=None, min_ram=None, timeout=5)
    return image_workflow.ImageTask(Module(params), Client(api)), HashingReader(str(data), {'sha512'}, chunk_size=1000)


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(image_workflow, 'POLL_INTERVAL', 0)


def transient():
    return GlanceError('upload_image image x failed', status=503, transient=True)


def test_upload_sent_again_while_the_image_is_still_queued(tmp_path):
    api = Api([transient()], ['saving', 'queued'])
    work, reader = task(tmp_path, api)
    work.send_data(IMAGE_ID, reader)
    assert api.uploads == [b'x' * 3000] * 2
    assert reader.size == 3000 and reader.digests()['sha512'] == hashlib.sha512(b'x' * 3000).hexdigest()


def test_upload_whose_answer_was_lost_but_the_server_kept_the_data_is_not_sent_again(tmp_path):
    api = Api([transient()], ['active'])
    work, reader = task(tmp_path, api)
    work.send_data(IMAGE_ID, reader)
    assert len(api.uploads) == 1


def test_upload_gives_up_after_its_attempts(tmp_path):
    api = Api([transient()] * image_workflow.UPLOAD_ATTEMPTS, ['queued'] * image_workflow.UPLOAD_ATTEMPTS)
    work, reader = task(tmp_path, api)
    with pytest.raises(GlanceError) as info:
        work.send_data(IMAGE_ID, reader)
    assert len(api.uploads) == image_workflow.UPLOAD_ATTEMPTS and info.value.transient


@pytest.mark.parametrize('failure, statuses', [
    (GlanceError('upload_image refused', status=403), []),
    (transient(), ['killed']),
])
def test_upload_is_not_sent_again_after_a_final_answer(tmp_path, failure, statuses):
    api = Api([failure], statuses)
    work, reader = task(tmp_path, api)
    with pytest.raises(GlanceError):
        work.send_data(IMAGE_ID, reader)
    assert len(api.uploads) == 1


def test_each_new_image_gets_its_own_id_chosen_before_the_request(tmp_path):
    created = []

    class CreatingApi(Api):
        def create(self, fields):
            created.append(fields)
            return dict(fields, status='queued')

    work, _reader = task(tmp_path, CreatingApi([], []))
    work.create_record({'name': 'ci'}, {}, [])
    work.create_record({'name': 'ci'}, {}, [])
    ids = [fields['id'] for fields in created]
    assert len(set(ids)) == 2 and all(len(image_id) == 36 for image_id in ids)
    work.create_record({'name': 'ci', 'id': IMAGE_ID}, {}, [])
    assert created[-1]['id'] == IMAGE_ID
