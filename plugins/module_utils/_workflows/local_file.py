# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The local image file: what it is, and reading it once while hashing it."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.checksums import new_hash

CHUNK_SIZE = 1024 * 1024
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
