# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The image module's workflow: find, create, update, (de)activate, delete; data in ``image_data``,
replacing the data in ``image_replace``."""

from __future__ import annotations

import uuid

from ansible_collections.cloudimage.glance.plugins.module_utils._compat import openstack_cloud
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.base import Need
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.checksums import (
    parse_checksum, preferred_algorithm, server_digests,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._records.difference import DifferenceTracker
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import (
    MANAGED_FIELDS, RecordChanges, RecordTarget, describe, field_changes, looks_like_uuid, managed_state,
    property_changes, replaced_id, tag_target, validate_name, validate_properties, validate_tags,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import Workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_data import DataPlan, ImageData
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_race import Race
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_replace import Replacement
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.local_file import check_readable
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.lookup import Scope, find_image, others_named


class ImageWorkflow(Workflow):
    """The image module; options written for openstack.cloud.image are translated first."""

    def __init__(self):
        self.references = {}

    def validate(self, params):
        params, self.references = openstack_cloud.translate_image_params(params)
        validate_options(params)
        return params

    def needs(self, params):
        needs = [Need(capability, what='option %s' % option)
                 for option, capability in (('tags', 'tags'), ('hidden', 'hidden')) if params.get(option) is not None]
        if params.get('url') is not None:
            needs.append(Need('import_methods', 'web-download', 'option url'))
        if params['state'] == 'inactive':
            needs.append(Need('deactivation', what='state inactive (deactivation)'))
        if params.get('visibility') is not None:
            needs.append(Need('visibilities', params['visibility'], 'visibility %s' % params['visibility']))
        return needs

    def run(self, context):
        params = openstack_cloud.resolve_image_references(context.params, self.references, context.session)
        context.driver.check_record(params.get('name'), params.get('properties'))
        result = ImageTask(context, params).run()
        result['image'] = openstack_cloud.openstack_cloud_view(result['image'])
        return result


def validate_options(params):
    """Every check of the image options that needs no server: bad input fails before anything is sent."""
    for option in ('min_disk', 'min_ram'):
        if params.get(option) is not None and params[option] < 0:
            raise GlanceError('%s must be 0 or more, got %s' % (option, params[option]))
    # In every state: an ID travels in the request path (id '..' would read GET /v2/ and report the image gone).
    if params.get('id') and not looks_like_uuid(params['id']):
        raise GlanceError('id %r is not a UUID (Glance image IDs are UUIDs)' % params['id'])
    validate_name(params.get('name'))
    validate_tags(params.get('tags'))
    validate_properties(params.get('properties'))
    if params.get('checksum'):
        parse_checksum(params['checksum'])
    if params.get('filename') and params['state'] != 'absent':
        check_readable(params['filename'])


class ImageTask:
    """One run of the image module against one image."""

    def __init__(self, context, params):
        self.context = context
        self.driver = context.driver
        self.check_mode = context.check_mode
        if params.get('properties'):
            params = dict(params, properties=self.driver.canonical_properties(params['properties']))
        self.params = params
        self.owner_id = context.session.resolve_project(params['owner']) if params.get('owner') else None
        self.data = ImageData(self)
        self.race = Race(self)
        self.scope = Scope.owned_by(self.owner_id or context.session.project_id)
        self.replacement = None
        self.replacements = []

    # -- helpers --------------------------------------------------------
    def desired_fields(self):
        fields = {field: self.params.get(field) for field in MANAGED_FIELDS if field not in ('name', 'owner')}
        if self.params.get('name') is not None:
            fields['name'] = self.params['name']
        if self.owner_id:
            fields['owner'] = self.owner_id
        return {key: value for key, value in fields.items() if value is not None}

    def state_of(self, image):
        """Managed attributes plus the data's strongest digest (the diff's view of an image)."""
        if image is None:
            return {}
        state = managed_state(image)
        algorithm = preferred_algorithm(image, self.driver.strongest_digest)
        digest = server_digests(image).get(algorithm)
        state['data'] = '%s:%s' % (algorithm, digest) if digest else None
        state['status'] = image.get('status')
        return state

    def normalize(self, raw):
        return self.driver.normalize(raw)

    # -- entry point ----------------------------------------------------
    def run(self):
        present = self.params['state'] != 'absent'
        found = find_image(self.driver, self.scope, name=self.params.get('name'), image_id=self.params.get('id'),
                           settle=self.race.pause if present else None)
        raw, self.replacements = found.image, found.replacements
        self.replacement = found.replacement
        current = self.normalize(raw) if raw else None
        tracker = DifferenceTracker(self.state_of(current))
        if not present:
            final = self.ensure_absent(raw, current, tracker)
        elif current is None:
            final = self.create(tracker)
        else:
            if replaced_id(raw):
                # The image it replaced is gone: the swap's last step is left, to its replacer or to us.
                raw, current = Replacement(self).complete(raw, current, tracker)
            final = self.adopt(raw, tracker)
        return tracker.result(image=final, changes=tracker.changes)

    # -- absent ---------------------------------------------------------
    def ensure_absent(self, raw, current, tracker):
        if current is None:
            self.warn_of_others_named()
            return None
        if current['protected']:
            if self.params.get('protected') is not False:
                raise GlanceError('%s is protected and cannot be deleted; set protected: false in the same task '
                                  'to unprotect and delete it' % describe(current))
            tracker.record('unprotect', protected=False)
            if not self.check_mode:
                raw = self.set_fields(raw, {'protected': False})
        tracker.record('delete')
        tracker.set_after({})
        if not self.check_mode:
            self.delete_or_protect_again(raw, current)
        if self.replacement is not None:
            tracker.record('delete the unfinished replacement %s' % self.replacement['id'])
            if not self.check_mode:
                self.driver.delete(self.replacement['id'])
        return None

    def warn_of_others_named(self):
        """Nothing of the owner's to delete by this name: say so when other projects' images have it."""
        if self.params.get('id') or not self.params.get('name'):
            return
        owner = self.scope.owner
        others = others_named(self.driver, self.params['name'], owner)
        if others:
            self.context.warn('project %s has no image named %r, so nothing was deleted; %s was left alone: give '
                              'owner (or id) to delete another project\'s image' % (owner, self.params['name'], others))

    def delete_or_protect_again(self, raw, current):
        """Delete; when the delete fails, an image unprotected for it is protected again."""
        try:
            self.driver.delete(current['id'])
        except GlanceError as exc:
            if not current['protected']:
                raise
            try:
                self.set_fields(raw, {'protected': True})
            except GlanceError as again:
                raise exc.reworded('%s could not be deleted, and protecting it again failed too (%s); it is left '
                                   'unprotected: %s' % (describe(current), again, exc.message)) from exc
            raise exc.reworded('%s could not be deleted and is protected again: %s'
                               % (describe(current), exc.message)) from exc

    # -- create ---------------------------------------------------------
    def create(self, tracker):
        if self.params.get('name') is None:
            raise GlanceError('image %s does not exist; give name (and the formats) to create it' % self.params['id'])
        fields = self.data.fields_for_new_image(self.desired_fields())
        # Protect only once the data is in and verified, so a failed upload can be cleaned up.
        protect = fields.pop('protected', None)
        if self.params.get('id'):
            fields['id'] = self.params['id']
        properties = self.params.get('properties') or {}
        tags = self.params.get('tags') or []
        predicted = dict(fields, protected=bool(protect), properties={k: str(v) for k, v in properties.items()},
                         tags=sorted(set(tags)))
        tracker.record('create', **managed_state(predicted))
        if self.check_mode:
            if self.data.given:
                tracker.record(self.data.describe_fill())
            return None
        raw = self.race.create(lambda: self.create_record(fields, properties, tags))
        if not self.params.get('id'):
            winner = self.race.winner_of_create(raw)
            if winner['id'] != raw['id']:
                # Another writer created this name at the same moment: ours goes, theirs is the image.
                self.driver.delete(raw['id'])
                tracker.record('adopt %s, created at the same moment by another writer' % winner['id'])
                return self.adopt(winner, tracker, how='created')
        try:
            if self.data.given:
                if self.params.get('filename'):
                    tracker.record(self.data.describe_fill())
                raw = self.data.fill(raw)
            if protect:
                raw = self.set_fields(raw, {'protected': True})
        except GlanceError as exc:
            if self.race.filled_by_another(exc, raw['id']):
                return self.adopt(self.driver.reread(raw['id']), tracker, how='filled')
            self.data.discard(raw['id'])
            raise
        final = self.normalize(raw)
        if self.params['state'] == 'inactive' and final['status'] == 'active':
            final = self.set_status(final, 'inactive', tracker)
        tracker.set_after(self.state_of(final))
        return final

    def create_record(self, fields, properties, tags):
        """Create the record under an ID chosen here, so a create repeated after a lost answer finds its image."""
        return self.driver.create(dict(fields, id=fields.get('id') or str(uuid.uuid4())), properties, tags)

    # -- update ---------------------------------------------------------
    def adopt(self, raw, tracker, how=None):
        """Update ``raw`` to the task's options once no other writer is filling it with data.

        ``how``: what another writer did to it at the same moment (created,
        filled, replaced), whose data must then be the task's; None for an
        image found as it is, whose data may be replaced.
        """
        raw = self.race.await_data(raw)
        if how:
            self.race.check_same_data(self.normalize(raw), how)
        try:
            return self.ensure_present(raw, self.normalize(raw), tracker)
        except GlanceError as exc:
            if how == 'filled' or not self.race.filled_by_another(exc, raw['id']):
                raise
        return self.adopt(self.driver.reread(raw['id']), tracker, how='filled')

    def ensure_present(self, raw, current, tracker):
        plan = self.data.plan(current)
        if plan.action == DataPlan.REPLACE:
            return Replacement(self).replace(raw, current, plan, tracker)
        if current['status'] == 'deactivated' and self.params['state'] == 'present':
            current = self.set_status(current, 'present', tracker)
            raw = self.driver.reread(current['id']) if not self.check_mode else raw
        fills = plan.action in (DataPlan.UPLOAD, DataPlan.IMPORT)
        # Protect only once the data is in and verified (a protected image cannot be discarded).
        protect_after = fills and self.params.get('protected') is True and not current['protected']
        raw = self.update_record(raw, current, tracker, hold_back=('protected',) if protect_after else ())
        if fills:
            tracker.record(self.data.describe_fill())
            if not self.check_mode:
                raw = self.data.fill(raw)
            if protect_after:
                tracker.record('protect', protected=True)
                if not self.check_mode:
                    raw = self.set_fields(raw, {'protected': True})
        final = self.normalize(raw) if not self.check_mode else current
        if self.params['state'] == 'inactive':
            final = self.set_status(final, 'inactive', tracker)
        if not self.check_mode and tracker.changed:
            final = self.normalize(self.driver.reread(final['id']))
            tracker.set_after(self.state_of(final))
        return final

    def wanted_fields(self, current):
        fields = self.desired_fields()
        if not self.params.get('id') and fields.get('name') == current['id']:
            # The image was found by its ID given as name: that is no new name.
            del fields['name']
        return fields

    def changes_for(self, current):
        """(fields, properties to set, property names to remove, the tag list to end with or None)."""
        fields = field_changes(current, self.wanted_fields(current))
        properties = self.params.get('properties')
        to_set, to_remove = ({}, []) if properties is None else property_changes(
            current['properties'], properties, self.params['purge_properties'])
        tags = tag_target(current['tags'], self.params.get('tags'), self.params['purge_tags'])
        return fields, to_set, to_remove, tags

    def update_record(self, raw, current, tracker, hold_back=()):
        fields, to_set, to_remove, tags = self.changes_for(current)
        fields = {key: value for key, value in fields.items() if key not in hold_back}
        if not (fields or to_set or to_remove or tags is not None):
            return raw
        properties = {k: v for k, v in current['properties'].items() if k not in to_remove}
        properties.update(to_set)
        after = dict(fields, properties=properties)
        if tags is not None:
            after['tags'] = tags
        changed = set(fields) | ({'properties'} if to_set or to_remove else set()) | (
            {'tags'} if tags is not None else set())
        tracker.record('update ' + ', '.join(sorted(changed)), **after)
        if self.check_mode:
            return raw
        target = current['tags'] if tags is None else tags
        changes = RecordChanges(fields, to_set, to_remove, tags_added=set(target) - set(current['tags']),
                                tags_removed=set(current['tags']) - set(target), target=self.record_target(current, hold_back))
        return self.driver.update(raw, changes, keep=True)

    def record_target(self, current, hold_back=()):
        """The whole record the task wants (the options it gives), for the lost-update guard."""
        fields = {key: value for key, value in self.wanted_fields(current).items() if key not in hold_back}
        properties, tags = self.params.get('properties'), self.params.get('tags')
        return RecordTarget(
            fields, {} if properties is None else property_changes({}, properties, False)[0],
            purge_properties=properties is not None and self.params['purge_properties'],
            tags=tags or (), purge_tags=tags is not None and self.params['purge_tags'])

    def set_fields(self, raw, fields):
        return self.driver.update(raw, RecordChanges(fields))

    def set_status(self, image, state, tracker):
        if state == 'inactive' and image['status'] == 'active':
            tracker.record('deactivate', status='deactivated')
            if not self.check_mode:
                self.driver.deactivate(image['id'])
                return dict(image, status='deactivated')
        elif state == 'inactive' and image['status'] not in ('deactivated',):
            raise GlanceError('%s is %s; only an active image can be deactivated' % (describe(image), image['status']))
        elif state == 'present' and image['status'] == 'deactivated':
            tracker.record('reactivate', status='active')
            if not self.check_mode:
                self.driver.reactivate(image['id'])
                return dict(image, status='active')
        return image
