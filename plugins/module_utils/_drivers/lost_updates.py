# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Changes that stay when others write to the same image at the same moment.

Glance (v2) saves every property and every tag of an image from the copy it
read at the start of each request, a tag PUT as much as a PATCH. A request
that read the image before our write and saves after it therefore undoes our
change without telling anyone. After writing, we wait longer than such a
request takes, read the image again and send once more whatever was undone;
a few rounds at most.
"""

from __future__ import annotations

import random
import time

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError

ROUNDS = 6
SHORTEST_PAUSE = 0.3
LONGEST_PAUSE = 5.0


class WantedState:
    """What a task wrote into an image document: keys with values, keys removed, tags added and removed."""

    def __init__(self, values=None, removed=(), tags_added=(), tags_removed=()):
        self.values = dict(values or {})
        self.removed = set(removed)
        self.tags_added = set(tags_added)
        self.tags_removed = set(tags_removed)

    def __bool__(self):
        return bool(self.values or self.removed or self.tags_added or self.tags_removed)

    def undone(self, document):
        """The part of this state that ``document`` (a raw v2 image) does not show."""
        tags = set(document.get('tags') or [])
        return WantedState(
            values={key: value for key, value in self.values.items() if document.get(key) != value},
            removed=[key for key in self.removed if key in document],
            tags_added=self.tags_added - tags,
            tags_removed=self.tags_removed & tags,
        )


def settle_pause(write_seconds, rng=random):
    """How long to wait before checking: longer than a concurrent request like ours takes to save."""
    return min(LONGEST_PAUSE, max(SHORTEST_PAUSE, 3 * write_seconds)) + rng.uniform(0, SHORTEST_PAUSE / 2)


def keep(describe, wanted, read, rewrite, write_seconds, sleep=time.sleep, clock=time.monotonic):
    """Make sure ``wanted`` stays written; return the image document that shows it.

    ``read()`` returns the raw image; ``rewrite(document, undone)`` sends the
    undone part again. ``write_seconds`` is how long the first write took.
    """
    for _round in range(ROUNDS):
        sleep(settle_pause(write_seconds))
        document = read()
        undone = wanted.undone(document)
        if not undone:
            return document
        started = clock()
        rewrite(document, undone)
        write_seconds = max(write_seconds, clock() - started)
    raise GlanceError('the changes to %s were undone by other writers %d times in a row; nothing is wrong with the '
                      'task, run it again when fewer tasks write to this image at once' % (describe, ROUNDS))
