from __future__ import annotations

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.members import (
    ADD, CAN_SHARE, REMOVE, STATUS, STATUSES, Operation, apply, find_duplicates, plan, plan_absent, summary,
)


def v1(member_id, can_share=False):
    return {'member_id': member_id, 'status': None, 'can_share': can_share}


def v2(member_id, status='pending'):
    return {'member_id': member_id, 'status': status, 'can_share': None}


def want(member_id, can_share=None, status=None):
    return {'member_id': member_id, 'can_share': can_share, 'status': status}


# -- examples ----------------------------------------------------------------
def test_nothing_to_do():
    current = [v2('a', 'accepted'), v2('b')]
    assert not plan(current, [want('b'), want('a', status='accepted')], '2')


def test_replace_adds_and_removes_only_the_difference():
    result = plan([v2('a'), v2('b')], [want('b'), want('c')], '2')
    assert result.operations == [Operation(REMOVE, 'a'), Operation(ADD, 'c')]
    assert (result.added, result.removed, result.updated) == (['c'], ['a'], [])


def test_replace_with_empty_list_removes_everyone():
    result = plan([v1('a', True), v1('b')], [], '1')
    assert result.removed == ['a', 'b'] and result.added == []


def test_without_purge_nothing_is_removed():
    assert plan([v2('a'), v2('b')], [want('c')], '2', purge=False).operations == [Operation(ADD, 'c')]


def test_v2_new_member_with_status_is_added_then_answered():
    result = plan([], [want('a', status='accepted'), want('b', status='pending')], '2')
    assert result.operations == [Operation(ADD, 'a'), Operation(STATUS, 'a', 'accepted'), Operation(ADD, 'b')]
    assert result.added == ['a', 'b'] and result.updated == []


def test_v2_status_change_of_an_existing_member():
    result = plan([v2('a', 'accepted')], [want('a', status='rejected')], '2')
    assert result.operations == [Operation(STATUS, 'a', 'rejected')]
    assert result.updated == ['a']


def test_v2_status_left_out_leaves_it_alone():
    assert not plan([v2('a', 'rejected')], [want('a')], '2')


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
    assert plan(current, [want('a', can_share=can_share)], '1').operations == operations


def test_v1_replace_that_only_flips_can_share():
    result = plan([v1('a', True), v1('b', False)], [want('a', can_share=False), want('b', can_share=True)], '1')
    assert result.added == [] and result.removed == [] and result.updated == ['a', 'b']


def test_v1_new_member_without_can_share_gets_false():
    assert apply([], plan([], [want('a')], '1').operations, '1') == [v1('a', False)]


def test_absent():
    assert plan_absent([v2('a'), v2('b')], 'a').operations == [Operation(REMOVE, 'a')]
    assert not plan_absent([v2('b')], 'a')


@pytest.mark.parametrize('desired, version, message', [
    ([want('a'), want('b'), want('a')], '2', 'members lists the same project more than once: a'),
    ([want('a', can_share=True)], '2', 'can_share exists only in Image API v1'),
    ([want('a', status='accepted')], '1', 'status (accepting or rejecting an image) exists only in Image API v2'),
    ([want('a', status='maybe')], '2', "status of project a must be one of"),
])
def test_bad_input(desired, version, message):
    with pytest.raises(GlanceError) as caught:
        plan([], desired, version)
    assert str(caught.value).startswith(message)
    assert '\n' not in str(caught.value)


def test_find_duplicates_keeps_first_seen_order():
    assert find_duplicates(['b', 'a', 'b', 'c', 'a', 'b']) == ['b', 'a']


def test_summary_shows_the_managed_field_only():
    assert summary([v2('b', 'accepted'), v2('a')], '2') == [
        {'member_id': 'a', 'status': 'pending'}, {'member_id': 'b', 'status': 'accepted'}]
    assert summary([v1('a', True)], '1') == [{'member_id': 'a', 'can_share': True}]


def test_apply_v2_readd_is_a_no_op():
    assert apply([v2('a', 'accepted')], [Operation(ADD, 'a')], '2') == [v2('a', 'accepted')]


# -- properties ----------------------------------------------------------------
PROJECTS = st.sampled_from(['p%02d' % number for number in range(12)])


@st.composite
def scenario(draw):
    version = draw(st.sampled_from(['1', '2']))
    current_ids = draw(st.lists(PROJECTS, unique=True, max_size=10))
    desired_ids = draw(st.lists(PROJECTS, unique=True, max_size=10))
    if version == '1':
        current = [v1(member_id, draw(st.booleans())) for member_id in current_ids]
        desired = [want(member_id, can_share=draw(st.none() | st.booleans())) for member_id in desired_ids]
    else:
        current = [v2(member_id, draw(st.sampled_from(STATUSES))) for member_id in current_ids]
        desired = [want(member_id, status=draw(st.none() | st.sampled_from(STATUSES))) for member_id in desired_ids]
    return version, current, desired


def expected_after(current, desired, version):
    """What the desired list means, member by member, independently of plan()."""
    existing = {member['member_id']: member for member in current}
    result = []
    for entry in desired:
        before = existing.get(entry['member_id'])
        if version == '1':
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
    version, current, desired = case
    operations = plan(current, desired, version).operations
    assert apply(current, operations, version) == expected_after(current, desired, version)


@settings(max_examples=400, deadline=None)
@given(scenario())
def test_plan_is_minimal_and_idempotent(case):
    version, current, desired = case
    result = plan(current, desired, version)
    current_ids = {member['member_id'] for member in current}
    desired_ids = {entry['member_id'] for entry in desired}
    assert set(result.added) == desired_ids - current_ids
    assert set(result.removed) == current_ids - desired_ids
    # Nothing is sent for a member already as wanted, and nothing twice.
    assert len(set(result.operations)) == len(result.operations)
    after = apply(current, result.operations, version)
    assert not plan(after, desired, version)


@settings(max_examples=200, deadline=None)
@given(scenario())
def test_without_purge_only_the_listed_members_change(case):
    version, current, desired = case
    operations = plan(current, desired, version, purge=False).operations
    touched = {op.member_id for op in operations}
    assert touched <= {entry['member_id'] for entry in desired}
    after = {member['member_id']: member for member in apply(current, operations, version)}
    for member in current:
        if member['member_id'] not in touched:
            assert after[member['member_id']] == member
