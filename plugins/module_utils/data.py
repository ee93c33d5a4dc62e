# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Image data: expected checksums, and reading a file once while hashing it."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError

CHUNK_SIZE = 1024 * 1024
HEX_LENGTHS = {32: 'md5', 64: 'sha256', 128: 'sha512'}
ALGORITHMS = ('md5', 'sha256', 'sha512')
_HEX = re.compile(r'^[0-9a-fA-F]+$')


def parse_checksum(text):
    """``'sha512:<hex>'``, ``'sha256:<hex>'``, ``'md5:<hex>'`` or bare hex -> (algorithm, lowercase hex)."""
    text = str(text).strip()
    if ':' in text:
        algorithm, value = text.split(':', 1)
        algorithm = algorithm.strip().lower()
        if algorithm not in ALGORITHMS:
            raise GlanceError('checksum algorithm %r is not supported (use %s)' % (algorithm, ', '.join(ALGORITHMS)))
    else:
        algorithm, value = None, text
    value = value.strip()
    if not _HEX.match(value):
        raise GlanceError('checksum %r is not a hexadecimal digest' % text)
    expected_algorithm = HEX_LENGTHS.get(len(value))
    if algorithm is None:
        if expected_algorithm is None:
            raise GlanceError('checksum %r has %d hex digits; cannot tell its algorithm (prefix it, e.g. sha512:)'
                              % (text, len(value)))
        algorithm = expected_algorithm
    elif expected_algorithm != algorithm:
        raise GlanceError('checksum %r is not a %s digest (%d hex digits)' % (text, algorithm, len(value)))
    return algorithm, value.lower()


def server_digests(image):
    """Digests a normalized image holds for its data: {algorithm: hex}."""
    digests = {}
    if image.get('checksum'):
        digests['md5'] = image['checksum'].lower()
    if image.get('os_hash_algo') and image.get('os_hash_value'):
        digests[image['os_hash_algo'].lower()] = image['os_hash_value'].lower()
    return digests


def preferred_algorithm(image_or_version):
    """The strongest digest a server keeps: sha512 multihash on v2 (Rocky and later), md5 on v1."""
    if isinstance(image_or_version, dict):
        digests = server_digests(image_or_version)
        for algorithm in ('sha512', 'sha256', 'md5'):
            if algorithm in digests:
                return algorithm
        return 'sha512' if image_or_version.get('api_version') == '2' else 'md5'
    return 'sha512' if image_or_version == '2' else 'md5'


def upload_algorithms(image, expected=None, server_algorithm=None):
    """The digests to compute while sending data into ``image`` (normalized), in the same single read.

    md5 is what every Glance keeps (v1, and the ``checksum`` of v2, Pike's
    only one). A v2 server since Rocky also keeps a multihash: the image's
    own ``os_hash_algo``, else ``server_algorithm`` (the one the server's
    images show; ``''`` when they show none), else Glance's default sha512.
    The algorithm of an expected ``checksum`` is added so it is checked too.
    """
    algorithms = {'md5'}
    if image.get('api_version') == '2':
        algorithm = image.get('os_hash_algo') or server_algorithm
        if algorithm or server_algorithm is None:
            algorithms.add(str(algorithm or 'sha512').lower())
    if expected:
        algorithms.add(expected[0])
    return algorithms


def new_hash(algorithm):
    # md5 compares data here, it protects nothing: allowed where FIPS forbids it for security.
    return hashlib.new(algorithm, usedforsecurity=False) if algorithm == 'md5' else hashlib.new(algorithm)


_FILE_KINDS = ((stat.S_ISDIR, 'a folder'), (stat.S_ISFIFO, 'a FIFO'), (stat.S_ISCHR, 'a character device'),
               (stat.S_ISBLK, 'a block device'), (stat.S_ISSOCK, 'a socket'))


QCOW2_MAGIC = b'QFI\xfb'


def is_qcow2(path):
    """Whether the file at ``path`` starts like a qcow2 image."""
    try:
        with open(path, 'rb') as handle:
            return handle.read(len(QCOW2_MAGIC)) == QCOW2_MAGIC
    except OSError:
        return False


def check_readable(path):
    """Size of the regular file at ``path``; a clear error when it is something else or cannot be read.

    The kind is checked before opening: opening a FIFO blocks, and a device
    such as /dev/zero never ends.
    """
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _FILE_KINDS if test(mode)), 'no regular file')
            raise GlanceError('filename %s is not a regular file (it is %s)' % (path, kind))
        with open(path, 'rb'):
            pass
        return os.path.getsize(path)
    except OSError as exc:
        raise GlanceError('cannot read filename %s: %s' % (path, exc.strerror or exc)) from exc


class HashingReader:
    """Yields a file's bytes in chunks, hashing them on the way: the file is read once.

    Iterating it is what streams the upload (again from the start, when an
    upload is retried); ``digests()`` is valid once the iteration has finished, and ``size`` counts the bytes actually sent.
    ``len()`` is the expected size, so the HTTP client sends a Content-Length
    rather than a chunked body.
    """

    def __init__(self, path, algorithms, chunk_size=CHUNK_SIZE, expected_size=None):
        self.path = path
        self.expected_size = os.path.getsize(path) if expected_size is None else expected_size
        self.algorithms = set(algorithms)
        self.chunk_size = chunk_size
        self._restart()

    def __len__(self):
        return self.expected_size

    def _restart(self):
        self.hashes = {name: new_hash(name) for name in self.algorithms}
        self.size = 0

    def __iter__(self):
        # Each iteration sends the whole file again (an upload that is retried).
        self._restart()
        # hashlib releases the GIL on large buffers: hash each chunk in a second
        # thread while the caller sends it, so hashing adds no time to the upload.
        with open(self.path, 'rb') as handle, ThreadPoolExecutor(max_workers=1) as hasher:
            pending = None
            while True:
                chunk = handle.read(self.chunk_size)
                if not chunk:
                    break
                if pending is not None:
                    pending.result()
                pending = hasher.submit(self._update, chunk)
                self.size += len(chunk)
                yield chunk
            if pending is not None:
                pending.result()

    def _update(self, chunk):
        for digest in self.hashes.values():
            digest.update(chunk)

    def consume(self):
        """Read the whole file without sending it (comparing local data with the server's)."""
        for _chunk in self:
            pass
        return self.digests()

    def digests(self):
        return {name: digest.hexdigest() for name, digest in self.hashes.items()}
