# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_tag: add, remove or set the tags of one image, sending only the tags that differ."""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.base import Need
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.difference import DifferenceTracker
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import (
    RecordChanges, RecordTarget, tag_changes, validate_tags,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import Workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.lookup import Scope, require_image


class ImageTagWorkflow(Workflow):

    def validate(self, params):
        validate_tags(params['tags'])
        if params['state'] == 'absent' and params['purge']:
            raise GlanceError('purge applies only with state present (state absent removes the listed tags)')
        return params

    def needs(self, params):
        return [Need('tags', what='image_tag (tags)')]

    def run(self, context):
        params = context.params
        image = require_image(context.driver, Scope.owned_by(context.session.project_id), params['image'])
        current = sorted(set(image.get('tags') or []))
        to_add, to_remove = tag_changes(current, params['tags'], params['state'], params['purge'])
        tracker = DifferenceTracker({'tags': current})
        for tag in to_remove:
            tracker.record('remove tag %s' % tag)
        for tag in to_add:
            tracker.record('add tag %s' % tag)
        final = sorted((set(current) - set(to_remove)) | set(to_add))
        if (to_add or to_remove) and not context.check_mode:
            changes = RecordChanges(tags_added=to_add, tags_removed=to_remove, target=tag_target_of(params))
            final = sorted(set(context.driver.update(image, changes, keep=True).get('tags') or []))
        tracker.set_after({'tags': final})
        return tracker.result(tags=final, added=to_add, removed=to_remove, image_id=image['id'])


def tag_target_of(params):
    """What the image's tags must show after the task: the lost-update guard checks all of it."""
    if params['state'] == 'absent':
        return RecordTarget(absent_tags=params['tags'])
    return RecordTarget(tags=params['tags'], purge_tags=params['purge'])
