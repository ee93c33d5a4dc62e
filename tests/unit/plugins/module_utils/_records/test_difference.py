# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._records.difference import DifferenceTracker


def test_changed_exactly_when_something_was_recorded():
    tracker = DifferenceTracker({'tags': ['a']})
    assert tracker.result(tags=['a']) == {'tags': ['a'], 'changed': False,
                                          'diff': {'before': {'tags': ['a']}, 'after': {'tags': ['a']}}}
    tracker.record('add tag b', tags=['a', 'b'])
    result = tracker.result(tags=['a', 'b'])
    assert result['changed'] is True and tracker.changes == ['add tag b']
    assert result['diff'] == {'before': {'tags': ['a']}, 'after': {'tags': ['a', 'b']}}


def test_before_and_after_are_copies():
    before = {'members': [{'member_id': 'a'}]}
    tracker = DifferenceTracker(before)
    before['members'].append({'member_id': 'b'})
    after = {'members': []}
    tracker.set_after(after)
    after['members'].append({'member_id': 'c'})
    assert tracker.diff() == {'before': {'members': [{'member_id': 'a'}]}, 'after': {'members': []}}
