# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The lost-update guard: a task's write stays, or the task fails naming who changed what.

Glance (v2) saves every property and every tag of an image from the copy it
read at the start of each request, a tag PUT as much as a PATCH. A request
that read the image before our write and saves after it (an *overlapping*
request) therefore puts back, without telling anyone, the values our write
replaced: the image shows the task's pre-write value again.

After writing, the guard waits longer than such a request takes, reads the
image again and compares the whole desired state of the task with it, one
attribute at a time (a key of the document, or one tag):

- the desired value: done;
- the value the task read before writing (pre-write): either an overlapping
  request undid our write, or someone changed it back deliberately later.
  Time tells them apart. The overlapping request saved less than ``window``
  (the longest of our write requests, the duration of a request like ours)
  after our last write; Glance stamps the image's ``updated_at`` with each
  save and every answer with a ``Date``, both in whole seconds of the
  server's clock. A save stamped at least ``1 s + window`` after the Date of
  our last write's answer (one second for the truncation of both stamps) came
  later than any overlapping request: a **conflict**. Otherwise the value is
  sent again, at most ``RESENDS`` times. A stamp that is missing or unreadable
  proves nothing: a conflict (the guard never overwrites what it cannot
  date). A later save of anything else on the image also dates the revert as
  later: the guard then fails rather than overwrite. Behind a load balancer
  the API nodes' clocks must agree (NTP); a skew counts against the window.
