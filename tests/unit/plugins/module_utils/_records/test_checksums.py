# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.checksums import (
    new_hash, parse_checksum, preferred_algorithm, server_digests,
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
    assert preferred_algorithm(image, ImageDriverV2.strongest_digest) == 'sha512'
    assert preferred_algorithm({'checksum': MD5, 'api_version': '1'}, ImageDriverV1.strongest_digest) == 'md5'
    # An image that holds no digest yet: the strongest its API keeps.
    assert preferred_algorithm({'api_version': '2'}, ImageDriverV2.strongest_digest) == 'sha512'
    assert preferred_algorithm({}, ImageDriverV1.strongest_digest) == 'md5'


def test_a_held_digest_wins_over_the_fallback():
    assert preferred_algorithm({'os_hash_algo': 'SHA256', 'os_hash_value': SHA256.upper()}, 'sha512') == 'sha256'
    assert server_digests({'os_hash_algo': 'SHA256', 'os_hash_value': SHA256.upper()}) == {'sha256': SHA256}


@pytest.mark.parametrize('algorithm', ['md5', 'sha256', 'sha512'])
def test_new_hash(algorithm):
    digest = new_hash(algorithm)
    digest.update(b'x')
    assert digest.hexdigest() == {'md5': MD5, 'sha256': SHA256, 'sha512': SHA512}[algorithm]
