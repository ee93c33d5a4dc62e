from __future__ import annotations

import json
import random
import socket
import struct
import threading

import pytest
from keystoneauth1 import exceptions as ksa_exceptions
from keystoneauth1 import session as ksa_session

from ansible_collections.cloudimage.glance.plugins.module_utils.api_v1 import ImageApiV1
from ansible_collections.cloudimage.glance.plugins.module_utils.api_v2 import ImageApiV2
from ansible_collections.cloudimage.glance.plugins.module_utils.common import (
    GlanceError, connection_failure, connection_failure_kind,
)
from ansible_collections.cloudimage.glance.plugins.module_utils.transport import Http, RetryPolicy

GENERIC_500 = ('<html><head><title>500 Internal Server Error</title></head><body><h1>500 Internal Server Error</h1>'
               'The server has either erred or is incapable of performing the requested operation.<br /><br />'
               '</body></html>')
IMAGE_ID = '6a0b4f67-6b0e-4cf4-9d54-5d0c2b0a1f11'


class Response:
    def __init__(self, status_code, body=None, text=None, headers=None):
        self.status_code = status_code
        self._body = body
        self.text = text if text is not None else (json.dumps(body) if body is not None else '')
        self.headers = headers or {}

    def json(self):
        return self._body if self._body is not None else json.loads(self.text)


def reset_failure(url='http://glance/v2/images'):
    """keystoneauth's exception for a connection the server (or a proxy) reset, with its real cause chain."""
    try:
        try:
            raise ConnectionResetError(104, 'Connection reset by peer')
        except ConnectionResetError as cause:
            raise ksa_exceptions.ConnectFailure(
                "Unable to establish connection to %s: ('Connection aborted.', "
                "ConnectionResetError(104, 'Connection reset by peer'))" % url) from cause
    except ksa_exceptions.ConnectFailure as exc:
        return exc


def refused_failure(url='http://glance/v2/images'):
    try:
        try:
            raise ConnectionRefusedError(111, 'Connection refused')
        except ConnectionRefusedError as cause:
            raise ksa_exceptions.ConnectFailure(
                'Unable to establish connection to %s: [Errno 111] Connection refused' % url) from cause
    except ksa_exceptions.ConnectFailure as exc:
        return exc


