# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.members import (
    ADD, CAN_SHARE, REMOVE, STATUS, STATUSES, Operation, apply, find_duplicates, new_member, plan, plan_absent,
    summary,
)

# The capability rows that decide what a member keeps: can_share (v1) or status (v2).
V1 = ImageDriverV1.capabilities
V2 = ImageDriverV2.capabilities


def v1(member_id, can_share=False):
    return {'member_id': member_id, 'status': None, 'can_share': can_share}


def v2(member_id, status='pending'):
    return {'member_id': member_id, 'status': status, 'can_share': None}


def want(member_id, can_share=None, status=None):
    return {'member_id': member_id, 'can_share': can_share, 'status': status}


# -- examples ----------------------------------------------------------------
def test_nothing_to_do():
    current = [v2('a', 'accepted'), v2('b')]
    assert not plan(current, [want('b'), want('a', status='accepted')], V2)


def test_replace_adds_and_removes_only_the_difference():
    result = plan([v2('a'), v2('b')], [want('b'), want('c')], V2)
    assert result.operations == [Operation(REMOVE, 'a'), Operation(ADD, 'c')]
    assert (result.added, result.removed, result.updated) == (['c'], ['a'], [])


def test_replace_with_empty_list_removes_everyone():
    result = plan([v1('a', True), v1('b')], [], V1)
    assert result.removed == ['a', 'b'] and result.added == []


def test_without_purge_nothing_is_removed():
    assert plan([v2('a'), v2('b')], [want('c')], V2, purge=False).operations == [Operation(ADD, 'c')]


def test_v2_new_member_with_status_is_added_then_answered():
    result = plan([], [want('a', status='accepted'), want('b', status='pending')], V2)
    assert result.operations == [Operation(ADD, 'a'), Operation(STATUS, 'a', 'accepted'), Operation(ADD, 'b')]
    assert result.added == ['a', 'b'] and result.updated == []


def test_v2_status_change_of_an_existing_member():
    result = plan([v2('a', 'accepted')], [want('a', status='rejected')], V2)
    assert result.operations == [Operation(STATUS, 'a', 'rejected')]
    assert result.updated == ['a']


def test_v2_status_left_out_leaves_it_alone():
    assert not plan([v2('a', 'rejected')], [want('a')], V2)


@pytest.mark.parametrize('current, can_share, operations', [
    # can_share true -> false -> omitted
    ([v1('a', True)], False, [Operation(CAN_SHARE, 'a', False)]),
    ([v1('a', False)], None, []),
    ([v1('a', True)], None, []),
    ([v1('a', False)], True, [Operation(CAN_SHARE, 'a', True)]),
    ([], None, [Operation(ADD, 'a', None)]),
    ([], True, [Operation(ADD, 'a', True)]),
    ([], False, [Operation(ADD, 'a', False)]),
])
def test_v1_can_share(current, can_share, operations):
    assert plan(current, [want('a', can_share=can_share)], V1).operations == operations


def test_v1_replace_that_only_flips_can_share():
    result = plan([v1('a', True), v1('b', False)], [want('a', can_share=False), want('b', can_share=True)], V1)
    assert result.added == [] and result.removed == [] and result.updated == ['a', 'b']


def test_v1_new_member_without_can_share_gets_false():
    assert apply([], plan([], [want('a')], V1).operations, V1) == [v1('a', False)]


def test_absent():
    assert plan_absent([v2('a'), v2('b')], 'a').operations == [Operation(REMOVE, 'a')]
    assert not plan_absent([v2('b')], 'a')


# can_share asked of v2 and status asked of v1 are refused before any request by the
# capability check of the workflows (see _workflows/test_image_member*.py).
@pytest.mark.parametrize('desired, capabilities, message', [
    ([want('a'), want('b'), want('a')], V2, 'members lists the same project more than once: a'),
    ([want('a'), want('b'), want('a')], V1, 'members lists the same project more than once: a'),
    ([want('a', status='maybe')], V2, "status of project a must be one of"),
])
def test_bad_input(desired, capabilities, message):
    with pytest.raises(GlanceError) as caught:
        plan([], desired, capabilities)
    assert str(caught.value).startswith(message)
    assert '\n' not in str(caught.value)


