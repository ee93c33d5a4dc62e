from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.info import check_numeric_filters, page_size, v1_query, v2_query


@pytest.mark.parametrize('filters, name, params', [
    ({}, None, []),
    ({}, 'demo', [('name', 'demo')]),
    ({'tags': ['a', 'b']}, None, [('tag', 'a'), ('tag', 'b')]),
    ({'tag': 'a'}, None, [('tag', 'a')]),
    ({'hidden': True}, None, [('os_hidden', 'true')]),
    ({'member_status': 'pending'}, None, [('member_status', 'pending'), ('visibility', 'all')]),
    ({'member_status': 'all', 'visibility': 'shared'}, None, [('member_status', 'all'), ('visibility', 'shared')]),
    ({'status': 'active', 'owner': 'p1', 'os_distro': 'cirros'}, None,
     [('status', 'active'), ('owner', 'p1'), ('os_distro', 'cirros')]),
    ({'status': None}, None, []),
])
def test_v2_query(filters, name, params):
    assert v2_query(filters, name) == params


def test_v2_query_does_not_change_the_callers_filters():
    filters = {'tags': ['a'], 'member_status': 'all'}
    v2_query(filters)
    assert filters == {'tags': ['a'], 'member_status': 'all'}


@pytest.mark.parametrize('filters, name, params, owner', [
    ({}, 'n', [('name', 'n')], None),
    ({'visibility': 'public'}, None, [('is_public', 'true')], None),
    ({'visibility': 'private', 'owner': 'p'}, None, [('is_public', 'false')], 'p'),
    ({'property-os_distro': 'cirros', 'changes_since': 't'}, None,
     [('property-os_distro', 'cirros'), ('changes-since', 't')], None),
])
def test_v1_query(filters, name, params, owner):
    assert v1_query(filters, name) == (params, owner)


@pytest.mark.parametrize('filters, text', [
    ({'tags': ['a']}, 'filter tags does not exist in Image API v1'),
    ({'member_status': 'all', 'hidden': True}, 'filter hidden, member_status does not exist'),
    ({'visibility': 'shared'}, "visibility 'shared' does not exist in Image API v1"),
    ({'os_distro': 'x'}, 'filter os_distro does not exist'),
])
def test_v1_query_refuses_what_v1_lacks(filters, text):
    with pytest.raises(GlanceError) as info:
        v1_query(filters)
    assert text in str(info.value)


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
