# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Membership work shared by image_member and image_members_replace: who may set a status, and writing a plan.

Reads first, computes what differs (``_records.members.plan``), then writes only
that. In check mode nothing but reads is sent.
"""

from __future__ import annotations

import re
import threading

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records import members as membership
from ansible_collections.cloudimage.glance.plugins.module_utils._records.difference import DifferenceTracker
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import describe

# Parallel member writes. Small on purpose: Glance serializes member writes per
# image in its database anyway, and SQLite-backed servers answer bursts with
# retried 500s.
WORKERS = 4
QUOTA_MAXIMUM = re.compile(r'Maximum:\s*(\d+)')
SKIPPED = object()


def check_members_allowed(driver, image):
    """Refuse to give members to an image that cannot have any (and never change its visibility to allow it)."""
    if not driver.has_members(image):
        raise GlanceError('%s has visibility %s: only images with visibility shared have members; '
                          'set visibility: shared first (this module never changes visibility)'
                          % (describe(image), image.get('visibility')))


def resolve_member(session, reference, member_session=None):
    """Project ID of a member given by name or ID; with the member's own session, its project."""
    if member_session is not None:
        own = member_session.project_id
        if reference is None or reference in (own, member_session.project_name):
            return own
        raise GlanceError('the member credentials authenticate to project %s (%s), not to %r'
                          % (member_session.project_name, own, reference))
    return session.resolve_project(reference)


# -- writes --------------------------------------------------------------
def quota_of(error):
    match = QUOTA_MAXIMUM.search(error.server_message or error.message or '')
    return int(match.group(1)) if match else None


def quota_error(error, image, wanted=None, added=0, undone=False):
    quota = quota_of(error)
    allowed = 'at most %d members per image' % quota if quota is not None else 'fewer members'
    message = 'the server allows %s on %s (image_member_quota)' % (allowed, describe(image))
    if wanted is not None:
        message += ' and the task asks for %d' % wanted
    if undone:
        message += '; %d member(s) were added before the server refused and were removed again, ' \
                   'so the member list is unchanged' % added
    elif added:
        message += '; %d member(s) were added before the server refused' % added
    else:
        message += '; nothing was changed'
    return error.reworded(message)


class Writer:
    """Sends membership operations for one image and keeps count of what took effect."""

    def __init__(self, driver, image, status_drivers=None, workers=WORKERS):
        self.driver = driver
        self.image = image
        self.image_id = image['id']
        self.status_drivers = status_drivers or {}
        self.workers = workers
        self.effective = []
        self.sent = 0
        self._lock = threading.Lock()

    def send(self, op):
        """Send one operation; True when it changed the server (False: another writer got there first)."""
        with self._lock:
            self.sent += 1
        if op.kind == membership.ADD:
            done = self.driver.add_member(self.image_id, op.member_id, can_share=op.value)
        elif op.kind == membership.REMOVE:
            done = self.driver.remove_member(self.image_id, op.member_id)
        elif op.kind == membership.CAN_SHARE:
            # The add call on an existing member sets its can_share.
            done = self.driver.add_member(self.image_id, op.member_id, can_share=op.value)
        else:
            self.status_drivers.get(op.member_id, self.driver).set_member_status(self.image_id, op.member_id, op.value)
            done = True
        if done:
            with self._lock:
                self.effective.append(op)
        return done

    def batch(self, operations):
        """Send ``operations`` (independent of each other), at most ``workers`` at a time.

        Once one fails, operations not started yet are skipped. Returns
        (operation, outcome, error) triples in the given order; outcome is
        SKIPPED for operations never sent.
        """
        stop = threading.Event()

        def guarded(op):
            if stop.is_set():
                return op, SKIPPED, None
            try:
                return op, self.send(op), None
            except GlanceError as exc:
                stop.set()
                return op, None, exc

        if len(operations) <= 1 or self.workers <= 1:
            return [guarded(op) for op in operations]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(operations))) as pool:
            return list(pool.map(guarded, operations))

    def failed(self, error, total):
        done = len(self.effective)
        return error.reworded('%s (%d of %d member change(s) were made before this failure)'
                              % (error.message, done, total))

    def apply_in_parallel(self, plan, wanted):
        """Adds, then removals, then status changes; independent calls in parallel.

        Adds go first so that a list the server cannot hold (HTTP 413, member
        quota) is refused before anything is removed; the adds already made are
        then taken back. When the list fits once removals are done, the refused
        adds are sent again after them.
        """
        total = len(plan)
        results = self.batch(plan.of_kind(membership.ADD))
        errors = [error for _op, _outcome, error in results if error is not None]
        over_quota = [error for error in errors if error.status == 413]
        if len(over_quota) < len(errors):
            raise self.failed(next(error for error in errors if error.status != 413), total)
        pending_adds = [op for op, outcome, error in results if outcome is SKIPPED or error is not None]
        if over_quota:
            quota = quota_of(over_quota[0])
            if quota is None or wanted > quota:
                added = [op for op, outcome, _error in results if outcome is True]
                undo = [membership.Operation(membership.REMOVE, op.member_id) for op in added]
                undone = self.batch(undo)
                undo_errors = [error for _op, _outcome, error in undone if error is not None]
                if undo_errors:
                    raise quota_error(over_quota[0], self.image, wanted, len(added))
                self.effective = []
                raise quota_error(over_quota[0], self.image, wanted, len(added), undone=bool(added))
        for phase in (plan.of_kind(membership.REMOVE), pending_adds, plan.of_kind(membership.STATUS)):
            errors = [error for _op, _outcome, error in self.batch(phase) if error is not None]
            if errors:
                if errors[0].status == 413:
                    raise quota_error(errors[0], self.image, wanted, len(self.effective))
                raise self.failed(errors[0], total)


