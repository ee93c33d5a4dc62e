# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The data of an image: compare it with the task's, upload or import it, verify what the server stored."""

from __future__ import annotations

import time

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.secrets import strip_url_secrets
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.checksums import (
    hash_available, new_hash, parse_checksum, preferred_algorithm, server_digests,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import FILLING_STATUSES, describe
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.local_file import (
    HashingReader, check_readable, is_qcow2,
)

POLL_INTERVAL = 1.0
# An upload that failed on the way (gateway answer, reset connection) is sent again
# while the image is still queued, at most this many times in all.
UPLOAD_ATTEMPTS = 3
# After Glance's generic 500 only once more: a database lock passes, a store fault
# does not, and each attempt sends the whole file.
UPLOAD_ATTEMPTS_AFTER_SERVER_ERROR = 2


class DataPlan:
    """What to do about the image data: nothing, upload, import from a URL, or replace the image."""

    NOTHING, UPLOAD, IMPORT, REPLACE = 'nothing', 'upload', 'import', 'replace'

    def __init__(self, action, local_digests=None):
        self.action = action
        self.local_digests = local_digests or {}


class ImageData:
    """The data part of one image task (``task``: its options, driver, mode and warnings)."""

    def __init__(self, task):
        self.task = task
        self.driver = task.driver
        self.filename = task.params.get('filename')
        self.url = task.params.get('url')
        self.expected = parse_checksum(task.params['checksum']) if task.params.get('checksum') else None
        self.size = check_readable(self.filename) if self.filename and task.params['state'] != 'absent' else None

    @property
    def given(self):
        return bool(self.filename or self.url)

    def describe_fill(self):
        return 'upload data' if self.filename else 'import data from url'

    def fields_for_new_image(self, fields):
        """The fields of a new image, with the formats its data needs."""
        fields = dict(fields)
        if not self.given:
            return fields
        if 'disk_format' not in fields and self.filename and is_qcow2(self.filename):
            # The one format a file says about itself (openstack.cloud makes every image qcow2).
            fields['disk_format'] = 'qcow2'
        if 'disk_format' not in fields:
            raise GlanceError('disk_format is required to create image %s with data (for example raw or qcow2)'
                              % self.task.params['name'])
        # As the openstack CLI does: Glance refuses data while container_format is unset.
        fields.setdefault('container_format', 'bare')
        return fields

    # -- compare ----------------------------------------------------------
    def plan(self, current):
        """Decide about the data of an existing image, reading the local file at most once."""
        if not self.given:
            return DataPlan(DataPlan.NOTHING)
        status = current['status']
        if status == 'queued':
            # No data yet (e.g. an earlier run failed mid-upload): complete it.
            return DataPlan(DataPlan.UPLOAD if self.filename else DataPlan.IMPORT)
        if status not in ('active', 'deactivated'):
            raise GlanceError('%s is in status %s; its data cannot be compared or replaced now'
                              % (describe(current), status))
        held = server_digests(current)
        if self.expected and self.expected[0] in held:
            same, local = held[self.expected[0]] == self.expected[1], {}
        elif self.filename:
            algorithm = preferred_algorithm(current, self.driver.strongest_digest)
            if algorithm not in held:
                raise GlanceError('%s holds no checksum of its data to compare with' % describe(current))
            local = HashingReader(self.filename, {algorithm} | ({self.expected[0]} if self.expected else set())).consume()
            self.check_expected(local)
            same = held[algorithm] == local[algorithm]
        elif self.expected and status == 'deactivated':
            # Glance serves no data of a deactivated image: it cannot be read back to compare.
            self.task.context.warn('%s is deactivated: its data could not be compared with checksum %s:%s'
                                   % (describe(current), self.expected[0], self.expected[1]))
            return DataPlan(DataPlan.NOTHING)
        elif self.expected:
            # The server keeps no digest of that algorithm: read its data back once to compare.
            same, local = self.downloaded_digest(current['id'], self.expected[0]) == self.expected[1], {}
        else:
            # Data imported from a URL without checksum cannot be compared: keep it.
            return DataPlan(DataPlan.NOTHING)
        if same:
            return DataPlan(DataPlan.NOTHING)
        self.check_replaceable(current)
        return DataPlan(DataPlan.REPLACE, local)

    def check_replaceable(self, current):
        params = self.task.params
        if not params['replace_data']:
            raise GlanceError('the data of %s differs from %s; set replace_data: true to replace the image '
                              '(a new image with the same attributes and members, then the old one deleted)'
                              % (describe(current), self.filename or 'checksum'))
        if current['protected'] and params.get('protected') is not False:
            raise GlanceError('%s is protected: its data cannot be replaced (set protected: false to allow it)'
                              % describe(current))
        if not self.filename:
            raise GlanceError('replacing the data of %s needs filename' % describe(current))
        if params.get('id'):
            raise GlanceError('the data of %s differs, and replacing it makes a new image with a new ID, which id %s '
                              'would not find on the next run (Glance never reuses an ID); give name instead of id '
                              'to replace the data' % (describe(current), params['id']))

    def check_expected(self, local):
        if self.expected and local.get(self.expected[0]) != self.expected[1]:
            raise GlanceError('%s does not match checksum %s:%s (its %s is %s)'
                              % (self.filename, self.expected[0], self.expected[1],
                                 self.expected[0], local.get(self.expected[0])))

    # -- fill ---------------------------------------------------------------
    def fill(self, raw):
        """Upload or import the data into a queued image and verify it; returns the image read back, active.

        On a mismatch the caller removes the image if this run created it;
        an image that existed before is left as it is.
        """
        if self.url:
            return self.import_url(raw)
        image = self.driver.normalize(raw)
        served = self.driver.data_algorithms(image)
        expected = {self.expected[0]} if self.expected else set()
        reader = HashingReader(self.filename, {a for a in served if hash_available(a)} | expected)
        self.send(image['id'], reader)
        raw = self.active(image['id'], 'after its data was sent')
        self.verify_upload(self.driver.normalize(raw), reader)
        return raw

    def verify_upload(self, image, reader):
        """Compare what the server stored with what was read from the file while it was sent."""
        local = reader.digests()
        stored = server_digests(image)
        mismatched = sorted(a for a in stored if a in local and stored[a] != local[a])
        if image.get('size') is not None and image['size'] != reader.size:
            mismatched.append('size')
        self.check_expected(local)
        if reader.size != self.size:
            raise GlanceError('%s changed size while it was uploaded' % self.filename)
        if mismatched:
            raise GlanceError('the server stored different data than was sent for %s (%s mismatch)'
                              % (describe(image), ', '.join(mismatched)))
        if not set(stored) & set(local):
            # Good data is never thrown away for want of a digest to compare.
            self.task.context.warn('the server reported no checksum of the data of %s that could be compared with '
                                   'the uploaded file (it keeps: %s); the data was not verified'
                                   % (describe(image), ', '.join(sorted(stored)) or 'none'))
            return
        lacking = sorted(a for a in stored if not hash_available(a))
        if lacking:
            self.task.context.warn('the server hashes image data with %s, which this Python lacks: the data of %s '
                                   'was verified by its %s and size only'
                                   % (', '.join(lacking), describe(image), ', '.join(sorted(set(stored) & set(local)))))

    def active(self, image_id, when):
        """The image read back, which must be active; followed while on its way there, within ``timeout``."""
        deadline = time.monotonic() + self.task.params['timeout']
        while True:
            raw = self.driver.reread(image_id)
            status = raw.get('status')
            if status == 'active':
                return raw
            if status not in FILLING_STATUSES or time.monotonic() > deadline:
                raise GlanceError('%s is %s %s, not active' % (describe(raw), status, when))
            time.sleep(POLL_INTERVAL)

    def send(self, image_id, reader):
        """Upload; after a failure that may pass, the image's status says whether the data is in or must go again."""
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            try:
                self.driver.upload(image_id, reader, self.size)
                return
            except GlanceError as exc:
                allowed = UPLOAD_ATTEMPTS_AFTER_SERVER_ERROR if exc.status == 500 else UPLOAD_ATTEMPTS
                if not exc.transient or attempt >= allowed:
                    raise
                status = self.settled_status(image_id)
                if status == 'active':
                    return  # the server kept the data; verification follows
                if status != 'queued':
                    raise

    def settled_status(self, image_id):
        """The image's status once the server has stopped saving data into it (bounded by ``timeout``)."""
        deadline = time.monotonic() + self.task.params['timeout']
        while True:
            raw = self.driver.get(image_id)
            status = raw.get('status') if raw else None
            if status != 'saving' or time.monotonic() > deadline:
                return status
            time.sleep(POLL_INTERVAL)

    def discard(self, image_id):
        """Remove an image this run made, after a failure: leave nothing half-made behind.

        A delete that meets the server still saving a cut upload can leave the
        image in status deleted for good: wait until it has settled first.
        """
        try:
            self.settled_status(image_id)
            self.driver.delete(image_id)
        except GlanceError as exc:
            self.task.context.warn('could not remove the incomplete image %s: %s' % (image_id, exc))

    # -- import -------------------------------------------------------------
    def import_url(self, raw):
        image_id = raw['id']
        if 'web-download' not in self.driver.import_methods():
            raise GlanceError('the image service does not enable the web-download import method')
        self.driver.import_from_url(image_id, self.url)
        if not self.task.params['wait']:
            if self.expected:
                self.task.context.warn('checksum is verified only when the task waits for the import (wait: true)')
            return self.driver.reread(image_id)
        deadline = time.monotonic() + self.task.params['timeout']
        while True:
            raw = self.driver.reread(image_id)
            if raw.get('status') == 'active':
                self.verify_imported(raw)
                return raw
            if raw.get('status') in ('killed', 'deleted') or (
                    raw.get('status') == 'queued' and raw.get('os_glance_failed_import')):
                raise GlanceError('import of %s into image %s failed (status %s)'
                                  % (strip_url_secrets(self.url), image_id, raw.get('status')))
            if time.monotonic() > deadline:
                raise GlanceError('image %s not active %s s after the import started (status %s)'
                                  % (image_id, self.task.params['timeout'], raw.get('status')))
            time.sleep(POLL_INTERVAL)

    def verify_imported(self, raw):
        """Compare imported data with ``checksum``: by the server's digest, else by reading the data back once."""
        if not self.expected:
            return
        algorithm, wanted = self.expected
        image = self.driver.normalize(raw)
        held = server_digests(image).get(algorithm)
        if held is None:
            held = self.downloaded_digest(raw['id'], algorithm)
        if held != wanted:
            raise GlanceError('the data imported from %s into %s does not match checksum %s:%s (its %s is %s)'
                              % (strip_url_secrets(self.url), describe(image), algorithm, wanted, algorithm, held))

    def downloaded_digest(self, image_id, algorithm):
        """The ``algorithm`` digest of the image's data, read back from the server (streamed)."""
        digest = new_hash(algorithm)
        for chunk in self.driver.download(image_id):
            digest.update(chunk)
        return digest.hexdigest()
