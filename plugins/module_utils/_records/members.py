# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Membership diff: from the current member list and the wanted one, the operations to send.

Pure functions, no server. Members are dicts in the drivers' normalized shape
(``member_id``, ``status``, ``can_share``); a wanted member is a dict with
``member_id`` and optionally ``can_share`` and ``status``, where ``None`` means
"leave as it is" (and, for a new member, the server's default: ``can_share``
false, status ``pending``). Which of the two an API keeps comes from its
capabilities (``can_share``, ``member_status``).
"""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError

STATUSES = ('pending', 'accepted', 'rejected')
NEW_MEMBER_STATUS = 'pending'

ADD, REMOVE, CAN_SHARE, STATUS = 'add', 'remove', 'can_share', 'status'


class Operation:
    """One write: ``add`` (``value``: the new member's can_share, or None), ``remove``,
    ``can_share`` (``value`` bool) or ``status`` (``value`` the new status)."""

    __slots__ = ('kind', 'member_id', 'value')

    def __init__(self, kind, member_id, value=None):
        self.kind = kind
        self.member_id = member_id
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Operation) and (self.kind, self.member_id, self.value) == (
            other.kind, other.member_id, other.value)

    def __hash__(self):
        return hash((self.kind, self.member_id, self.value))

    def __repr__(self):
        return 'Operation(%r, %r, %r)' % (self.kind, self.member_id, self.value)


class Plan:
    """The operations that turn the current member list into the wanted one."""

    def __init__(self, operations):
        self.operations = list(operations)

    def of_kind(self, kind):
        return [op for op in self.operations if op.kind == kind]

    @property
    def added(self):
        return sorted(op.member_id for op in self.of_kind(ADD))

    @property
    def removed(self):
        return sorted(op.member_id for op in self.of_kind(REMOVE))

    @property
    def updated(self):
        """Members that stay and change (can_share or status); new members are in ``added``."""
        added = set(self.added)
        return sorted({op.member_id for op in self.operations
                       if op.kind in (CAN_SHARE, STATUS) and op.member_id not in added})

    def __bool__(self):
        return bool(self.operations)

    def __len__(self):
        return len(self.operations)


def find_duplicates(values):
    """Values given more than once, in first-seen order."""
    seen, duplicates = set(), []
    for value in values:
        if value in seen and value not in duplicates:
            duplicates.append(value)
        seen.add(value)
    return duplicates


def validate_desired(desired):
    """Refuse the same member twice and unknown statuses (what the API offers is checked by the driver's table)."""
    duplicates = find_duplicates(entry['member_id'] for entry in desired)
    if duplicates:
        raise GlanceError('members lists the same project more than once: %s' % ', '.join(duplicates))
    for entry in desired:
        if entry.get('status') is not None and entry['status'] not in STATUSES:
            raise GlanceError('status of project %s must be one of %s, got %r'
                              % (entry['member_id'], ', '.join(STATUSES), entry['status']))


def plan(current, desired, capabilities, purge=True):
    """Operations that make ``current`` match ``desired`` on an API with ``capabilities``.

    With ``purge`` every member not wanted is removed (replace semantics);
    without it only the wanted members are added or updated.
    """
    validate_desired(desired)
    present = {member['member_id']: member for member in current}
    wanted = {entry['member_id'] for entry in desired}
    operations = []
    if purge:
        operations += [Operation(REMOVE, member_id) for member_id in sorted(present) if member_id not in wanted]
    for entry in desired:
        member_id = entry['member_id']
        can_share = entry.get('can_share')
        status = entry.get('status')
        existing = present.get(member_id)
        if existing is None:
            # A new member's can_share travels with the add; its status is set after it.
            operations.append(Operation(ADD, member_id, None if can_share is None else bool(can_share)))
            if capabilities.member_status and status is not None and status != NEW_MEMBER_STATUS:
                operations.append(Operation(STATUS, member_id, status))
            continue
        if capabilities.can_share:
            if can_share is not None and bool(existing.get('can_share')) != bool(can_share):
                operations.append(Operation(CAN_SHARE, member_id, bool(can_share)))
        elif status is not None and existing.get('status') != status:
            operations.append(Operation(STATUS, member_id, status))
    return Plan(operations)


def plan_absent(current, member_id):
    """Operations that make sure ``member_id`` is not a member."""
    if any(member['member_id'] == member_id for member in current):
        return Plan([Operation(REMOVE, member_id)])
    return Plan([])


def new_member(member_id, capabilities, can_share=None):
    """A member as the server creates it."""
    return {'member_id': member_id,
            'status': NEW_MEMBER_STATUS if capabilities.member_status else None,
            'can_share': bool(can_share) if capabilities.can_share else None}


def apply(current, operations, capabilities):
    """The member list after ``operations`` (what check mode predicts)."""
    members = {member['member_id']: dict(member) for member in current}
    for op in operations:
        if op.kind == ADD:
            if op.member_id in members:
                # Where members share onward, a re-add updates can_share when given; elsewhere it changes nothing.
                if capabilities.can_share and op.value is not None:
                    members[op.member_id]['can_share'] = op.value
            else:
                members[op.member_id] = new_member(op.member_id, capabilities, op.value)
        elif op.kind == REMOVE:
            members.pop(op.member_id, None)
        elif op.kind == CAN_SHARE:
            members[op.member_id]['can_share'] = op.value
        elif op.kind == STATUS:
            members[op.member_id]['status'] = op.value
        else:
            raise ValueError('unknown operation %r' % op.kind)
    return sort_members(members.values())


def sort_members(members):
    return sorted(members, key=lambda member: member['member_id'])


def summary(members, capabilities):
    """The part of each member a task manages, sorted: what ``--diff`` shows."""
    key = 'can_share' if capabilities.can_share else 'status'
    return [{'member_id': member['member_id'], key: member.get(key)} for member in sort_members(members)]
