# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.filters import (
    check_numeric_filters, filter_kind, page_size, query_text,
)


@pytest.mark.parametrize('limit, size', [(None, 200), ('50', 50), (1000, 1000), (1, 1)])
def test_page_size_from_the_limit_filter(limit, size):
    assert page_size({} if limit is None else {'limit': limit}) == size


@pytest.mark.parametrize('limit', ['abc', 0, -5, 1001, '1.5', True])
def test_page_size_refuses_what_glance_would_not_take(limit):
    with pytest.raises(GlanceError) as info:
        page_size({'limit': limit})
    assert str(info.value) == 'filters.limit must be a whole number from 1 to 1000, got %r' % (limit,)


@pytest.mark.parametrize('filters, words', [
    ({'size_min': 'abc'}, "filters.size_min must be a whole number of bytes, got 'abc'"),
    ({'size_max': -1}, 'filters.size_max must be a whole number of bytes, got -1'),
    ({'min_ram': 'lots'}, "filters.min_ram must be a whole number of MiB, got 'lots'"),
])
def test_numeric_filters_refused_before_any_request(filters, words):
    with pytest.raises(GlanceError) as info:
        check_numeric_filters(filters)
    assert str(info.value) == words


def test_numeric_filters_taken():
    check_numeric_filters({'size_min': '1024', 'size_max': 2048, 'min_disk': 1})


@pytest.mark.parametrize('key, kind', [
    ('property-os_distro', 'property-*'), ('property_os_distro', 'property-*'), ('os_distro', 'os_distro'),
])
def test_property_filters_are_one_kind(key, kind):
    assert filter_kind(key) == kind


@pytest.mark.parametrize('value, text', [(True, 'true'), (False, 'false'), (5, '5'), ('x', 'x')])
def test_query_text(value, text):
    assert query_text(value) == text