def converge(context, image, current, plan, status_drivers, wanted, read=None):
    """Apply ``plan`` (or predict it in check mode); return the tracker, final members and writer.

    ``wanted`` is the whole wanted member list (image_members_replace) or None
    (one member); ``read()`` reads the member list back (default: as the caller).
    """
    driver = context.driver
    capabilities = driver.capabilities
    tracker = DifferenceTracker({'members': membership.summary(current, capabilities)})
    writer = Writer(driver, image, status_drivers) if image is not None else None
    if not plan:
        return tracker, membership.sort_members(current), writer
    if context.check_mode:
        final = membership.apply(current, plan.operations, capabilities)
        for op in plan.operations:
            tracker.record(describe_op(op))
        tracker.set_after({'members': membership.summary(final, capabilities)})
        return tracker, final, writer
    write(driver, writer, image, plan, wanted)
    for op in writer.effective:
        tracker.record(describe_op(op))
    final = membership.sort_members(read() if read is not None else driver.members(image['id']))
    after = membership.summary(final, capabilities)
    if not tracker.changed and after != tracker.before['members']:
        tracker.record('member list changed meanwhile')
    tracker.set_after({'members': after})
    return tracker, final, writer


def write(driver, writer, image, plan, wanted):
    """Send ``plan``: a whole list in one call where the API has it, else one call per operation."""
    if wanted is not None and driver.capabilities.member_list_replacement:
        writer.sent += 1
        try:
            driver.replace_members(image['id'], [{'member_id': entry['member_id'], 'can_share': entry.get('can_share')}
                                                 for entry in wanted])
        except GlanceError as exc:
            if exc.status == 413:
                raise quota_error(exc, image, len(wanted)) from exc
            raise
        writer.effective = list(plan.operations)
    elif wanted is not None:
        writer.apply_in_parallel(plan, len(wanted))
    else:
        for op in plan.operations:
            try:
                writer.send(op)
            except GlanceError as exc:
                if exc.status == 413:
                    raise quota_error(exc, image) from exc
                raise


def describe_op(op):
    if op.kind == membership.ADD:
        return 'add member %s%s' % (op.member_id, '' if op.value is None else ' (can_share %s)' % op.value)
    if op.kind == membership.REMOVE:
        return 'remove member %s' % op.member_id
    return 'set %s of member %s to %s' % (op.kind, op.member_id, op.value)
