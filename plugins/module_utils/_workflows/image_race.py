# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Writers of one image name at the same moment end with one image, whoever wins.

Glance keeps no name unique: tasks that each find no image ``ubuntu`` and
each create one would leave several. So a task that creates an image by name
(or a replacement of an image's data) pauses after its create, lists the name
again and agrees with the others on a winner: the oldest by (created_at, ID).
A task whose image lost deletes that image, which holds no data yet and is
the only thing it deletes, and adopts the winner: it waits while another
writer fills the winner's data, checks they are the data it wants, and goes
on as an update of it.

Why every racer picks the same winner: Glance stamps created_at (shown in
whole seconds) before it commits the create, and it commits before it
answers. Let W be the oldest image of the race and T any racer, with its own
image no older than W. Then W's created_at second is at most T's, so W was
stamped before T's stamp plus one second, and committed at most one create's
duration D after that. T lists at least the pause after its own stamp. A
pause of one second plus D therefore shows W to every racer, also one that
listed alone before W was committed in the same second. Nobody deletes W:
its creator sees nothing older. D is measured on the task's own create and
taken three times over, as a concurrent create may be slower than ours.
A task that finds the name with images still queued (a race under way)
pauses the same way before it chooses (see ``lookup.find_image``).
"""

from __future__ import annotations

import time

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.secrets import strip_url_secrets
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.checksums import (
    preferred_algorithm, server_digests,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import (
    FILLING_STATUSES, describe, oldest, replaced_id, replacements_of, settle_replacements,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.local_file import HashingReader

# Glance's answers show created_at in whole seconds.
TIMESTAMP_GRANULARITY = 1.0
SHORTEST_CREATE = 0.3
LONGEST_CREATE = 5.0
POLL_INTERVAL = 0.5
# How Glance refuses data for an image another writer began filling: 409 when it
# was no longer queued, 410 when it left queued while the request was read.
COLLISION = (409, 410)
# How long a replacement in progress may show no change at all before it counts as
# left behind by an interrupted run: longer than the longest settle pause, after which
# a working replacer moves on within seconds.
QUIET_SECONDS = 15.0
# The requests that fill an image with data (Glance's policy names).
FILL_ACTIONS = ('upload_image', 'import_image')


def settle_pause(create_seconds):
    """How long to wait after a create before choosing the winner (see the module's docstring)."""
    return TIMESTAMP_GRANULARITY + min(LONGEST_CREATE, max(SHORTEST_CREATE, 3 * create_seconds))


def with_own(images, own):
    """``images`` as listed, with ``own`` (as its create answered) if the listing left it out."""
    return images if any(image['id'] == own['id'] for image in images) else images + [own]


class Race:
    """How one image task (``task``: an ``ImageTask``) meets other writers of its name."""

    def __init__(self, task):
        self.task = task
        self.driver = task.driver
        self.create_seconds = SHORTEST_CREATE

    def pause(self):
        time.sleep(settle_pause(self.create_seconds))

    def create(self, create):
        """``create()``, timed: its duration sets the settle pause."""
        started = time.monotonic()
        raw = create()
        self.create_seconds = time.monotonic() - started
        return raw

    def listed(self, name):
        scope = self.task.scope
        return self.driver.find_by_name(name, owner=scope.owner, include_shared_pending=scope.include_shared_pending)

    def winner_of_create(self, own):
        """After the pause, the image of ``own``'s name that every creator agrees on (maybe ``own``)."""
        self.pause()
        images, _in_progress = settle_replacements(self.listed(own['name']))
        return oldest(with_own(images, own))

    def winner_of_replacement(self, old_id, own):
        """After the pause, the replacement of ``old_id`` that every replacer agrees on (maybe ``own``)."""
        self.pause()
        listed = self.listed(own['name'])
        if self.driver.get(old_id) is None:
            # A faster replacer has finished already: its image is no longer marked.
            images, _in_progress = settle_replacements(
                [image for image in listed if image['id'] != own['id'] and replaced_id(image) != old_id])
            return oldest(images) or own
        return oldest(with_own(replacements_of(listed, old_id), own))

    # -- adopting another writer's image --------------------------------------
    def await_data(self, raw):
        """``raw`` read again until no other writer is filling it (bounded by ``timeout``).

        A queued image gets one settle pause for its creator to begin; then
        the task may fill it itself (Glance takes data for an image once).
        """
        if not self.task.data.given or self.task.check_mode:
            return raw
        started = time.monotonic()
        grace = settle_pause(self.create_seconds)
        while raw['status'] in FILLING_STATUSES or (raw['status'] == 'queued' and time.monotonic() - started < grace):
            if time.monotonic() - started > self.task.params['timeout']:
                raise GlanceError('%s is still %s after %s s: another writer is filling it with data'
                                  % (describe(raw), raw['status'], self.task.params['timeout']))
            time.sleep(POLL_INTERVAL)
            image_id = raw['id']
            raw = self.driver.get(image_id)
            if raw is None:
                raise GlanceError('image %s was deleted by another writer while this task waited for its data'
                                  % image_id)
        return raw

    def filled_by_another(self, exc, image_id):
        """Whether ``exc``, raised while filling ``image_id``, means another writer began filling it first."""
        if exc.status not in COLLISION or exc.action not in FILL_ACTIONS:
            return False
        raw = self.driver.get(image_id)
        return raw is not None and raw['status'] != 'queued'

    def check_same_data(self, image, how):
        """Fail when ``image`` (normalized), which another writer ``how`` at the same time, holds other data."""
        data = self.task.data
        if image['status'] not in ('active', 'deactivated') or not data.given:
            return
        held = server_digests(image)
        if data.expected and data.expected[0] in held:
            algorithm, wanted = data.expected
        elif data.filename:
            algorithm = preferred_algorithm(image, self.driver.strongest_digest)
            if algorithm not in held:
                return  # nothing to compare with: the data plan says so
            wanted = HashingReader(data.filename, {algorithm}).consume()[algorithm]
        else:
            return  # data imported from a URL are compared by checksum only
        if held[algorithm] != wanted:
            source = data.filename or strip_url_secrets(data.url)
            raise GlanceError('%s, which another writer %s at the same moment, holds other data than %s (%s %s); '
                              'two tasks want different data under one name'
                              % (describe(image), how, source, algorithm, held[algorithm]))
