# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib
import os
import struct

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.local_file import (
    HashingReader, check_readable, is_qcow2,
)


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


def test_hashing_reader_starts_again_on_each_read(tmp_path):
    path = tmp_path / 'data'
    path.write_bytes(b'abc' * 1000)
    reader = HashingReader(str(path), {'md5'}, chunk_size=1000)
    assert len(reader) == 3000
    list(reader)
    assert reader.consume() == {'md5': hashlib.md5(b'abc' * 1000).hexdigest()} and reader.size == 3000


def test_is_qcow2(tmp_path):
    qcow2 = tmp_path / 'disk.qcow2'
    qcow2.write_bytes(struct.pack('>4sI', b'QFI\xfb', 3) + bytes(100))
    raw = tmp_path / 'disk.raw'
    raw.write_bytes(bytes(100))
    assert is_qcow2(str(qcow2)) and not is_qcow2(str(raw)) and not is_qcow2(str(tmp_path / 'missing'))
