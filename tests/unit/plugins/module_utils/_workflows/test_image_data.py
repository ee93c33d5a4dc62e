# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows import image_data
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.local_file import HashingReader
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2, Response, reset_failure

from .image_cases import DATA, IMAGE_ID, params, qcow2_file, queued, run, task


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(image_data, 'POLL_INTERVAL', 0)
    monkeypatch.setattr(lost_updates, 'settle_pause', lambda _seconds: 0)


# -- the formats a new image with data gets -----------------------------------------------------
def test_container_format_defaults_to_bare_when_creating_with_data(tmp_path):
    server = ImageServiceV2()
    result, _context = run(server, params(tmp_path, container_format=None))
    created = [body for kind, body in server.calls if kind == 'create']
    assert created[0]['container_format'] == 'bare'
    assert result['image']['status'] == 'active'


def test_creating_with_data_needs_disk_format_before_any_write(tmp_path):
    server = ImageServiceV2()
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, disk_format=None, container_format=None))
    assert str(info.value) == 'disk_format is required to create image ci with data (for example raw or qcow2)'
    assert server.images == {} and server.writes() == []


def test_a_new_image_from_a_qcow2_file_defaults_to_qcow2_and_bare(tmp_path):
    server = ImageServiceV2()
    result, _context = run(server, params(tmp_path, filename=str(qcow2_file(tmp_path)), disk_format=None,
                                          container_format=None))
    created = [body for kind, body in server.calls if kind == 'create']
    assert created[0]['disk_format'] == 'qcow2' and created[0]['container_format'] == 'bare'
    assert result['image']['status'] == 'active' and result['image']['disk_format'] == 'qcow2'


def test_a_new_image_from_other_data_still_needs_disk_format(tmp_path):
    server = ImageServiceV2()
    with pytest.raises(GlanceError, match='disk_format is required'):
        run(server, params(tmp_path, disk_format=None, container_format=None))
    assert server.writes() == []


# -- uploads that fail on the way ------------------------------------------------------
def scripted(server, failures, statuses):
    """Uploads answer the scripted failures first; each read of the image then shows the next scripted status."""
    failures, statuses = list(failures), list(statuses)

    def upload(_request):
        return failures.pop(0) if failures else None

    def get(request):
        if statuses:
            server.images[request.image_id]['status'] = statuses.pop(0)
    server.before('upload', upload)
    server.before('get', get)
    return server


def upload_task(tmp_path, server):
    task_params = params(tmp_path)
    (tmp_path / 'disk.raw').write_bytes(b'x' * 3000)
    reader = HashingReader(task_params['filename'], {'sha512'}, chunk_size=1000)
    return task(server, task_params), reader


def transient():
    return Response(503, text='busy')


def test_upload_sent_again_while_the_image_is_still_queued(tmp_path):
    server = scripted(ImageServiceV2([queued()]), [transient()], ['saving', 'queued'])
    work, reader = upload_task(tmp_path, server)
    work.data.send(IMAGE_ID, reader)
    assert server.uploads == [b'x' * 3000] * 2
    assert reader.size == 3000 and reader.digests()['sha512'] == hashlib.sha512(b'x' * 3000).hexdigest()


def test_upload_whose_answer_was_lost_but_the_server_kept_the_data_is_not_sent_again(tmp_path):
    server = scripted(ImageServiceV2([queued()]), [transient()], ['active'])
    work, reader = upload_task(tmp_path, server)
    work.data.send(IMAGE_ID, reader)
    assert len(server.uploads) == 1


def test_upload_gives_up_after_its_attempts(tmp_path):
    attempts = image_data.UPLOAD_ATTEMPTS
    server = scripted(ImageServiceV2([queued()]), [transient() for _attempt in range(attempts)], ['queued'] * attempts)
    work, reader = upload_task(tmp_path, server)
    with pytest.raises(GlanceError) as info:
        work.data.send(IMAGE_ID, reader)
    assert len(server.uploads) == attempts and info.value.transient


def test_a_deterministic_generic_500_sends_the_file_at_most_twice(tmp_path):
    # Glance's generic 500 comes from a database lock that passes, or a store fault that does not.
    generic_500 = ('<html><body><h1>500 Internal Server Error</h1>The server has either erred or is incapable of '
                   'performing the requested operation.</body></html>')
    attempts = image_data.UPLOAD_ATTEMPTS
    server = scripted(ImageServiceV2([queued()]), [Response(500, text=generic_500) for _attempt in range(attempts)],
                      ['queued'] * attempts)
    work, reader = upload_task(tmp_path, server)
    with pytest.raises(GlanceError) as info:
        work.data.send(IMAGE_ID, reader)
    assert len(server.uploads) == 2 and info.value.status == 500


