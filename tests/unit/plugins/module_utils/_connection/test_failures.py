# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import socket
import struct
import threading

import pytest
from keystoneauth1 import session as ksa_session

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.failures import (
    connection_failure, connection_failure_kind,
)
from ansible_collections.cloudimage.glance.tests.unit.doubles import refused_failure, reset_failure


@pytest.mark.parametrize('failure, kind', [(reset_failure(), 'reset'), (refused_failure(), 'refused')])
def test_keystoneauth_failures_by_their_cause_chain(failure, kind):
    assert connection_failure_kind(failure) == kind


def test_what_is_no_connection_failure_has_no_kind():
    assert connection_failure_kind(ValueError('bad value')) is None


def test_a_url_in_a_failure_never_shows_its_secrets():
    text = connection_failure(refused_failure(), 'http://ci:s3cret@127.0.0.1/x.img?token=tok-url')
    assert text == 'connection refused by http://********@127.0.0.1/x.img?token=********'


def test_a_short_password_in_a_failure_hides_only_itself():
    text = connection_failure(refused_failure(), 'http://u:p@pypi.example/pub/p.img?api_key=k')
    assert text == 'connection refused by http://********@pypi.example/pub/p.img?api_key=********'


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