class ScriptedSession:
    """Answers requests from a script: one Response or exception per call, recording each call."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, url, method, **kwargs):
        self.calls.append((method, url, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def http(session, timeout=None, attempts=6):
    pauses = []
    client = Http(session, 'http://glance', timeout=timeout,
                  policy=RetryPolicy(attempts=attempts, window=float(timeout or 60), rng=random.Random(7)),
                  sleep=pauses.append)
    client.pauses = pauses
    return client


# -- which requests are retried ------------------------------------------------------
@pytest.mark.parametrize('method', ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'])
@pytest.mark.parametrize('status', [502, 503, 504])
def test_idempotent_methods_are_retried_on_gateway_answers(method, status):
    assert RetryPolicy().retriable(method, status=status)


@pytest.mark.parametrize('status', [500, 502, 503, 504])
def test_plain_post_is_never_retried(status):
    assert not RetryPolicy().retriable('POST', status=status, body=GENERIC_500)
    assert not RetryPolicy().retriable('POST', failure=reset_failure())


def test_post_made_idempotent_by_its_caller_is_retried():
    assert RetryPolicy().retriable('POST', idempotent=True, status=504)
    assert RetryPolicy().retriable('POST', idempotent=True, failure=reset_failure())


def test_streamed_put_is_not_retried_when_its_caller_says_so():
    assert not RetryPolicy().retriable('PUT', idempotent=False, status=503)


@pytest.mark.parametrize('body, retried', [
    (GENERIC_500, True),
    ('', True),
    ('{"message": "Failed to parse the image checksum", "code": 500}', False),
])
def test_only_glance_generic_500_is_transient(body, retried):
    assert RetryPolicy().retriable('GET', status=500, body=body) is retried


@pytest.mark.parametrize('status', [400, 401, 403, 404, 409, 413, 501])
def test_client_errors_are_final(status):
    assert not RetryPolicy().retriable('GET', status=status)


def test_connection_refused_is_final_reset_and_timeout_are_not():
    policy = RetryPolicy()
    assert not policy.retriable('GET', failure=refused_failure())
    assert policy.retriable('GET', failure=reset_failure())
    assert policy.retriable('GET', failure=ksa_exceptions.ConnectTimeout('Request to http://glance/ timed out'))


def test_pauses_grow_exponentially_with_jitter_and_a_ceiling():
    policy = RetryPolicy(first_pause=0.25, longest_pause=4.0, rng=random.Random(1))
    for attempt, ceiling in [(1, 0.25), (2, 0.5), (3, 1.0), (4, 2.0), (5, 4.0), (6, 4.0), (9, 4.0)]:
        pauses = [policy.pause(attempt) for _draw in range(200)]
        assert ceiling / 2 <= min(pauses) and max(pauses) <= ceiling
        assert len(set(pauses)) > 100  # jittered, not one fixed value


def test_no_attempt_beyond_the_count_or_the_window():
    policy = RetryPolicy(attempts=3, window=10.0, rng=random.Random(1))
    assert policy.next_pause(1, started=0.0, now=0.0) is not None
    assert policy.next_pause(3, started=0.0, now=0.0) is None
    assert policy.next_pause(1, started=0.0, now=9.99) is None


# -- the transport loop -----------------------------------------------------------------
def test_get_is_retried_until_it_succeeds():
    session = ScriptedSession(Response(503, text='busy'), reset_failure(), Response(200, {'images': []}))
    client = http(session)
    response = client.request('GET', '/v2/images', 'get_images')
    assert response.status_code == 200 and response.retried
    assert len(session.calls) == 3 and len(client.pauses) == 2
    assert all(kwargs['connect_retries'] == 0 and kwargs['status_code_retries'] == 0
               for _m, _u, kwargs in session.calls)


def test_post_is_sent_once():
    session = ScriptedSession(Response(503, text='busy'))
    with pytest.raises(GlanceError) as info:
        http(session).request('POST', '/v2/images', 'add_image', 'image x', ok=(201,))
    assert len(session.calls) == 1
    assert str(info.value).startswith('add_image image x failed (HTTP 503)')


def test_retries_stop_after_the_last_attempt_with_one_line():
    session = ScriptedSession(*[Response(504, text='<h1>Gateway Timeout</h1>')] * 3)
    with pytest.raises(GlanceError) as info:
        http(session, attempts=3).request('DELETE', '/v2/images/x', 'delete_image', 'image x', ok=(204,))
    assert len(session.calls) == 3
    assert info.value.status == 504 and info.value.transient
    assert '\n' not in str(info.value)


def test_a_refused_connection_fails_at_once_naming_the_endpoint():
    session = ScriptedSession(refused_failure('http://glance/v2/images'))
    with pytest.raises(GlanceError) as info:
        http(session).request('GET', '/v2/images', 'get_images')
    assert len(session.calls) == 1
    assert str(info.value) == 'get_images: connection refused by http://glance/v2/images'
    assert not info.value.transient


def test_first_success_is_not_marked_retried():
    response = http(ScriptedSession(Response(200, {}))).request('GET', '/', 'discover')
    assert response.retried is False


# -- creates that repeat safely ----------------------------------------------------------
def v2_image(name='ci-image', image_id=IMAGE_ID):
    return {'id': image_id, 'name': name, 'status': 'queued', 'visibility': 'shared', 'tags': []}


def test_v2_create_lost_answer_then_conflict_finds_its_own_image():
    session = ScriptedSession(reset_failure(), Response(409, text='Conflict'), Response(200, v2_image()))
    created = ImageApiV2(http(session)).create({'id': IMAGE_ID, 'name': 'ci-image'})
    assert created['id'] == IMAGE_ID
    posts = [kwargs['json'] for method, _url, kwargs in session.calls if method == 'POST']
    assert posts == [{'id': IMAGE_ID, 'name': 'ci-image'}] * 2
    assert session.calls[-1][:2] == ('GET', 'http://glance/v2/images/%s' % IMAGE_ID)


def test_v2_create_conflict_on_the_first_attempt_is_an_error():
    session = ScriptedSession(Response(409, text='{"message": "Image with identifier %s already exists!"}' % IMAGE_ID))
    with pytest.raises(GlanceError) as info:
        ImageApiV2(http(session)).create({'id': IMAGE_ID, 'name': 'ci-image'})
    assert info.value.status == 409 and len(session.calls) == 1


def test_v2_create_conflict_with_another_image_under_that_id_is_an_error():
    session = ScriptedSession(Response(504), Response(409, text='Conflict'), Response(200, v2_image(name='other')))
    with pytest.raises(GlanceError):
        ImageApiV2(http(session)).create({'id': IMAGE_ID, 'name': 'ci-image'})


def test_v2_create_without_id_is_not_retried():
    session = ScriptedSession(Response(504))
    with pytest.raises(GlanceError):
        ImageApiV2(http(session)).create({'name': 'ci-image'})
    assert len(session.calls) == 1


def test_v1_create_lost_answer_then_conflict_finds_its_own_image():
    listed = {'id': IMAGE_ID, 'name': 'ci-image', 'status': 'queued', 'properties': {}}
    session = ScriptedSession(Response(502), Response(409, text='Conflict'),
                              Response(200, text='', headers={'X-Image-Meta-Id': IMAGE_ID,
                                                              'X-Image-Meta-Name': 'ci-image'}))
    created = ImageApiV1(http(session)).create({'id': IMAGE_ID, 'name': 'ci-image'})
    assert created['id'] == IMAGE_ID and created['name'] == listed['name']
    headers = [kwargs['headers'] for method, _url, kwargs in session.calls if method == 'POST']
    assert [h['x-image-meta-id'] for h in headers] == [IMAGE_ID, IMAGE_ID]


# -- other requests whose first attempt may have done the work ---------------------------
def test_v2_member_add_repeated_after_a_lost_answer_counts_as_added():
    session = ScriptedSession(Response(504), Response(409, text='Conflict'))
    assert ImageApiV2(http(session)).add_member(IMAGE_ID, 'p1') is True


def test_v2_member_add_conflict_without_retry_means_someone_else_added_it():
    session = ScriptedSession(Response(409, text='Conflict'))
    assert ImageApiV2(http(session)).add_member(IMAGE_ID, 'p1') is False


def test_v2_member_remove_repeated_after_a_lost_answer_counts_as_removed():
    session = ScriptedSession(reset_failure(), Response(404, text='Not Found'))
    assert ImageApiV2(http(session)).remove_member(IMAGE_ID, 'p1') is True


def test_v2_patch_conflict_after_a_lost_answer_is_done_when_the_image_shows_it():
    operations = [{'op': 'remove', 'path': '/stage'}, {'op': 'add', 'path': '/os_distro', 'value': 'debian'}]
    session = ScriptedSession(Response(504), Response(409, text='Conflict'),
                              Response(200, dict(v2_image(), os_distro='debian')))
    assert ImageApiV2(http(session)).patch(IMAGE_ID, operations)['os_distro'] == 'debian'


def test_v2_patch_conflict_after_a_lost_answer_is_an_error_when_the_image_does_not_show_it():
    operations = [{'op': 'remove', 'path': '/stage'}]
    session = ScriptedSession(Response(504), Response(409, text='Conflict'),
                              Response(200, dict(v2_image(), stage='beta')))
    with pytest.raises(GlanceError) as info:
        ImageApiV2(http(session)).patch(IMAGE_ID, operations)
    assert info.value.status == 409


def test_v2_import_repeated_after_a_lost_answer_is_done():
    session = ScriptedSession(Response(503), Response(409, text='Conflict'))
    ImageApiV2(http(session)).import_from_url(IMAGE_ID, 'http://127.0.0.1/x.img')
    assert [method for method, _u, _k in session.calls] == ['POST', 'POST']


def test_v2_import_conflict_on_the_first_attempt_is_an_error():
    session = ScriptedSession(Response(409, text='{"message": "Image status transition from active is not allowed"}'))
    with pytest.raises(GlanceError):
        ImageApiV2(http(session)).import_from_url(IMAGE_ID, 'http://127.0.0.1/x.img')


def test_upload_is_sent_once_by_the_transport():
    session = ScriptedSession(Response(503))
    with pytest.raises(GlanceError) as info:
        ImageApiV2(http(session)).upload(IMAGE_ID, b'data', 4)
    assert len(session.calls) == 1 and info.value.transient


# -- real connection failures on loopback, in words -------------------------------------
def serve_once(behaviour):
    """A loopback socket that accepts one connection, reads the request and then misbehaves."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)

    def run():
        connection, _address = listener.accept()
        connection.recv(65536)
        if behaviour == 'reset':
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        elif behaviour == 'silent':
            connection.recv(1)  # until the client gives up
        connection.close()
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return 'http://127.0.0.1:%d/v2/images' % listener.getsockname()[1]


