# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The image module's work: find, create, update, upload, replace, (de)activate, delete."""

from __future__ import annotations

import time
import uuid

from ansible_collections.cloudimage.glance.plugins.module_utils.api_v1 import check_header_safe
from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError, strip_url_secrets
from ansible_collections.cloudimage.glance.plugins.module_utils.data import (
    HashingReader, check_readable, is_qcow2, new_hash, parse_checksum, preferred_algorithm, server_digests, upload_algorithms,
)
from ansible_collections.cloudimage.glance.plugins.module_utils.diff import DifferenceTracker
from ansible_collections.cloudimage.glance.plugins.module_utils import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils.images import REPLACES_PROPERTY, looks_like_uuid, replaced_id
from ansible_collections.cloudimage.glance.plugins.module_utils.lost_updates import WantedState
from ansible_collections.cloudimage.glance.plugins.module_utils.sharing import send_tags
from ansible_collections.cloudimage.glance.plugins.module_utils.image_diff import (
    MANAGED_FIELDS, V2_KEYS, field_changes, managed_state, property_changes, tag_target, v1_fields, v1_update,
    v2_create_body, v2_patch, validate_name, validate_properties, validate_tags,
)

V1_ONLY_PUBLIC_PRIVATE = ('public', 'private')
POLL_INTERVAL = 1.0
# An upload that failed on the way (gateway answer, reset connection) is sent again
# while the image is still queued, at most this many times in all.
UPLOAD_ATTEMPTS = 3


class DataPlan:
    """What to do about the image data: nothing, upload, import from a URL, or replace the image."""

    NOTHING, UPLOAD, IMPORT, REPLACE = 'nothing', 'upload', 'import', 'replace'

    def __init__(self, action, local_digests=None):
        self.action = action
        self.local_digests = local_digests or {}


def validate(params, version):
    """Every check that needs no server: bad input fails before anything is sent."""
    if version == '1':
        for option in ('tags', 'hidden', 'url'):
            if params.get(option) is not None:
                raise GlanceError('option %s has no meaning in Image API v1' % option)
        if params['state'] == 'inactive':
            raise GlanceError('state inactive (deactivation) does not exist in Image API v1')
        if params.get('visibility') not in (None,) + V1_ONLY_PUBLIC_PRIVATE:
            raise GlanceError('visibility %s does not exist in Image API v1 (public or private)' % params['visibility'])
        check_header_safe(params.get('name'), params.get('properties'))
    for option in ('min_disk', 'min_ram'):
        if params.get(option) is not None and params[option] < 0:
            raise GlanceError('%s must be 0 or more, got %s' % (option, params[option]))
    if params.get('id') and params['state'] != 'absent' and not looks_like_uuid(params['id']):
        raise GlanceError('id %r is not a UUID (Glance image IDs are UUIDs)' % params['id'])
    validate_name(params.get('name'))
    validate_tags(params.get('tags'))
    validate_properties(params.get('properties'))
    expected = parse_checksum(params['checksum']) if params.get('checksum') else None
    size = check_readable(params['filename']) if params.get('filename') and params['state'] != 'absent' else None
    return expected, size


