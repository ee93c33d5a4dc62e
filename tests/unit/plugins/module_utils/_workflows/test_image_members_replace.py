# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.registry import check_needs
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext, run_workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_members_replace import (
    ImageMembersReplaceWorkflow, parse_entries,
)
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2, Keystone, session_for

IMAGE = {'id': 'img', 'name': 'demo', 'status': 'active', 'visibility': 'shared', 'owner': 'owner', 'tags': []}
KEYSTONE = [('owner', 'producer', 'default'), ('m1', 'consumer1', 'default'), ('m2', 'consumer2', 'default'),
            ('m3', 'consumer3', 'default')]


def options(members, **given):
    return dict(dict(image='demo', members=members), **given)


def run(server, params, project_id='owner', check_mode=False):
    session = server.session(project_id, keystone=Keystone(KEYSTONE, own=project_id))
    return run_workflow(ImageMembersReplaceWorkflow(), TaskContext(params, check_mode, True),
                        session_factory=lambda _params: session)


# -- the members option ------------------------------------------------------------
def test_parse_entries():
    assert parse_entries(['p1', {'project': 'p2', 'can_share': 'yes'}, {'cloud': 'c', 'status': 'accepted'}]) == [
        {'project': 'p1', 'can_share': None, 'status': None, 'cloud': None},
        {'project': 'p2', 'can_share': True, 'status': None, 'cloud': None},
        {'project': None, 'can_share': None, 'status': 'accepted', 'cloud': 'c'},
    ]


@pytest.mark.parametrize('members, message', [
    ([{'project': 'p', 'colour': 'x'}], 'unknown key(s) colour in a members entry'),
    ([{'status': 'accepted'}], 'each members entry needs project'),
    ([None], 'members entries must be project names or IDs'),
    ([{'project': 'p', 'can_share': 'perhaps'}], 'can_share must be a boolean'),
])
def test_parse_entries_refuses(members, message):
    with pytest.raises(GlanceError, match=message.replace('(', r'\(').replace(')', r'\)')):
        parse_entries(members)


@pytest.mark.parametrize('project, kind', [([], 'a list'), ({'id': 'x'}, 'a mapping')])
def test_members_entry_project_must_be_a_name_or_id(project, kind):
    with pytest.raises(GlanceError) as info:
        parse_entries([{'project': project}])
    assert str(info.value) == 'members entry project must be a project name or ID, got %s' % kind


# -- before any request -------------------------------------------------------------------------------
@pytest.mark.parametrize('members, text', [
    (['m1', 'm2', 'm1'], 'members lists the same project more than once: m1'),
    ([{'project': 'm1', 'status': 'maybe'}], "status of member m1 must be one of pending, accepted, rejected, got "
                                             "'maybe'"),
    ([{'project': 'm1', 'colour': 'x'}], 'unknown key(s) colour in a members entry; use project, can_share, status, '
                                         'cloud'),
])
def test_bad_options_fail_before_connecting(members, text):
    connected = []
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageMembersReplaceWorkflow(), TaskContext(options(members)),
                     session_factory=lambda _params: connected.append(1))
    assert str(info.value) == text and connected == []


@pytest.mark.parametrize('driver, members, text', [
    (ImageDriverV2, ['m1', {'project': 'm2', 'can_share': True}],
     'can_share (member m2) needs Image API v1; this endpoint speaks Image API v2'),
    (ImageDriverV1, [{'project': 'm1', 'status': 'accepted'}],
     'status (and member credentials to set it) (member m1) needs Image API v2; this endpoint speaks Image API v1'),
    (ImageDriverV1, [{'cloud': 'consumer1'}],
     'status (and member credentials to set it) (member given by cloud) needs Image API v2; this endpoint speaks '
     'Image API v1'),
])
def test_what_the_api_lacks_is_refused_before_any_request(driver, members, text):
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageMembersReplaceWorkflow(), TaskContext(options(members)),
                     session_factory=lambda _params: session_for(driver(None)))
    assert str(info.value) == text


@pytest.mark.parametrize('driver, members', [
    (ImageDriverV2, ['m1', {'project': 'm2', 'status': 'accepted'}, {'cloud': 'consumer1'}]),
    (ImageDriverV2, []),
    (ImageDriverV1, ['m1', {'project': 'm2', 'can_share': True}]),
    (ImageDriverV1, []),
])
def test_what_each_api_has(driver, members):
    workflow = ImageMembersReplaceWorkflow()
    check_needs(driver(None), workflow.needs(workflow.validate(options(members))))


# -- runs ------------------------------------------------------------------------------------------
def test_the_list_becomes_exactly_the_one_given():
    server = ImageServiceV2([IMAGE], project_id='owner')
    server.add_members('img', ['m1', 'm2'])
    result = run(server, options(['consumer2', 'm3']))
    assert result['changed'] and (result['added'], result['removed'], result['updated']) == (['m3'], ['m1'], [])
    assert sorted(server.members['img']) == ['m2', 'm3']
    again = run(server, options(['m2', 'consumer3']))
    assert not again['changed'] and (again['added'], again['removed']) == ([], [])


def test_check_mode_predicts_without_writing():
    server = ImageServiceV2([IMAGE], project_id='owner')
    server.add_members('img', ['m1'])
    result = run(server, options([]), check_mode=True)
    assert result['changed'] and result['removed'] == ['m1'] and result['members'] == []
    assert server.writes() == []


def test_the_same_project_by_name_and_id_is_refused():
    server = ImageServiceV2([IMAGE], project_id='owner')
    with pytest.raises(GlanceError) as info:
        run(server, options(['m1', 'consumer1']))
    assert str(info.value) == 'members names the same project more than once (by name and by ID): m1'
    assert server.calls == []


def test_the_status_of_others_needs_their_credentials():
    server = ImageServiceV2([IMAGE], project_id='owner')
    with pytest.raises(GlanceError) as info:
        run(server, options([{'project': 'm1', 'status': 'accepted'}]))
    assert str(info.value).startswith('the status of member(s) m1 can only be set with their own credentials')
    assert server.calls == []


def test_members_of_an_image_that_cannot_have_any():
    server = ImageServiceV2([dict(IMAGE, visibility='private')], project_id='owner')
    with pytest.raises(GlanceError) as info:
        run(server, options(['m1']))
    assert 'only images with visibility shared have members' in str(info.value)
    result = run(server, options([]))
    assert not result['changed'] and result['members'] == []