def closed_port_url():
    probe = socket.socket()
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()
    return 'http://127.0.0.1:%d/v3' % port


def failure_of(url, timeout=None):
    try:
        ksa_session.Session().request(url, 'GET', timeout=timeout, connect_retries=0)
    except Exception as exc:  # what keystoneauth really raises
        return exc
    raise AssertionError('no failure')


@pytest.mark.parametrize('behaviour, kind, words', [
    ('reset', 'reset', 'connection to {url} was closed before it answered'),
    ('close', 'reset', 'connection to {url} was closed before it answered'),
    ('silent', 'timeout', 'timed out after 0.5 s waiting for {url}'),
])
def test_real_connection_failures_in_words(behaviour, kind, words):
    url = serve_once(behaviour)
    exc = failure_of(url, timeout=0.5)
    assert connection_failure_kind(exc) == kind
    assert connection_failure(exc, url, 0.5) == words.format(url=url)


def test_real_refused_connection_in_words():
    url = closed_port_url()
    exc = failure_of(url)
    assert connection_failure_kind(exc) == 'refused'
    assert connection_failure(exc, url) == 'connection refused by %s' % url


def test_untrusted_certificate_in_words(tmp_path):
    ssl = pytest.importorskip('ssl')
    import subprocess
    try:
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
                        '-keyout', str(tmp_path / 'key.pem'), '-out', str(tmp_path / 'cert.pem')],
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('openssl is needed to make a certificate')
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / 'cert.pem'), str(tmp_path / 'key.pem'))
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)

    def run():
        connection, _address = listener.accept()
        try:
            context.wrap_socket(connection, server_side=True).close()
        except (ssl.SSLError, OSError):
            connection.close()
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    url = 'https://127.0.0.1:%d/v2/images' % listener.getsockname()[1]
    exc = failure_of(url, timeout=5)
    assert connection_failure_kind(exc) == 'untrusted'
    assert connection_failure(exc, url).startswith('TLS certificate of %s not trusted' % url)


def test_a_2xx_answer_that_is_not_json_is_one_line():
    session = ScriptedSession(Response(200, text='<html>captive portal</html>', headers={'Content-Type': 'text/html'}))
    with pytest.raises(GlanceError) as info:
        ImageApiV2(http(session)).get(IMAGE_ID)
    assert str(info.value) == ('get_image image %s: the image endpoint answered HTTP 200 with a body that is not '
                               'JSON (text/html)' % IMAGE_ID)
