# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._compat import openstack_cloud as compat
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2, Keystone

KERNEL_ID = '11111111-1111-4111-8111-111111111111'
RAMDISK_ID = '22222222-2222-4222-8222-222222222222'
IMAGE_ID = '33333333-3333-4333-8333-333333333333'
PRODUCER = 'e82189f4771c4dcebd97a50760a10ff3'
# How each driver names a custom property filter.
PROPERTY_FILTER = {'1': ImageDriverV1(None).property_filter, '2': ImageDriverV2(None).property_filter}


def translate(**params):
    return compat.translate_image_params(params)


# -- pure translation ------------------------------------------------------------------
@pytest.mark.parametrize('given, visibility', [
    (dict(is_public=True), 'public'),
    (dict(is_public=False), 'private'),
    (dict(is_public=True, visibility='public'), 'public'),
    (dict(is_public=False, visibility='private'), 'private'),
    (dict(visibility='shared'), 'shared'),
    (dict(is_public=None), None),
    ({}, None),
])
def test_is_public_sets_visibility_and_leaves_it_alone_when_omitted(given, visibility):
    params, references = translate(**given)
    assert params.get('visibility') == visibility
    assert references == {}


@pytest.mark.parametrize('given, text', [
    (dict(is_public=True, visibility='private'), 'is_public: true and visibility: private disagree'),
    (dict(is_public=False, visibility='shared'), 'is_public: false and visibility: shared disagree'),
    (dict(is_protected=True, protected=False), 'is_protected: true and protected: false disagree'),
    (dict(volume='7c1e'), 'option volume'),
    (dict(import_method='glance-download', url='http://x'), 'import_method glance-download'),
    (dict(import_method='web-download'), 'import_method web-download needs uri'),
    (dict(use_import=True, filename='/tmp/x.qcow2'), 'use_import (the glance-direct import) is not supported'),
    (dict(owner_domain='Default'), 'owner_domain (project_domain) needs owner'),
    (dict(kernel='vmlinuz', properties={'kernel_id': KERNEL_ID}), 'kernel and properties.kernel_id disagree'),
    (dict(ramdisk='initrd', properties={'ramdisk_id': RAMDISK_ID}), 'ramdisk and properties.ramdisk_id disagree'),
])
def test_contradictions_and_unsupported_options_fail_in_one_line(given, text):
    with pytest.raises(GlanceError) as info:
        translate(**given)
    assert text in str(info.value)
    assert '\n' not in str(info.value)


def test_is_protected_is_protected():
    assert translate(is_protected=True)[0]['protected'] is True
    assert translate(is_protected=False, protected=False)[0]['protected'] is False
    assert translate(protected=True)[0]['protected'] is True
    assert translate()[0].get('protected') is None


@pytest.mark.parametrize('given, expected', [
    (dict(import_method='web-download', url='https://mirror.example/cirros.img'),
     {'url': 'https://mirror.example/cirros.img'}),
    (dict(use_import=True), {'filename': None, 'url': None}),
    (dict(use_import=True, url='https://mirror.example/cirros.img'), {'url': 'https://mirror.example/cirros.img'}),
    (dict(use_import=False, filename='/tmp/x.qcow2'), {'filename': '/tmp/x.qcow2'}),
    (dict(volume=''), {'visibility': None}),
    (dict(owner='producer', owner_domain='Default'), {'owner': 'producer', 'owner_domain': 'Default'}),
])
def test_what_maps_onto_this_collection_passes(given, expected):
    params, references = translate(**given)
    assert {key: params.get(key) for key in expected} == expected
    assert references == {}


def test_kernel_and_ramdisk_are_left_for_lookup_and_empty_ones_ignored():
    params, references = translate(kernel='vmlinuz', ramdisk='', properties={'os_distro': 'cirros'})
    assert references == {'kernel': 'vmlinuz'}
    assert params['properties'] == {'os_distro': 'cirros'}
    # Saying the same thing twice is no contradiction.
    assert translate(kernel=KERNEL_ID, properties={'kernel_id': KERNEL_ID})[1] == {'kernel': KERNEL_ID}


def test_translation_does_not_change_the_callers_options():
    given = dict(is_public=True, is_protected=True, properties={'a': 1})
    before = copy.deepcopy(given)
    translate(**given)
    assert given == before


# -- lookups --------------------------------------------------------------------------
def image_params(params, session):
    """The options of openstack.cloud.image as the image workflow gets them: translated, then looked up."""
    translated, references = compat.translate_image_params(params)
    return compat.resolve_image_references(translated, references, session)


def image(image_id, name):
    return {'id': image_id, 'name': name, 'status': 'active', 'visibility': 'public', 'os_hidden': False,
            'owner': PRODUCER}


def test_kernel_and_ramdisk_become_ids_with_one_filtered_lookup_each():
    server = ImageServiceV2([image(KERNEL_ID, 'vmlinuz'), image(RAMDISK_ID, 'initrd')], project_id=PRODUCER)
    params = image_params(dict(kernel='vmlinuz', ramdisk=RAMDISK_ID, properties={'os_distro': 'cirros'}),
                          server.session())
    assert params['properties'] == {'os_distro': 'cirros', 'kernel_id': KERNEL_ID, 'ramdisk_id': RAMDISK_ID}
    # A name is one server-side filtered listing (asked with and without hidden images), an ID one read.
    assert server.calls == [('list', [('name', 'vmlinuz')]), ('list', [('name', 'vmlinuz'), ('os_hidden', 'true')]),
                            ('get', RAMDISK_ID)]