@pytest.mark.parametrize('failure, statuses', [
    (Response(403, text='upload_image refused'), []),
    (transient(), ['killed']),
])
def test_upload_is_not_sent_again_after_a_final_answer(tmp_path, failure, statuses):
    server = scripted(ImageServiceV2([queued()]), [failure], statuses)
    work, reader = upload_task(tmp_path, server)
    with pytest.raises(GlanceError):
        work.data.send(IMAGE_ID, reader)
    assert len(server.uploads) == 1


# -- cleaning up after a cut upload -------------------------------------------------------------
def cut_upload(server, saving_reads=2):
    """The upload is cut; Glance puts the image back to queued only after a moment (saving first)."""
    server.deleted_while_saving = False
    left = [saving_reads]

    def upload(request):
        server.images[request.image_id]['status'] = 'saving'
        raise reset_failure('http://glance/v2/images/%s/file' % request.image_id)

    def get(request):
        image = server.images.get(request.image_id)
        if image is not None and image['status'] == 'saving':
            left[0] -= 1
            if left[0] <= 0:
                image['status'] = 'queued'

    def delete(request):
        if server.images[request.image_id]['status'] == 'saving':
            server.deleted_while_saving = True
    server.before('upload', upload)
    server.before('get', get)
    server.before('delete', delete)
    return server


def test_a_cut_upload_is_cleaned_up_once_the_server_stopped_saving(tmp_path, monkeypatch):
    monkeypatch.setattr(image_data, 'UPLOAD_ATTEMPTS', 1)
    server = cut_upload(ImageServiceV2())
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path))
    assert 'was closed before it answered' in str(info.value)
    assert server.images == {} and not server.deleted_while_saving


def test_an_image_that_cannot_be_removed_is_reported_as_a_warning(tmp_path):
    server = ImageServiceV2(stored_data=b'something else')
    server.fail('delete', status=403)
    context = TaskContext(params(tmp_path))
    with pytest.raises(GlanceError) as info:
        run(server, context.params, context=context)
    assert 'different data' in str(info.value)
    (left,) = server.images
    assert context.warnings == ['could not remove the incomplete image %s: delete_image image %s refused (HTTP 403) '
                                '- server said: delete refused' % (left, left)]


# -- checksums ----------------------------------------------------------------------------------
def test_the_expected_checksum_is_computed_in_the_same_read_as_the_upload(tmp_path):
    server = ImageServiceV2()
    result, _context = run(server, params(tmp_path, checksum='sha256:' + hashlib.sha256(DATA).hexdigest()))
    assert result['image']['status'] == 'active' and len(server.uploads) == 1


def test_an_upload_not_matching_the_expected_checksum_removes_the_new_image(tmp_path):
    server = ImageServiceV2()
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, checksum='sha256:' + hashlib.sha256(b'other').hexdigest()))
    assert 'does not match checksum sha256:' in str(info.value)
    assert server.images == {}


def test_data_the_server_keeps_no_digest_of_is_kept_with_a_warning(tmp_path):
    server = ImageServiceV2(hash_algo='')

    def forget_md5(request):
        answer = server.handle(request)
        server.images[request.image_id]['checksum'] = None
        return answer
    server.before('upload', forget_md5)
    result, context = run(server, params(tmp_path))
    assert result['image']['status'] == 'active'
    assert context.warnings == ['the server reported no checksum of the data of image ci (%s) that could be compared '
                                'with the uploaded file (it keeps: none); the data was not verified'
                                % result['image']['id']]


# -- web-download imports ------------------------------------------------------------------
@pytest.mark.parametrize('algorithm', ['sha512', 'sha256'])
def test_url_import_matching_checksum_is_kept(tmp_path, algorithm):
    server = ImageServiceV2(imported=DATA)
    digest = hashlib.new(algorithm, DATA).hexdigest()
    result, _context = run(server, params(tmp_path, filename=None, url='http://127.0.0.1/x.img',
                                          checksum='%s:%s' % (algorithm, digest)))
    assert result['image']['status'] == 'active'
    # Only a digest the server does not keep costs a read of the data.
    assert server.kinds().count('download') == (1 if algorithm == 'sha256' else 0)


@pytest.mark.parametrize('algorithm', ['sha512', 'sha256'])
def test_url_import_mismatching_checksum_removes_the_new_image(tmp_path, algorithm):
    server = ImageServiceV2(imported=b'not what was expected')
    digest = hashlib.new(algorithm, DATA).hexdigest()
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, filename=None, url='http://u:pw@127.0.0.1/x.img',
                           checksum='%s:%s' % (algorithm, digest)))
    assert 'does not match checksum %s:%s' % (algorithm, digest) in str(info.value)
    assert 'http://********@127.0.0.1/x.img' in str(info.value) and 'pw' not in str(info.value)
    assert server.images == {}


