# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Replacing an image's data: a new image with the same attributes and members, then the old one deleted.

The new image is made hidden (where the server can hide images) and marked
with the ID it replaces, and its data verified, before the old one is deleted;
then one update unmarks it. A failure at any step leaves one image that the
modules find under the name (see ``_records.image.settle_replacements``), and a
re-run goes on from where it stopped.

Replacers of one image at the same moment agree on the oldest replacement
(see ``image_race``): the others delete their own and wait for it to finish;
only its maker deletes the old image. A replacement that shows no progress
for a while was left by an interrupted run, and is taken over.
"""

from __future__ import annotations

import time

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.checksums import (
    preferred_algorithm, server_digests,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import (
    FILLING_STATUSES, MANAGED_FIELDS, REPLACES_PROPERTY, RecordChanges, managed_state, replaced_id,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows import image_race


class Replacement:
    """The replacement steps of one image task (``task``: an ``ImageTask``)."""

    def __init__(self, task):
        self.task = task
        self.driver = task.driver
        self.check_mode = task.check_mode

    def replace(self, raw, current, plan, tracker):
        fields = {field: current.get(field) for field in MANAGED_FIELDS if current.get(field) is not None}
        changes, to_set, to_remove, tags = self.task.changes_for(current)
        fields.update(changes)
        protect = fields.pop('protected', False)
        hidden = fields.pop('hidden', False) and self.driver.can_hide(raw)
        properties = {k: v for k, v in current['properties'].items() if k not in to_remove}
        properties.update(to_set)
        tags = current['tags'] if tags is None else tags
        members = self.driver.members(current['id']) if self.driver.has_members(current) else []
        algorithm = preferred_algorithm(current, self.driver.strongest_digest)
        tracker.record('replace data (new image, then delete %s)' % current['id'],
                       **dict(managed_state(dict(fields, protected=protect, hidden=hidden, properties=properties,
                                                 tags=tags)),
                              data='%s:%s' % (algorithm, plan.local_digests.get(algorithm))))
        if self.check_mode:
            return current
        new_raw, theirs = self.own_replacement(raw, current, (fields, properties, tags), algorithm, plan.local_digests)
        if theirs is not None:
            return self.adopt(theirs, current['id'], tracker)
        self.copy_members(new_raw, members)
        if current['protected']:
            self.task.set_fields(raw, {'protected': False})
        self.driver.delete(current['id'])
        new_raw, final = self.finish(new_raw, self.driver.normalize(new_raw), tracker, hidden, protect)
        if members and self.driver.capabilities.member_status:
            self.task.context.warn('image %s replaces %s; its %d member(s) were added again and must accept it '
                                   'again' % (new_raw['id'], current['id'], len(members)))
        if self.task.params['state'] == 'inactive':
            final = self.task.set_status(final, 'inactive', tracker)
        tracker.set_after(self.task.state_of(final))
        return final

    def own_replacement(self, raw, current, record, algorithm, local_digests):
        """(this task's replacement of ``current``, its data in and verified, None), or (None, the replacement
        another writer finished at the same moment); ``record``: (fields, properties, tags) of a new one."""
        if self.task.replacement is not None:
            # Another writer's replacement: adopt it once finished, else it was left behind.
            finished = self.follow(self.task.replacement)
            if finished is not None:
                return None, finished
        new_raw = self.reusable(algorithm, local_digests)
        if new_raw is not None:
            return new_raw, None
        new_raw, winner = self.make(raw, current, *record)
        if winner is None:
            return new_raw, None
        finished = self.follow(winner)
        if finished is None:
            raise GlanceError('image %s, which another writer began at the same moment to replace %s, shows no '
                              'progress; run the task again to take it over' % (winner['id'], current['id']))
        return None, finished

    def reusable(self, algorithm, local_digests):
        """A replacement left by an interrupted run that already holds the wanted data, else None (removed)."""
        left_raw = self.task.replacement
        if left_raw is None:
            return None
        left = self.driver.normalize(left_raw)
        if left['status'] == 'active' and server_digests(left).get(algorithm) == local_digests.get(algorithm):
            return left_raw
        self.task.data.discard(left['id'])
        return None

    def make(self, current_raw, current, fields, properties, tags):
        """(the new image, hidden and marked as replacing ``current``, with its data uploaded and verified, None);
        or (None, the winner) when another writer's replacement made at the same moment wins."""
        if self.driver.can_hide(current_raw):
            fields = dict(fields, hidden=True)
        race = self.task.race
        new_raw = race.create(lambda: self.task.create_record(
            fields, dict(properties, **{REPLACES_PROPERTY: current['id']}), tags))
        winner = race.winner_of_replacement(current['id'], new_raw)
        if winner['id'] != new_raw['id']:
            self.driver.delete(new_raw['id'])
            return None, winner
        try:
            return self.task.data.fill(new_raw), None
        except GlanceError:
            self.task.data.discard(new_raw['id'])
            raise

    def follow(self, other):
        """Wait until ``other``, a replacement another writer is making, is finished (bounded by ``timeout``).

        Returns it read back; marked still if its old image is gone but it
        shows no progress (``complete`` finishes it then); None when it is
        gone, or shows no progress while its old image stays (left behind).
        """
        old_id = replaced_id(other)
        timeout = self.task.params['timeout']
        quiet = min(image_race.QUIET_SECONDS, timeout / 2.0)
        started = last_change = time.monotonic()
        last = None
        while True:
            raw = self.driver.get(other['id'])
            if raw is None or not replaced_id(raw):
                return raw
            old_gone = self.driver.get(old_id) is None
            seen = (raw['status'], raw.get('updated_at'), old_gone)
            now = time.monotonic()
            if seen != last:
                last, last_change = seen, now
            elif raw['status'] not in FILLING_STATUSES and now - last_change > quiet:
                return raw if old_gone and raw['status'] == 'active' else None
            if now - started > timeout:
                raise GlanceError('image %s, which another writer is making to replace %s, is not finished after '
                                  '%s s' % (other['id'], old_id, timeout))
            time.sleep(image_race.POLL_INTERVAL)

    def adopt(self, raw, old_id, tracker):
        """Go on with ``raw``, the replacement of ``old_id`` another writer made at the same moment, as the image."""
        if replaced_id(raw):
            raw, _image = self.finish(raw, self.driver.normalize(raw), tracker)
        tracker.record('adopt %s, which replaced %s at the same moment' % (raw['id'], old_id))
        return self.task.adopt(raw, tracker, how='replaced')

    def complete(self, raw, image, tracker):
        """Finish a replacement whose old image is gone, unless its maker finishes it meanwhile."""
        if not self.check_mode:
            followed = self.follow(raw)
            if followed is None:
                raise GlanceError('image %s was deleted by another writer while it replaced %s'
                                  % (raw['id'], replaced_id(raw)))
            raw, image = followed, self.driver.normalize(followed)
            if not replaced_id(raw):
                return raw, image
        return self.finish(raw, image, tracker)

    def copy_members(self, new_raw, members):
        try:
            for member in members:
                self.driver.add_member(new_raw['id'], member['member_id'], can_share=member['can_share'])
        except GlanceError:
            self.task.data.discard(new_raw['id'])
            raise

    def finish(self, raw, image, tracker, hidden=None, protect=None):
        """Unmark a replacement whose old image is gone, in one update; it becomes the image under the name."""
        can_hide = self.driver.can_hide(raw)
        fields = {'hidden': bool(self.task.params.get('hidden')) if hidden is None else hidden} if can_hide else {}
        if protect:
            fields['protected'] = True
        tracker.record('finish replacing %s with %s' % (replaced_id(raw), raw['id']))
        if self.check_mode:
            return raw, dict(image, hidden=fields.get('hidden', image['hidden']))
        raw = self.driver.update(raw, RecordChanges(fields, removed_properties=[REPLACES_PROPERTY]))
        return raw, self.driver.normalize(raw)