def test_find_duplicates_keeps_first_seen_order():
    assert find_duplicates(['b', 'a', 'b', 'c', 'a', 'b']) == ['b', 'a']


def test_summary_shows_the_managed_field_only():
    assert summary([v2('b', 'accepted'), v2('a')], V2) == [
        {'member_id': 'a', 'status': 'pending'}, {'member_id': 'b', 'status': 'accepted'}]
    assert summary([v1('a', True)], V1) == [{'member_id': 'a', 'can_share': True}]


def test_new_member_as_each_api_creates_it():
    assert new_member('a', V1) == v1('a', False)
    assert new_member('a', V1, can_share=True) == v1('a', True)
    assert new_member('a', V2) == v2('a')


def test_apply_v1_readd_updates_can_share_when_given():
    assert apply([v1('a', False)], [Operation(ADD, 'a', True)], V1) == [v1('a', True)]
    assert apply([v1('a', True)], [Operation(ADD, 'a')], V1) == [v1('a', True)]


def test_apply_v2_readd_is_a_no_op():
    assert apply([v2('a', 'accepted')], [Operation(ADD, 'a')], V2) == [v2('a', 'accepted')]


# -- properties ----------------------------------------------------------------
PROJECTS = st.sampled_from(['p%02d' % number for number in range(12)])


@st.composite
def scenario(draw):
    capabilities = draw(st.sampled_from([V1, V2]))
    current_ids = draw(st.lists(PROJECTS, unique=True, max_size=10))
    desired_ids = draw(st.lists(PROJECTS, unique=True, max_size=10))
    if capabilities.can_share:
        current = [v1(member_id, draw(st.booleans())) for member_id in current_ids]
        desired = [want(member_id, can_share=draw(st.none() | st.booleans())) for member_id in desired_ids]
    else:
        current = [v2(member_id, draw(st.sampled_from(STATUSES))) for member_id in current_ids]
        desired = [want(member_id, status=draw(st.none() | st.sampled_from(STATUSES))) for member_id in desired_ids]
    return capabilities, current, desired


def expected_after(current, desired, capabilities):
    """What the desired list means, member by member, independently of plan()."""
    existing = {member['member_id']: member for member in current}
    result = []
    for entry in desired:
        before = existing.get(entry['member_id'])
        if capabilities.can_share:
            can_share = entry['can_share'] if entry['can_share'] is not None else (
                before['can_share'] if before else False)
            result.append(v1(entry['member_id'], can_share))
        else:
            status = entry['status'] if entry['status'] is not None else (
                before['status'] if before else 'pending')
            result.append(v2(entry['member_id'], status))
    return sorted(result, key=lambda member: member['member_id'])


@settings(max_examples=400, deadline=None)
@given(scenario())
def test_applying_the_plan_yields_the_desired_list(case):
    capabilities, current, desired = case
    operations = plan(current, desired, capabilities).operations
    assert apply(current, operations, capabilities) == expected_after(current, desired, capabilities)


@settings(max_examples=400, deadline=None)
@given(scenario())
def test_plan_is_minimal_and_idempotent(case):
    capabilities, current, desired = case
    result = plan(current, desired, capabilities)
    current_ids = {member['member_id'] for member in current}
    desired_ids = {entry['member_id'] for entry in desired}
    assert set(result.added) == desired_ids - current_ids
    assert set(result.removed) == current_ids - desired_ids
    # Nothing is sent for a member already as wanted, and nothing twice.
    assert len(set(result.operations)) == len(result.operations)
    after = apply(current, result.operations, capabilities)
    assert not plan(after, desired, capabilities)


@settings(max_examples=200, deadline=None)
@given(scenario())
def test_without_purge_only_the_listed_members_change(case):
    capabilities, current, desired = case
    operations = plan(current, desired, capabilities, purge=False).operations
    touched = {op.member_id for op in operations}
    assert touched <= {entry['member_id'] for entry in desired}
    after = {member['member_id']: member for member in apply(current, operations, capabilities)}
    for member in current:
        if member['member_id'] not in touched:
            assert after[member['member_id']] == member