def test_url_import_needs_the_web_download_method_enabled(tmp_path):
    server = ImageServiceV2(imported=DATA, import_methods=('glance-direct',))
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, filename=None, url='http://127.0.0.1/x.img'))
    assert str(info.value) == 'the image service does not enable the web-download import method'
    assert server.images == {}


def test_url_import_without_waiting_warns_that_the_checksum_is_not_verified(tmp_path):
    server = ImageServiceV2(imported=DATA)
    _result, context = run(server, params(tmp_path, filename=None, url='http://127.0.0.1/x.img', wait=False,
                                          checksum='sha512:' + hashlib.sha512(DATA).hexdigest()))
    assert context.warnings == ['checksum is verified only when the task waits for the import (wait: true)']


# -- data the server keeps no digest of that the task gives -------------------------------------
def active_image_holding(server, data):
    server.images[IMAGE_ID] = queued(status='active')
    server.keep_data(IMAGE_ID, data)
    return server


def test_url_checksum_of_an_algorithm_the_server_does_not_keep_is_checked_by_reading_the_data(tmp_path):
    # The server keeps sha512 (and md5); the task's sha256 of other data must not pass unseen.
    server = active_image_holding(ImageServiceV2(imported=DATA), DATA)
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, filename=None, url='http://127.0.0.1/x.img',
                           checksum='sha256:' + hashlib.sha256(b'other data').hexdigest()))
    assert str(info.value).startswith('the data of image ci (%s) differs from checksum' % IMAGE_ID)
    assert server.kinds().count('download') == 1 and server.writes() == []


def test_url_checksum_matching_the_data_read_back_is_ok_and_unchanged(tmp_path):
    server = active_image_holding(ImageServiceV2(imported=DATA), DATA)
    result, _context = run(server, params(tmp_path, filename=None, url='http://127.0.0.1/x.img',
                                          checksum='sha256:' + hashlib.sha256(DATA).hexdigest()))
    assert not result['changed'] and server.writes() == []


def test_a_server_hash_the_client_lacks_is_left_out_with_a_warning(tmp_path):
    # The server's algorithm shows on its active images; this Python has no such hash.
    server = ImageServiceV2([queued(id='4d7b0d5e-8b0c-4f3e-9a43-0f2b3c7d1e55', name='other', status='active',
                                    os_hash_algo='blake3', os_hash_value='ab' * 32)], hash_algo='blake3')
    result, context = run(server, params(tmp_path))
    assert result['changed'] and result['image']['status'] == 'active'
    assert context.warnings == ['the server hashes image data with blake3, which this Python lacks: the data of '
                                'image ci (%s) was verified by its md5 and size only' % result['image']['id']]


def test_a_server_hash_the_client_lacks_leaves_no_image_when_the_md5_differs(tmp_path):
    server = ImageServiceV2([queued(id='4d7b0d5e-8b0c-4f3e-9a43-0f2b3c7d1e55', name='other', status='active',
                                    os_hash_algo='blake3', os_hash_value='ab' * 32)], hash_algo='blake3',
                            stored_data=b'something else')
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path))
    assert 'different data' in str(info.value) and 'md5' in str(info.value)
    assert list(server.images) == ['4d7b0d5e-8b0c-4f3e-9a43-0f2b3c7d1e55']


# -- the image must end active -------------------------------------------------------------------
def test_an_upload_after_which_the_image_is_not_active_fails_and_removes_the_new_image(tmp_path):
    server = ImageServiceV2()
    server.before('upload', lambda _request: Response(204))  # accepted, but nothing kept: still queued
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path))
    assert str(info.value).startswith('image ci (') and str(info.value).endswith(
        ') is queued after its data was sent, not active')
    assert server.images == {}


def test_an_image_still_saving_after_the_upload_is_followed_until_active(tmp_path):
    server = ImageServiceV2()
    saving = [2]

    def still_saving(request):
        image = server.images.get(request.image_id) or {}
        if image.get('status') == 'active' and saving[0]:
            saving[0] -= 1
            return Response(200, dict(image, status='saving'))
        return None
    server.before('get', still_saving)
    result, _context = run(server, params(tmp_path))
    assert result['image']['status'] == 'active' and saving == [0]


def test_url_checksum_on_a_deactivated_image_is_not_compared_and_said_so(tmp_path):
    server = active_image_holding(ImageServiceV2(imported=DATA), DATA)
    server.images[IMAGE_ID]['status'] = 'deactivated'
    checksum = hashlib.sha256(b'other data').hexdigest()
    result, context = run(server, params(tmp_path, state='inactive', filename=None, url='http://127.0.0.1/x.img',
                                         checksum='sha256:' + checksum))
    assert not result['changed'] and 'download' not in server.kinds()
    assert context.warnings == ['image ci (%s) is deactivated: its data could not be compared with checksum '
                                'sha256:%s' % (IMAGE_ID, checksum)]
