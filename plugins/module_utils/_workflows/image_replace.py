# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Replacing an image's data: a new image with the same attributes and members, then the old one deleted.

The new image is made hidden (where the server can hide images) and marked
with the ID it replaces, and its data verified, before the old one is deleted;
then one update unmarks it. A failure at any step leaves one image that the
modules find under the name (see ``_records.image.settle_replacements``), and a
re-run goes on from where it stopped.
"""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.checksums import (
    preferred_algorithm, server_digests,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import (
    MANAGED_FIELDS, REPLACES_PROPERTY, RecordChanges, managed_state, replaced_id,
)


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
        new_raw = self.reusable(algorithm, plan.local_digests)
        if new_raw is None:
            new_raw = self.make(raw, current, fields, properties, tags)
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
        """The new image, hidden and marked as replacing ``current``, with its data uploaded and verified."""
        if self.driver.can_hide(current_raw):
            fields = dict(fields, hidden=True)
        new_raw = self.task.create_record(fields, dict(properties, **{REPLACES_PROPERTY: current['id']}), tags)
        try:
            return self.task.data.fill(new_raw)
        except GlanceError:
            self.task.data.discard(new_raw['id'])
            raise

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
