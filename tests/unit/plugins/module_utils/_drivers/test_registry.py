# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.base import ANY, Capabilities, Need
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.registry import (
    DRIVERS, check_needs, choose_driver, unavailable,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError

LABELS = {'1': 'Image API v1', '2': 'Image API v2'}


# -- which driver an endpoint gets --------------------------------------------------------------
@pytest.mark.parametrize('requested, offered, chosen', [
    ('auto', {'1', '2'}, ImageDriverV2),
    ('auto', {'1'}, ImageDriverV1),
    ('1', {'1', '2'}, ImageDriverV1),
    ('2', {'2'}, ImageDriverV2),
])
def test_choose_driver(requested, offered, chosen):
    assert choose_driver(requested, offered, 'http://x') is chosen


@pytest.mark.parametrize('requested, offered, text', [
    ('1', {'2'}, 'does not offer Image API v1 (offered: v2)'),
    ('auto', set(), 'offers no Image API version'),
    ('3', {'2'}, 'does not offer Image API v3 (offered: v2)'),
])
def test_choose_driver_refuses(requested, offered, text):
    with pytest.raises(GlanceError) as info:
        choose_driver(requested, offered, 'http://x')
    assert text in str(info.value)
    assert '\n' not in str(info.value)


def test_every_driver_is_registered_with_its_version_and_label():
    assert [(driver.version, driver.label) for driver in DRIVERS] == [('2', LABELS['2']), ('1', LABELS['1'])]


# -- the capability table ------------------------------------------------------------------------
# Which API offers each capability: the table the drivers declare, spelled out.
OFFERED_BY = [
    (Need('tags'), {'2'}),
    (Need('hidden'), {'2'}),
    (Need('deactivation'), {'2'}),
    (Need('member_status'), {'2'}),
    (Need('can_share'), {'1'}),
    (Need('member_list_replacement'), {'1'}),
    (Need('members_need_shared'), {'2'}),
    (Need('stores'), {'2'}),
    (Need('multihash'), {'2'}),
    (Need('visibilities', 'public'), {'1', '2'}),
    (Need('visibilities', 'private'), {'1', '2'}),
    (Need('visibilities', 'shared'), {'2'}),
    (Need('visibilities', 'community'), {'2'}),
    (Need('visibility_filters', 'private'), {'1', '2'}),
    (Need('visibility_filters', 'shared'), {'2'}),
    (Need('visibility_filters', 'all'), {'2'}),
    (Need('visibility_filters', 'bogus'), {'2'}),
    (Need('import_methods', 'web-download'), {'2'}),
    (Need('filters', 'name'), {'1', '2'}),
    (Need('filters', 'owner'), {'1', '2'}),
    (Need('filters', 'visibility'), {'1', '2'}),
    (Need('filters', 'changes-since'), {'1', '2'}),
    (Need('filters', 'property-*'), {'1', '2'}),
    (Need('filters', 'tags'), {'2'}),
    (Need('filters', 'tag'), {'2'}),
    (Need('filters', 'hidden'), {'2'}),
    (Need('filters', 'member_status'), {'2'}),
    (Need('filters', 'os_distro'), {'2'}),
]


@pytest.mark.parametrize('need, versions', OFFERED_BY, ids=[need.what for need, _v in OFFERED_BY])
def test_capability_table(need, versions):
    assert {driver.version for driver in DRIVERS if driver.capabilities.offers(need.capability, need.value)} == versions


def test_the_table_covers_every_capability():
    assert {need.capability for need, _versions in OFFERED_BY} == set(Capabilities.FLAGS) | set(Capabilities.VALUES)


@pytest.mark.parametrize('need, versions', OFFERED_BY, ids=[need.what for need, _v in OFFERED_BY])
def test_every_capability_is_refused_where_it_is_lacking_naming_the_api_that_has_it(need, versions):
    for driver in DRIVERS:
        if driver.version in versions:
            check_needs(driver(None), [need])
            continue
        with pytest.raises(GlanceError) as info:
            check_needs(driver(None), [need])
        holders = ' or '.join(LABELS[version] for version in ('2', '1') if version in versions)
        assert str(info.value) == '%s needs %s; this endpoint speaks %s' % (need.what, holders, driver.label)


def test_a_need_no_api_meets_says_so():
    error = unavailable(ImageDriverV2(None), Need('visibilities', 'everyone', "visibility 'everyone'"))
    assert str(error) == ("visibility 'everyone' needs an image API this collection does not know; "
                          'this endpoint speaks Image API v2')


def test_check_needs_refuses_the_first_need_not_met_and_passes_when_all_are():
    needs = [Need('visibilities', 'private'), Need('hidden', what='option hidden'), Need('tags', what='option tags')]
    with pytest.raises(GlanceError) as info:
        check_needs(ImageDriverV1(None), needs)
    assert str(info.value) == 'option hidden needs Image API v2; this endpoint speaks Image API v1'
    check_needs(ImageDriverV2(None), needs)
    check_needs(ImageDriverV1(None), [])


def test_refusals_are_errors_without_an_http_status():
    with pytest.raises(GlanceError) as info:
        check_needs(ImageDriverV1(None), [Need('tags')])
    assert info.value.status is None
    assert info.value.as_result() == {'status': None, 'request_id': None, 'action': None}


def test_any_value_is_offered_where_the_table_says_any():
    assert ImageDriverV2.capabilities.filters == ANY
    assert ImageDriverV2.capabilities.offers('filters', 'whatever_property')
    assert not ImageDriverV1.capabilities.offers('filters', 'whatever_property')
