from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.data import (
    HashingReader, check_readable, parse_checksum, preferred_algorithm, server_digests, upload_algorithms,
)

SHA512 = hashlib.sha512(b'x').hexdigest()
SHA256 = hashlib.sha256(b'x').hexdigest()
MD5 = hashlib.md5(b'x').hexdigest()


@pytest.mark.parametrize('text, parsed', [
    ('sha512:' + SHA512, ('sha512', SHA512)),
    ('SHA256:' + SHA256.upper(), ('sha256', SHA256)),
    ('md5:' + MD5, ('md5', MD5)),
    (SHA512, ('sha512', SHA512)),
    (MD5, ('md5', MD5)),
])
def test_parse_checksum(text, parsed):
    assert parse_checksum(text) == parsed


@pytest.mark.parametrize('text, message', [
    ('crc32:abcd', "algorithm 'crc32' is not supported"),
    ('sha512:' + MD5, 'is not a sha512 digest'),
    ('abc', 'cannot tell its algorithm'),
    ('sha256:xyz', 'is not a hexadecimal digest'),
])
def test_parse_checksum_refuses(text, message):
    with pytest.raises(GlanceError) as info:
        parse_checksum(text)
    assert message in str(info.value)


def test_server_digests_and_preference():
    image = {'checksum': MD5, 'os_hash_algo': 'sha512', 'os_hash_value': SHA512, 'api_version': '2'}
    assert server_digests(image) == {'md5': MD5, 'sha512': SHA512}
    assert preferred_algorithm(image) == 'sha512'
    assert preferred_algorithm({'checksum': MD5, 'api_version': '1'}) == 'md5'
    assert preferred_algorithm({'api_version': '2'}) == 'sha512'
    assert preferred_algorithm('1') == 'md5'


def test_hashing_reader_streams_in_chunks_and_hashes_once(tmp_path):
    data = b'0123456789' * 1000
    path = tmp_path / 'data'
    path.write_bytes(data)
    reader = HashingReader(str(path), ['sha512', 'md5'], chunk_size=4096)
    chunks = list(reader)
    assert [len(c) for c in chunks] == [4096, 4096, 1808]
    assert reader.size == len(data)
    assert reader.digests() == {'sha512': hashlib.sha512(data).hexdigest(), 'md5': hashlib.md5(data).hexdigest()}


def test_check_readable(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'abc')
    assert check_readable(str(path)) == 3
    with pytest.raises(GlanceError) as info:
        check_readable(str(tmp_path / 'missing'))
    assert 'cannot read filename' in str(info.value)


@pytest.mark.parametrize('image, expected, server, algorithms', [
    ({'api_version': '1'}, None, None, {'md5'}),
    ({'api_version': '2', 'os_hash_algo': None}, None, None, {'md5', 'sha512'}),
    ({'api_version': '2', 'os_hash_algo': None}, None, 'sha256', {'md5', 'sha256'}),
    ({'api_version': '2', 'os_hash_algo': None}, None, '', {'md5'}),  # Pike's v2: md5 only
    ({'api_version': '2', 'os_hash_algo': 'SHA256'}, None, 'sha512', {'md5', 'sha256'}),
    ({'api_version': '2'}, ('sha256', 'ab'), None, {'md5', 'sha512', 'sha256'}),
])
def test_upload_algorithms_are_what_the_server_keeps(image, expected, server, algorithms):
    assert upload_algorithms(image, expected, server) == algorithms


@pytest.mark.parametrize('make, kind', [
    (os.mkfifo, 'a FIFO'),
    (os.mkdir, 'a folder'),
])
def test_check_readable_refuses_what_is_not_a_regular_file_without_opening_it(tmp_path, make, kind):
    path = str(tmp_path / 'special')
    make(path)
    with pytest.raises(GlanceError) as info:
        check_readable(path)
    assert str(info.value) == 'filename %s is not a regular file (it is %s)' % (path, kind)


def test_check_readable_refuses_a_device():
    with pytest.raises(GlanceError) as info:
        check_readable('/dev/zero')
    assert str(info.value) == 'filename /dev/zero is not a regular file (it is a character device)'