class ImageTask:
    def __init__(self, module, client):
        self.module = module
        self.params = module.params
        self.client = client
        self.api = client.api
        self.version = client.version
        self.check_mode = module.check_mode
        self.expected, self.size = validate(self.params, self.version)
        if self.version == '1' and self.params.get('properties'):
            # v1 carries property names in HTTP headers; the server stores them in lowercase.
            self.params['properties'] = {str(k).lower(): v for k, v in self.params['properties'].items()}
        self.owner_id = client.resolve_project(self.params['owner']) if self.params.get('owner') else None

    # -- helpers --------------------------------------------------------
    def desired_fields(self):
        fields = {field: self.params.get(field) for field in MANAGED_FIELDS if field not in ('name', 'owner')}
        if self.params.get('name') is not None:
            fields['name'] = self.params['name']
        if self.owner_id:
            fields['owner'] = self.owner_id
        return {key: value for key, value in fields.items() if value is not None}

    def describe(self, image):
        return 'image %s (%s)' % (image.get('name'), image.get('id'))

    def state_of(self, image):
        """Managed attributes plus the data's strongest digest (the diff's view of an image)."""
        if image is None:
            return {}
        state = managed_state(image)
        algorithm = preferred_algorithm(image)
        digest = server_digests(image).get(algorithm)
        state['data'] = '%s:%s' % (algorithm, digest) if digest else None
        state['status'] = image.get('status')
        return state

    def find(self):
        """(raw image or None, its replacement left by an interrupted replace_data or None)."""
        if self.params.get('id'):
            return self.api.get(self.params['id']), None
        return self.client.find_image_and_replacement(name=self.params['name'],
                                                      owner=self.owner_id or self.client.project_id)

    def reread(self, image_id):
        raw = self.api.get(image_id)
        if raw is None:
            raise GlanceError('image %s disappeared while it was being changed' % image_id)
        return raw

    # -- entry point ----------------------------------------------------
    def run(self):
        raw, self.replacement = self.find()
        current = self.api.normalize(raw) if raw else None
        tracker = DifferenceTracker(self.state_of(current))
        state = self.params['state']
        if state == 'absent':
            final = self.ensure_absent(raw, current, tracker)
        elif current is None:
            final = self.create(tracker)
        else:
            if replaced_id(raw):
                # The image it replaced is gone: only the last step of the swap was left.
                raw, current = self.finish_replacement(raw, current, tracker)
            final = self.ensure_present(raw, current, tracker)
        result = dict(changed=tracker.changed, image=final, changes=tracker.changes, api_version=self.version)
        if self.module._diff:
            result['diff'] = tracker.diff()
        return result

    # -- absent ---------------------------------------------------------
    def ensure_absent(self, raw, current, tracker):
        if current is None:
            return None
        if current['protected']:
            if self.params.get('protected') is not False:
                raise GlanceError('%s is protected and cannot be deleted; set protected: false in the same task '
                                  'to unprotect and delete it' % self.describe(current))
            tracker.record('unprotect', protected=False)
            if not self.check_mode:
                self.set_fields(raw, {'protected': False})
        tracker.record('delete')
        tracker.set_after({})
        if not self.check_mode:
            self.api.delete(current['id'])
        if self.replacement is not None:
            tracker.record('delete the unfinished replacement %s' % self.replacement['id'])
            if not self.check_mode:
                self.api.delete(self.replacement['id'])
        return None

    # -- create ---------------------------------------------------------
    def create(self, tracker):
        if self.params.get('name') is None:
            raise GlanceError('image %s does not exist; give name (and the formats) to create it' % self.params['id'])
        fields = self.desired_fields()
        if self.params.get('filename') or self.params.get('url'):
            if 'disk_format' not in fields and self.params.get('filename') and is_qcow2(self.params['filename']):
                # The one format a file says about itself (openstack.cloud makes every image qcow2).
                fields['disk_format'] = 'qcow2'
            if 'disk_format' not in fields:
                raise GlanceError('disk_format is required to create image %s with data (for example raw or qcow2)'
                                  % self.params['name'])
            # As the openstack CLI does: Glance refuses data while container_format is unset.
            fields.setdefault('container_format', 'bare')
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
            if self.params.get('filename') or self.params.get('url'):
                tracker.record('upload data' if self.params.get('filename') else 'import data from url')
            return None
        raw = self.create_record(fields, properties, tags)
        try:
            if self.params.get('filename') or self.params.get('url'):
                raw = self.fill_data(raw, tracker, created=True)
            if protect:
                raw = self.set_fields(raw, {'protected': True})
        except GlanceError:
            self.discard(raw['id'])
            raise
        final = self.api.normalize(raw)
        if self.params['state'] == 'inactive' and final['status'] == 'active':
            final = self.set_status(final, 'inactive', tracker)
        tracker.set_after(self.state_of(final))
        return final

    def create_record(self, fields, properties, tags):
        """Create the record under an ID chosen here, so a create repeated after a lost answer finds its image."""
        fields = dict(fields, id=fields.get('id') or str(uuid.uuid4()))
        if self.version == '2':
            return self.api.create(v2_create_body(fields, properties, tags))
        return self.api.create(v1_fields(fields), {k: str(v) for k, v in properties.items()})

    def discard(self, image_id):
        """Remove an image this run made, after a failure: leave nothing half-made behind.

        A delete that meets the server still saving a cut upload can leave the
        image in status deleted for good: wait until it has settled first.
        """
        try:
            self.settled_status(image_id)
            self.api.delete(image_id)
        except GlanceError as exc:
            self.module.warn('could not remove the incomplete image %s: %s' % (image_id, exc))

    # -- update ---------------------------------------------------------
    def ensure_present(self, raw, current, tracker):
        plan = self.plan_data(current)
        if plan.action == DataPlan.REPLACE:
            return self.replace(raw, current, plan, tracker)
        if current['status'] == 'deactivated' and self.params['state'] == 'present':
            current = self.set_status(current, 'present', tracker)
            raw = self.reread(current['id']) if not self.check_mode else raw
        fills = plan.action in (DataPlan.UPLOAD, DataPlan.IMPORT)
        # Protect only once the data is in and verified (a protected image cannot be discarded).
        protect_after = fills and self.params.get('protected') is True and not current['protected']
        raw = self.update_record(raw, current, tracker, hold_back=('protected',) if protect_after else ())
        if fills:
            tracker.record('upload data' if plan.action == DataPlan.UPLOAD else 'import data from url')
            if not self.check_mode:
                raw = self.fill_data(raw, tracker, created=False)
            if protect_after:
                tracker.record('protect', protected=True)
                if not self.check_mode:
                    raw = self.set_fields(raw, {'protected': True})
        final = self.api.normalize(raw) if not self.check_mode else current
        if self.params['state'] == 'inactive':
            final = self.set_status(final, 'inactive', tracker)
        if not self.check_mode and tracker.changed:
            final = self.api.normalize(self.reread(final['id']))
            tracker.set_after(self.state_of(final))
        return final

    def changes_for(self, current):
        fields = field_changes(current, self.desired_fields())
        if not self.params.get('id') and fields.get('name') == current['id']:
            # The image was found by its ID given as name: that is no new name.
            del fields['name']
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
        tracker.record('update ' + ', '.join(sorted(set(fields) | ({'properties'} if to_set or to_remove else set())
                                                    | ({'tags'} if tags is not None else set()))), **after)
        if self.check_mode:
            return raw
        if self.version == '1':
            return self.send_update(raw, current['properties'], fields, to_set, to_remove)
        # Tags go one call each: a request never names a tag this task was not asked to change.
        added = sorted(set(tags or current['tags']) - set(current['tags']))
        removed = sorted(set(current['tags']) - set(current['tags'] if tags is None else tags))
        wanted = WantedState(dict({V2_KEYS.get(key, key): value for key, value in fields.items()}, **to_set),
                             to_remove, added, removed)
        started = time.monotonic()
        raw = self.send_v2_changes(raw, wanted)
        return lost_updates.keep(self.describe(current), wanted, lambda: self.reread(current['id']),
                                 self.send_v2_changes, time.monotonic() - started)

    def send_v2_changes(self, raw, wanted):
        """A json-patch for the values and removals, then the tag calls; returns the image after the patch."""
        if wanted.values or wanted.removed:
            raw = self.api.patch(raw['id'], v2_patch(raw, {}, wanted.values, sorted(wanted.removed), None))
        send_tags(self.api, raw['id'], wanted)
        return raw

    def send_update(self, raw, current_properties, fields, to_set=None, to_remove=(), tags=None):
        """One write of the record: a json-patch on v2, one PUT on v1."""
        if self.version == '2':
            return self.api.patch(raw['id'], v2_patch(raw, fields, to_set or {}, list(to_remove), tags))
        v1_fields_, v1_properties, purge = v1_update(current_properties, fields, to_set or {}, list(to_remove))
        return self.api.update(raw['id'], v1_fields_, v1_properties, purge)

    def set_fields(self, raw, fields):
        return self.send_update(raw, {}, fields)

    def set_status(self, image, state, tracker):
        if state == 'inactive' and image['status'] == 'active':
            tracker.record('deactivate', status='deactivated')
            if not self.check_mode:
                self.api.deactivate(image['id'])
                return dict(image, status='deactivated')
        elif state == 'inactive' and image['status'] not in ('deactivated',):
            raise GlanceError('%s is %s; only an active image can be deactivated' % (self.describe(image), image['status']))
        elif state == 'present' and image['status'] == 'deactivated':
            tracker.record('reactivate', status='active')
            if not self.check_mode:
                self.api.reactivate(image['id'])
                return dict(image, status='active')
        return image

    # -- data -----------------------------------------------------------
    def plan_data(self, current):
        """Decide about the data of an existing image, reading the local file at most once."""
        filename, url = self.params.get('filename'), self.params.get('url')
        if not filename and not url:
            return DataPlan(DataPlan.NOTHING)
        status = current['status']
        if status == 'queued':
            # No data yet (e.g. an earlier run failed mid-upload): complete it.
            return DataPlan(DataPlan.UPLOAD if filename else DataPlan.IMPORT)
        if status not in ('active', 'deactivated'):
            raise GlanceError('%s is in status %s; its data cannot be compared or replaced now'
                              % (self.describe(current), status))
        held = server_digests(current)
        if self.expected and self.expected[0] in held:
            same = held[self.expected[0]] == self.expected[1]
            local = {}
        elif filename:
            algorithm = preferred_algorithm(current)
            if algorithm not in held:
                raise GlanceError('%s holds no checksum of its data to compare with' % self.describe(current))
            algorithms = {algorithm} | ({self.expected[0]} if self.expected else set())
            local = HashingReader(filename, algorithms).consume()
            self.check_expected(local)
            same = held[algorithm] == local[algorithm]
        else:
            # Data imported from a URL cannot be compared without downloading it: keep it.
            return DataPlan(DataPlan.NOTHING)
        if same:
            return DataPlan(DataPlan.NOTHING)
        if not self.params['replace_data']:
            raise GlanceError('the data of %s differs from %s; set replace_data: true to replace the image '
                              '(a new image with the same attributes and members, then the old one deleted)'
                              % (self.describe(current), filename or 'checksum'))
        if current['protected'] and self.params.get('protected') is not False:
            raise GlanceError('%s is protected: its data cannot be replaced (set protected: false to allow it)'
                              % self.describe(current))
        if not filename:
            raise GlanceError('replacing the data of %s needs filename' % self.describe(current))
        return DataPlan(DataPlan.REPLACE, local)

    def check_expected(self, local):
        if self.expected and local.get(self.expected[0]) != self.expected[1]:
            raise GlanceError('%s does not match checksum %s:%s (its %s is %s)'
                              % (self.params['filename'], self.expected[0], self.expected[1],
                                 self.expected[0], local.get(self.expected[0])))

    def fill_data(self, raw, tracker, created):
        """Upload or import the data into a queued image and verify it.

        On a mismatch the caller removes the image if this run created it;
        an image that existed before is left as it is.
        """
        if self.params.get('url'):
            return self.import_url(raw)
        image = self.api.normalize(raw)
        server_algorithm = None
        if image['api_version'] == '2' and not image.get('os_hash_algo'):
            server_algorithm = self.api.hash_algorithm()
        reader = HashingReader(self.params['filename'], upload_algorithms(image, self.expected, server_algorithm))
        if created:
            tracker.record('upload data')
        self.send_data(image['id'], reader)
        local = reader.digests()
        raw = self.reread(image['id'])
        stored = server_digests(self.api.normalize(raw))
        mismatched = sorted(a for a in stored if a in local and stored[a] != local[a])
        self.check_expected(local)
        if reader.size != self.size:
            raise GlanceError('%s changed size while it was uploaded' % self.params['filename'])
        if mismatched:
            raise GlanceError('the server stored different data than was sent for %s (%s mismatch)'
                              % (self.describe(image), ', '.join(mismatched)))
        if not set(stored) & set(local):
            # Good data is never thrown away for want of a digest to compare.
            self.module.warn('the server reported no checksum of the data of %s that could be compared with the '
                             'uploaded file (it keeps: %s); the data was not verified'
                             % (self.describe(image), ', '.join(sorted(stored)) or 'none'))
        return raw

    def send_data(self, image_id, reader):
        """Upload; after a failure that may pass, the image's status says whether the data is in or must go again."""
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            try:
                self.api.upload(image_id, reader, self.size)
                return
            except GlanceError as exc:
                if not exc.transient or attempt == UPLOAD_ATTEMPTS:
                    raise
                status = self.settled_status(image_id)
                if status == 'active':
                    return  # the server kept the data; verification follows
                if status != 'queued':
                    raise

    def settled_status(self, image_id):
        """The image's status once the server has stopped saving data into it (bounded by ``timeout``)."""
        deadline = time.monotonic() + self.params['timeout']
        while True:
            raw = self.api.get(image_id)
            status = raw.get('status') if raw else None
            if status != 'saving' or time.monotonic() > deadline:
                return status
            time.sleep(POLL_INTERVAL)

    def import_url(self, raw):
        image_id = raw['id']
        if 'web-download' not in self.api.import_methods():
            raise GlanceError('the image service does not enable the web-download import method')
        self.api.import_from_url(image_id, self.params['url'])
        if not self.params['wait']:
            if self.expected:
                self.module.warn('checksum is verified only when the task waits for the import (wait: true)')
            return self.reread(image_id)
        deadline = time.monotonic() + self.params['timeout']
        while True:
            raw = self.reread(image_id)
            if raw.get('status') == 'active':
                self.verify_imported(raw)
                return raw
            if raw.get('status') in ('killed', 'deleted') or (
                    raw.get('status') == 'queued' and raw.get('os_glance_failed_import')):
                raise GlanceError('import of %s into image %s failed (status %s)'
                                  % (self.params['url'], image_id, raw.get('status')))
            if time.monotonic() > deadline:
                raise GlanceError('image %s not active %s s after the import started (status %s)'
                                  % (image_id, self.params['timeout'], raw.get('status')))
            time.sleep(POLL_INTERVAL)

    def verify_imported(self, raw):
        """Compare imported data with ``checksum``: by the server's digest, else by reading the data back once."""
        if not self.expected:
            return
        algorithm, wanted = self.expected
        held = server_digests(self.api.normalize(raw)).get(algorithm)
        if held is None:
            reader = self.api.download(raw['id'])
            digest = new_hash(algorithm)
            for chunk in reader:
                digest.update(chunk)
            held = digest.hexdigest()
        if held != wanted:
            raise GlanceError('the data imported from %s into %s does not match checksum %s:%s (its %s is %s)'
                              % (strip_url_secrets(self.params['url']), self.describe(self.api.normalize(raw)),
                                 algorithm, wanted, algorithm, held))

    # -- replace --------------------------------------------------------
    def replace(self, raw, current, plan, tracker):
        """Swap the image for a new one with the same attributes and members and the new data.

        The new image is made hidden (v2) and marked with the ID it replaces,
        and its data verified, before the old one is deleted; then one update
        unmarks it. A failure at any step leaves one image that the modules
        find under the name (see ``settle_replacements``), and a re-run goes
        on from where it stopped.
        """
        fields = {field: current.get(field) for field in MANAGED_FIELDS if current.get(field) is not None}
        changes, to_set, to_remove, tags = self.changes_for(current)
        fields.update(changes)
        protect = fields.pop('protected', False)
        hidden = fields.pop('hidden', False) and can_hide(raw)
        properties = {k: v for k, v in current['properties'].items() if k not in to_remove}
        properties.update(to_set)
        tags = current['tags'] if tags is None else tags
        members = self.api.members(current['id']) if (self.version == '1' or current['visibility'] == 'shared') else []
        algorithm = preferred_algorithm(current)
        tracker.record('replace data (new image, then delete %s)' % current['id'],
                       **dict(managed_state(dict(fields, protected=protect, hidden=hidden, properties=properties,
                                                 tags=tags)),
                              data='%s:%s' % (algorithm, plan.local_digests.get(algorithm))))
        if self.check_mode:
            return current
        new_raw = self.reusable_replacement(algorithm, plan.local_digests)
        if new_raw is None:
            new_raw = self.make_replacement(raw, current, fields, properties, tags, tracker)
        self.copy_members(new_raw, members)
        if current['protected']:
            self.set_fields(raw, {'protected': False})
        self.api.delete(current['id'])
        new_raw, final = self.finish_replacement(new_raw, self.api.normalize(new_raw), tracker, hidden, protect)
        if members and self.version == '2':
            self.module.warn('image %s replaces %s; its %d member(s) were added again and must accept it again'
                             % (new_raw['id'], current['id'], len(members)))
        if self.params['state'] == 'inactive':
            final = self.set_status(final, 'inactive', tracker)
        tracker.set_after(self.state_of(final))
        return final

    def reusable_replacement(self, algorithm, local_digests):
        """A replacement left by an interrupted run that already holds the wanted data, else None (removed)."""
        if self.replacement is None:
            return None
        left = self.api.normalize(self.replacement)
        if left['status'] == 'active' and server_digests(left).get(algorithm) == local_digests.get(algorithm):
            return self.replacement
        self.discard(left['id'])
        return None

    def make_replacement(self, current_raw, current, fields, properties, tags, tracker):
        """The new image, hidden and marked as replacing ``current``, with its data uploaded and verified."""
        if can_hide(current_raw):
            fields = dict(fields, hidden=True)
        new_raw = self.create_record(fields, dict(properties, **{REPLACES_PROPERTY: current['id']}), tags)
        try:
            return self.fill_data(new_raw, tracker, created=False)
        except GlanceError:
            self.discard(new_raw['id'])
            raise

    def copy_members(self, new_raw, members):
        try:
            for member in members:
                self.api.add_member(new_raw['id'], member['member_id'],
                                    can_share=member['can_share'] if self.version == '1' else None)
        except GlanceError:
            self.discard(new_raw['id'])
            raise

    def finish_replacement(self, raw, image, tracker, hidden=None, protect=None):
        """Unmark a replacement whose old image is gone, in one update; it becomes the image under the name."""
        fields = {'hidden': bool(self.params.get('hidden')) if hidden is None else hidden} if can_hide(raw) else {}
        if protect:
            fields['protected'] = True
        tracker.record('finish replacing %s with %s' % (replaced_id(raw), raw['id']))
        if self.check_mode:
            return raw, dict(image, hidden=fields.get('hidden', image['hidden']))
        raw = self.send_update(raw, image['properties'], fields, to_remove=[REPLACES_PROPERTY])
        return raw, self.api.normalize(raw)


def can_hide(raw):
    """Whether the server keeps os_hidden (Image API v2 since Rocky; Pike's v2 refuses the key)."""
    return 'os_hidden' in raw


def run(module, client):
    return ImageTask(module, client).run()
