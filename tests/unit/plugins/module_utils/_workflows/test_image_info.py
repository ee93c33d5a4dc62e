# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.registry import check_needs
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext, run_workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_info import ImageInfoWorkflow
from ansible_collections.cloudimage.glance.tests.unit.doubles import (
    ImageServiceV2, Keystone, Response, ScriptedSession, http, session_for,
)

SHARED_ID = '11111111-1111-4111-8111-111111111111'
PRIVATE_ID = '22222222-2222-4222-8222-222222222222'
IMAGES = [
    {'id': SHARED_ID, 'name': 'shared', 'status': 'active', 'visibility': 'shared', 'owner': 'p', 'tags': ['golden'],
     'os_hidden': False, 'protected': False, 'os_distro': 'cirros'},
    {'id': PRIVATE_ID, 'name': 'private', 'status': 'active', 'visibility': 'private', 'owner': 'q', 'tags': [],
     'os_hidden': False, 'protected': True},
]


def options(**given):
    return dict(dict(name=None, id=None, image=None, filters={}, include_members=False), **given)


def run(server, params):
    session = server.session(keystone=Keystone([('p', 'producer', 'default'), ('q', 'consumer1', 'default')]))
    return run_workflow(ImageInfoWorkflow(), TaskContext(params), session_factory=lambda _params: session)


# -- before any request -------------------------------------------------------------------------------
@pytest.mark.parametrize('filters, text', [
    ({'limit': 'abc'}, "filters.limit must be a whole number from 1 to 1000, got 'abc'"),
    ({'size_min': 'abc'}, "filters.size_min must be a whole number of bytes, got 'abc'"),
    ({'protected': True, 'is_protected': False}, 'filters protected and is_protected disagree; give one of them'),
])
def test_bad_filters_fail_before_connecting(filters, text):
    connected = []
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageInfoWorkflow(), TaskContext(options(filters=filters)),
                     session_factory=lambda _params: connected.append(1))
    assert str(info.value) == text and connected == []


@pytest.mark.parametrize('filters, text', [
    ({'tags': ['a']}, 'filter tags needs Image API v2; this endpoint speaks Image API v1'),
    ({'member_status': 'all', 'hidden': True}, 'filter hidden needs Image API v2; this endpoint speaks Image API v1'),
    ({'is_hidden': True}, 'filter hidden needs Image API v2; this endpoint speaks Image API v1'),
    ({'os_distro': 'x'}, 'filter os_distro needs Image API v2; this endpoint speaks Image API v1'),
])
def test_filters_v1_lacks_are_refused_before_any_request(filters, text):
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageInfoWorkflow(), TaskContext(options(filters=filters)),
                     session_factory=lambda _params: session_for(ImageDriverV1(None)))
    assert str(info.value) == text


@pytest.mark.parametrize('filters', [
    {}, {'limit': 10}, {'status': 'active', 'owner': 'p', 'visibility': 'public', 'changes_since': 't'},
    {'properties': {'os_distro': 'cirros'}}, {'property-os_distro': 'cirros'}, {'is_protected': True},
    {'status': None, 'tags': None},
])
def test_filters_v1_has(filters):
    workflow = ImageInfoWorkflow()
    check_needs(ImageDriverV1(None), workflow.needs(workflow.validate(options(filters=filters))))


@pytest.mark.parametrize('filters', [{'tags': ['a']}, {'member_status': 'all', 'hidden': True}, {'os_distro': 'x'},
                                     {'properties': {'os_distro': 'cirros'}}])
def test_v2_filters_on_anything(filters):
    workflow = ImageInfoWorkflow()
    check_needs(ImageDriverV2(None), workflow.needs(workflow.validate(options(filters=filters))))


# -- runs -------------------------------------------------------------------------------------------
def test_images_by_name_with_server_side_filters():
    server = ImageServiceV2(IMAGES)
    result = run(server, options(name='shared', filters={'properties': {'os_distro': 'cirros'}, 'limit': 5}))
    assert [image['id'] for image in result['images']] == [SHARED_ID]
    assert result['images'][0]['properties'] == {'os_distro': 'cirros'} and result['api_version'] == '2'
    assert server.calls == [('list', [('name', 'shared'), ('os_distro', 'cirros')])]
    assert result['changed'] is False


def test_an_owner_by_name_is_filtered_by_its_id():
    server = ImageServiceV2(IMAGES)
    result = run(server, options(filters={'owner': 'consumer1'}))
    assert [image['id'] for image in result['images']] == [PRIVATE_ID]
    assert server.calls == [('list', [('owner', 'q')])]


@pytest.mark.parametrize('given, found', [
    (dict(id=PRIVATE_ID), [PRIVATE_ID]),
    (dict(id='33333333-3333-4333-8333-333333333333'), []),
    (dict(image=PRIVATE_ID), [PRIVATE_ID]),
    (dict(image='private'), [PRIVATE_ID]),
])
def test_one_image_by_id_or_reference(given, found):
    result = run(ImageServiceV2(IMAGES), options(**given))
    assert [image['id'] for image in result['images']] == found


def test_members_only_of_images_that_can_have_them():
    server = ImageServiceV2(IMAGES)
    server.add_members(SHARED_ID, ['m1'])
    result = run(server, options(include_members=True))
    members = {image['id']: [m['member_id'] for m in image['members']] for image in result['images']}
    assert members == {SHARED_ID: ['m1'], PRIVATE_ID: []}
    assert server.kinds().count('members') == 1


def test_a_wildcard_that_matched_nothing_warns():
    context = TaskContext(options(image='sha*'))
    server = ImageServiceV2(IMAGES)
    result = run_workflow(ImageInfoWorkflow(), context, session_factory=lambda _params: server.session())
    assert result['images'] == [] and 'wildcards are not expanded' in context.warnings[0]


def test_v1_pages_by_marker_and_compares_the_owner_here():
    mine = {'id': SHARED_ID, 'name': 'a', 'owner': 'p', 'is_public': False, 'properties': {}}
    theirs = {'id': PRIVATE_ID, 'name': 'b', 'owner': 'q', 'is_public': True, 'properties': {}}
    session = ScriptedSession(Response(200, {'images': [mine, theirs]}), Response(200, {'images': []}))
    v1 = session_for(ImageDriverV1(http(session)), 'p')
    result = run_workflow(ImageInfoWorkflow(), TaskContext(options(filters={'owner': 'p', 'visibility': 'private'})),
                          session_factory=lambda _params: v1)
    assert [image['id'] for image in result['images']] == [SHARED_ID] and result['api_version'] == '1'
    assert [kwargs['params'] for _method, _url, kwargs in session.calls] == [
        [('is_public', 'false'), ('limit', '200')], [('is_public', 'false'), ('limit', '200'), ('marker', PRIVATE_ID)]]


@pytest.mark.parametrize('visibility', ['shared', 'community', 'all'])
def test_v1_lists_public_or_private_images_only(visibility):
    session = ScriptedSession()
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageInfoWorkflow(), TaskContext(options(filters={'visibility': visibility})),
                     session_factory=lambda _params: session_for(ImageDriverV1(http(session))))
    assert str(info.value) == "visibility '%s' needs Image API v2; this endpoint speaks Image API v1" % visibility
    assert session.calls == []
