# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checksums of image data, pure: the expected one a task gives, and those an image holds."""

from __future__ import annotations

import hashlib
import re

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError

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


def preferred_algorithm(image, fallback):
    """The strongest digest the normalized ``image`` holds; ``fallback`` (the driver's) when it holds none."""
    digests = server_digests(image)
    for algorithm in ('sha512', 'sha256', 'md5'):
        if algorithm in digests:
            return algorithm
    return fallback


def hash_available(algorithm):
    """Whether this Python can compute ``algorithm`` (a server may hash with one it lacks)."""
    return algorithm in hashlib.algorithms_available


def new_hash(algorithm):
    if not hash_available(algorithm):
        raise GlanceError('this Python cannot compute %s digests' % algorithm)
    # md5 compares data here, it protects nothing: allowed where FIPS forbids it for security.
    return hashlib.new(algorithm, usedforsecurity=False) if algorithm == 'md5' else hashlib.new(algorithm)