- any other value (another writer's), or the removal of a tag the task kept:
  a **conflict**.

With purge (exact tags, exact properties) every tag and custom property the
image shows is part of the desired state: one the task did not ask for is a
conflict, unless it is one the task removed coming back (pre-write).

A conflict fails the task in one line that names each attribute and the other
writer's value; the guard never overwrites it. Two tasks writing different
values therefore never both report success with different views: the one
whose value the image shows converges, the other fails. What the guard cannot
see: a value another writer saved after our read and before our write is
overwritten by our write, as with any read-modify-write (``throttle: 1``
serializes tasks that write one image).
"""

from __future__ import annotations

import calendar
import random
import time
from email.utils import mktime_tz, parsedate_tz

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError

# Writes sent again after an overlapping request undid them; the first write is not counted.
RESENDS = 2
SHORTEST_PAUSE = 0.3
LONGEST_PAUSE = 5.0
# How the server's stamps are spelled: updated_at (ISO 8601, UTC) in documents.
UPDATED_AT_FORMATS = ('%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%S+00:00',
                      '%Y-%m-%dT%H:%M:%S.%f+00:00', '%Y-%m-%dT%H:%M:%S')


class _Absent:
    """A key the document does not have (or a value that removes it)."""

    def __repr__(self):
        return 'absent'


ABSENT = _Absent()


class Desired:
    """The image a task wants, as a v2 document shows it.

    ``values``: key -> value, ``ABSENT`` for a key that must not be there;
    ``tags``: tag -> whether it must be there; ``exact_tags``: every other tag
    must be absent; ``property_keys``: with exact properties, a function giving
    the custom-property keys of a document, every one not in ``values`` must be absent.
    """

    def __init__(self, values=None, tags=None, exact_tags=False, property_keys=None):
        self.values = dict(values or {})
        self.tags = dict(tags or {})
        self.exact_tags = exact_tags
        self.property_keys = property_keys

    def attributes(self, *documents):
        """{attribute: wanted value}; an attribute is ('key', name) or ('tag', tag) (wanted: True/False)."""
        wanted = {('key', key): value for key, value in self.values.items()}
        wanted.update((('tag', tag), present) for tag, present in self.tags.items())
        for document in documents:
            if self.exact_tags:
                wanted.update((('tag', tag), False) for tag in document.get('tags') or [] if tag not in self.tags)
            if self.property_keys is not None:
                wanted.update((('key', key), ABSENT) for key in self.property_keys(document)
                              if key not in self.values)
        return wanted


class Write:
    """What one request round sends: ``values`` to set, keys ``removed``, tags added and removed."""

    def __init__(self, values=None, removed=(), tags_added=(), tags_removed=()):
        self.values = dict(values or {})
        self.removed = sorted(removed)
        self.tags_added = sorted(tags_added)
        self.tags_removed = sorted(tags_removed)

    @classmethod
    def of(cls, attributes):
        """The write that gives each attribute ({attribute: wanted}, see ``Desired``) its wanted value."""
        keys = {name: wanted for (kind, name), wanted in attributes.items() if kind == 'key'}
        tags = {name: wanted for (kind, name), wanted in attributes.items() if kind == 'tag'}
        return cls({key: value for key, value in keys.items() if value is not ABSENT},
                   [key for key, value in keys.items() if value is ABSENT],
                   [tag for tag, present in tags.items() if present], [tag for tag, present in tags.items() if not present])


def value_of(document, attribute):
    kind, name = attribute
    if kind == 'tag':
        return name in (document.get('tags') or [])
    return document.get(name, ABSENT)


def compare(desired, before, document):
    """({attribute: wanted} undone back to the pre-write value, {attribute: (their value, wanted)} conflicts)."""
    undone, conflicts = {}, {}
    for attribute, wanted in desired.attributes(before, document).items():
        now = value_of(document, attribute)
        if _same(now, wanted):
            continue
        if _same(now, value_of(before, attribute)):
            undone[attribute] = wanted
        else:
            conflicts[attribute] = (now, wanted)
    return undone, conflicts


def _same(one, other):
    if one is ABSENT or other is ABSENT:
        return one is other
    return one == other


class WriteLog:
    """What the guard knows of our writes: when the last was saved (server clock) and the longest duration."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.saved_at = None
        self.longest = 0.0

    def timed(self, send):
        """``send()`` (returns the HTTP response of one write), noting its duration and Date."""
        started = self.clock()
        response = send()
        self.longest = max(self.longest, self.clock() - started)
        self.saved_at = http_date(getattr(response, 'headers', {}).get('Date'))
        return response


def http_date(text):
    """Seconds since the epoch of an HTTP ``Date`` header, or None."""
    parsed = parsedate_tz(text) if text else None
    return mktime_tz(parsed) if parsed else None


def stamp(text):
    """Seconds since the epoch of an image's ``updated_at``, or None."""
    for layout in UPDATED_AT_FORMATS:
        try:
            return calendar.timegm(time.strptime(str(text), layout))
        except ValueError:
            continue
    return None


def saved_later(log, document):
    """Whether the image's last save came after every request that could overlap our last write."""
    updated = stamp(document.get('updated_at'))
    if updated is None or log.saved_at is None:
        return True
    return updated >= log.saved_at + 1 + log.longest


def settle_pause(write_seconds, rng=random):
    """How long to wait before checking: longer than a concurrent request like ours takes to save."""
    return min(LONGEST_PAUSE, max(SHORTEST_PAUSE, 3 * write_seconds)) + rng.uniform(0, SHORTEST_PAUSE / 2)


def keep(describe, desired, before, read, resend, log, sleep=time.sleep):
    """Make sure the task's write stays; return the image document that shows ``desired``.

    ``before`` is the document the task read before writing; ``read()``
    returns the image now; ``resend(document, undone)`` writes the undone
    attributes ({attribute: wanted}) again, noting its requests in ``log``.
    """
    for resent in range(RESENDS + 1):
        sleep(settle_pause(log.longest))
        document = read()
        undone, conflicts = compare(desired, before, document)
        if conflicts:
            raise conflict(describe, conflicts)
        if not undone:
            return document
        if saved_later(log, document):
            raise conflict(describe, {attribute: (value_of(document, attribute), wanted)
                                      for attribute, wanted in undone.items()}, later=True)
        if resent == RESENDS:
            break
        resend(document, undone)
    raise GlanceError('the change to %s of %s was undone by requests overlapping this task\'s write %d times in a '
                      'row; run the task again when fewer tasks write to this image at once, or give tasks that '
                      'write one image throttle: 1' % (', '.join(sorted(_name(a) for a in undone)), describe,
                                                       RESENDS + 1))


def conflict(describe, changes, later=False):
    """The one-line failure naming each attribute another writer changed and its value."""
    what = '; '.join(_conflict_text(attribute, now, wanted) for attribute, (now, wanted) in sorted(changes.items()))
    return GlanceError('another writer changed %s %s: %s; the task did not overwrite that: run it again to apply '
                       'it, or give tasks that write one image throttle: 1'
                       % (describe, "after this task's write" if later else 'while this task wrote it', what))


def _name(attribute):
    kind, name = attribute
    return 'tag %r' % name if kind == 'tag' else name


def _conflict_text(attribute, now, wanted):
    kind, name = attribute
    if kind == 'tag':
        return 'tag %r was %s (this task wants it %s)' % (name, 'added' if now else 'removed',
                                                          'there' if wanted else 'absent')
    if now is ABSENT:
        return '%s was removed (this task set %r)' % (name, wanted)
    if wanted is ABSENT:
        return '%s is %r (this task wants it absent)' % (name, now)
    return '%s is %r (this task set %r)' % (name, now, wanted)