def test_no_lookup_without_kernel_or_ramdisk():
    server = ImageServiceV2(project_id=PRODUCER)
    params = image_params(dict(name='x', properties=None), server.session())
    assert server.calls == [] and params['properties'] is None


def test_missing_or_ambiguous_kernel_fails_in_one_line():
    server = ImageServiceV2([image(KERNEL_ID, 'twin'), image(RAMDISK_ID, 'twin')], project_id=PRODUCER)
    with pytest.raises(GlanceError) as info:
        image_params(dict(kernel='twin'), server.session())
    assert str(info.value).startswith("kernel: 2 images are named 'twin'")
    assert KERNEL_ID in str(info.value) and RAMDISK_ID in str(info.value)
    with pytest.raises(GlanceError) as info:
        image_params(dict(ramdisk='nowhere'), server.session())
    assert str(info.value) == "ramdisk image 'nowhere' not found"


def keystone(may_list=True):
    return Keystone([(PRODUCER, 'producer', 'default'), ('f' * 32, 'producer', 'd2')],
                    {'default': 'Default', 'd2': 'Other'}, may_list)


def conn(identity):
    return ImageServiceV2(project_id=PRODUCER).session(keystone=identity).conn


def test_project_name_is_found_in_its_domain_with_one_filtered_listing():
    identity = keystone()
    assert compat.project_in_domain(conn(identity), 'producer', 'Default') == PRODUCER
    assert compat.project_in_domain(conn(identity), 'producer', 'd2') == 'f' * 32
    assert identity.calls[:2] == [('find_domain', 'Default'),
                                  ('projects', {'name': 'producer', 'domain_id': 'default'})]


def test_project_id_needs_no_lookup():
    identity = keystone()
    assert compat.project_in_domain(conn(identity), PRODUCER, 'Other') == PRODUCER
    assert identity.calls == []


def test_unknown_project_or_domain_fails_in_one_line():
    with pytest.raises(GlanceError, match="^project 'consumer9' not found in domain 'default'$"):
        compat.project_in_domain(conn(keystone()), 'consumer9', 'Default')
    with pytest.raises(GlanceError, match="^domain 'Nowhere' does not exist$"):
        compat.project_in_domain(conn(keystone()), 'producer', 'Nowhere')


def test_without_rights_to_list_the_name_is_left_to_the_callers_own_projects():
    assert compat.project_in_domain(conn(keystone(may_list=False)), 'producer', 'Default') == 'producer'


def test_owner_with_domain_becomes_the_project_id():
    session = ImageServiceV2(project_id=PRODUCER).session(keystone=keystone())
    params = image_params(dict(owner='producer', owner_domain='Default'), session)
    assert params['owner'] == PRODUCER


# -- image_info ---------------------------------------------------------------------
@pytest.mark.parametrize('filters, version, expected', [
    ({'is_protected': False, 'owner_id': 'p', 'is_hidden': True}, '2', {'protected': False, 'owner': 'p', 'hidden': True}),
    ({'hash_value': 'ab', 'hash_algo': 'sha512'}, '2', {'os_hash_value': 'ab', 'os_hash_algo': 'sha512'}),
    ({'properties': {'os_distro': 'cirros', 'needs_config_drive': 'True'}}, '2',
     {'os_distro': 'cirros', 'img_config_drive': 'True'}),
    ({'properties': {'os_distro': 'cirros'}}, '1', {'property-os_distro': 'cirros'}),
    ({'visibility': 'public', 'protected': True, 'is_protected': True}, '2', {'visibility': 'public', 'protected': True}),
    ({}, '2', {}),
])
def test_info_filters_with_openstacksdk_names(filters, version, expected):
    assert compat.translate_info_filters(filters, PROPERTY_FILTER[version]) == expected


def test_info_filters_that_disagree_fail():
    with pytest.raises(GlanceError, match='filters protected and is_protected disagree'):
        compat.translate_info_filters({'protected': True, 'is_protected': False}, PROPERTY_FILTER['2'])


def test_pattern_warning_only_for_wildcards_that_matched_nothing():
    assert 'matched exactly' in compat.pattern_warning('cirros*', [])
    assert compat.pattern_warning('cirros*', [{'id': 'x'}]) is None
    assert compat.pattern_warning('cirros', []) is None
    assert compat.pattern_warning(None, []) is None


def test_results_also_carry_the_openstack_cloud_keys():
    image = ImageDriverV2(None).normalize({
        'id': IMAGE_ID, 'name': 'n', 'protected': True, 'os_hidden': False, 'owner': PRODUCER,
        'os_hash_algo': 'sha512', 'os_hash_value': 'ab', 'kernel_id': KERNEL_ID,
        'img_config_drive': 'mandatory', 'status': 'active', 'tags': []})
    view = compat.openstack_cloud_view(image)
    assert view['is_protected'] is True and view['is_hidden'] is False and view['owner_id'] == PRODUCER
    assert view['hash_algo'] == 'sha512' and view['hash_value'] == 'ab'
    assert view['kernel_id'] == KERNEL_ID and view['properties']['kernel_id'] == KERNEL_ID
    assert view['needs_config_drive'] == 'mandatory'
    assert {key: view[key] for key in image} == image
    assert compat.openstack_cloud_view(None) is None
