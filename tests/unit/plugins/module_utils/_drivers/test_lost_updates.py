# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import random
import time

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.lost_updates import (
    ABSENT, Desired, WriteLog, compare, keep, settle_pause,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError

WRITTEN = 1_800_000_000  # the Date of our last write's answer, server clock (whole seconds)


def iso(seconds):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(seconds))


def http_date(seconds):
    return time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime(seconds))


@pytest.mark.parametrize('took, low, high', [(0.01, 0.3, 0.45), (0.5, 1.5, 1.65), (10, 5.0, 5.15)])
def test_settle_pause_outlasts_a_concurrent_request(took, low, high):
    pauses = [settle_pause(took, random.Random(seed)) for seed in range(50)]
    assert low <= min(pauses) and max(pauses) <= high


def test_write_log_reads_the_server_clock_and_the_longest_request():
    ticks = iter([0.0, 0.2, 1.0, 1.05])
    log = WriteLog(clock=lambda: next(ticks))

    class Answer:
        def __init__(self, seconds):
            self.headers = {'Date': http_date(seconds)}
    log.timed(lambda: Answer(WRITTEN - 1))
    log.timed(lambda: Answer(WRITTEN))
    assert log.saved_at == WRITTEN and log.longest == pytest.approx(0.2)


def test_compare_tells_pre_write_values_from_other_writers():
    desired = Desired({'colour': 'red', 'stage': ABSENT, 'size_hint': 'big'}, {'ours': True, 'old': False})
    before = {'stage': 'beta', 'size_hint': 'big', 'tags': ['old']}
    document = {'colour': 'blue', 'stage': 'beta', 'tags': ['old', 'ours']}
    undone, conflicts = compare(desired, before, document)
    assert undone == {('key', 'stage'): ABSENT, ('tag', 'old'): False}
    assert conflicts == {('key', 'colour'): ('blue', 'red'), ('key', 'size_hint'): (ABSENT, 'big')}


def test_exact_tags_and_properties_count_every_tag_and_property():
    desired = Desired({'a': '1'}, {'alpha': True}, exact_tags=True,
                      property_keys=lambda document: [key for key in document if key not in ('tags', 'id')])
    before = {'id': 'x', 'old': 'o', 'tags': ['gone']}
    document = {'id': 'x', 'a': '1', 'old': 'o', 'theirs': 't', 'tags': ['alpha', 'bravo', 'gone']}
    undone, conflicts = compare(desired, before, document)
    assert undone == {('key', 'old'): ABSENT, ('tag', 'gone'): False}
    assert conflicts == {('key', 'theirs'): ('t', ABSENT), ('tag', 'bravo'): (True, False)}


class Image:
    """An image document the test changes between our reads; ``resent`` logs what the guard sends again."""

    def __init__(self, document, saved_at=WRITTEN, longest=0.05):
        self.document = dict(document)
        self.resent = []
        self.log = WriteLog()
        self.log.saved_at, self.log.longest = saved_at, longest
        self.reads = []

    def read(self):
        if self.reads:
            self.document.update(self.reads.pop(0))
        return dict(self.document)

    def resend(self, document, undone):
        self.resent.append(dict(undone))
        for (kind, name), wanted in undone.items():
            if kind == 'tag':
                tags = set(self.document['tags'])
                self.document['tags'] = sorted(tags | {name} if wanted else tags - {name})
            else:
                self.document[name] = wanted
        self.document['updated_at'] = iso(self.log.saved_at)


def guard(image, desired, before):
    return keep('image demo (img)', desired, before, image.read, image.resend, image.log, sleep=lambda _s: None)


def test_a_change_undone_by_an_overlapping_request_is_sent_again():
    # Saved in the same second as our write or the next: a request that read the image before it.
    image = Image({'tags': ['theirs'], 'updated_at': iso(WRITTEN + 1)})
    document = guard(image, Desired(tags={'ours': True}), {'tags': []})
    assert document['tags'] == ['ours', 'theirs'] and image.resent == [{('tag', 'ours'): True}]


def test_a_revert_saved_after_the_overlap_is_a_conflict_and_stays():
    # An operator removed the tag 2 s after the task added it: the pre-write value, but later.
    image = Image({'tags': [], 'updated_at': iso(WRITTEN + 2)})
    with pytest.raises(GlanceError) as info:
        guard(image, Desired(tags={'ours': True}), {'tags': []})
    assert str(info.value) == ("another writer changed image demo (img) after this task's write: tag 'ours' was "
                               "removed (this task wants it there); the task did not overwrite that: run it again "
                               "to apply it, or give tasks that write one image throttle: 1")
    assert image.resent == [] and image.document['tags'] == []


def test_a_slow_write_widens_the_overlap_window():
    image = Image({'tags': [], 'updated_at': iso(WRITTEN + 2)}, longest=1.5)
    guard(image, Desired(tags={'ours': True}), {'tags': []})
    assert image.resent == [{('tag', 'ours'): True}]


def test_an_undated_revert_is_never_overwritten():
    image = Image({'tags': [], 'updated_at': iso(WRITTEN)}, saved_at=None)
    with pytest.raises(GlanceError):
        guard(image, Desired(tags={'ours': True}), {'tags': []})
    assert image.resent == []


def test_another_value_is_a_conflict_never_overwritten():
    image = Image({'colour': 'blue', 'tags': [], 'updated_at': iso(WRITTEN)})
    with pytest.raises(GlanceError) as info:
        guard(image, Desired({'colour': 'red'}), {'tags': []})
    assert "colour is 'blue' (this task set 'red')" in str(info.value)
    assert 'while this task wrote it' in str(info.value) and '\n' not in str(info.value)
    assert image.resent == [] and image.document['colour'] == 'blue'


def test_a_purge_target_is_checked_exactly():
    # Purge [alpha] against purge [bravo]: the other task's tag is there, not in this task's target.
    image = Image({'tags': ['alpha', 'bravo'], 'updated_at': iso(WRITTEN)})
    with pytest.raises(GlanceError) as info:
        guard(image, Desired(tags={'alpha': True}, exact_tags=True), {'tags': []})
    assert "tag 'bravo' was added (this task wants it absent)" in str(info.value)
    assert image.resent == []


def test_a_removed_tag_coming_back_is_the_pre_write_state_and_removed_again():
    image = Image({'tags': ['alpha', 'old'], 'updated_at': iso(WRITTEN)})
    document = guard(image, Desired(tags={'alpha': True}, exact_tags=True), {'tags': ['old']})
    assert document['tags'] == ['alpha'] and image.resent == [{('tag', 'old'): False}]


def test_a_kept_tag_removed_by_another_writer_is_a_conflict():
    image = Image({'tags': ['ours'], 'updated_at': iso(WRITTEN)})
    with pytest.raises(GlanceError) as info:
        guard(image, Desired(tags={'ours': True, 'kept': True}), {'tags': ['kept']})
    assert "tag 'kept' was removed" in str(info.value)


def test_resends_are_bounded():
    image = Image({'tags': [], 'updated_at': iso(WRITTEN)})
    image.reads = [{'tags': []}] * 10  # every read: undone again by an overlapping request
    with pytest.raises(GlanceError) as info:
        guard(image, Desired(tags={'ours': True}), {'tags': []})
    assert len(image.resent) == lost_updates.RESENDS
    assert str(info.value).startswith("the change to tag 'ours' of image demo (img) was undone by requests "
                                      "overlapping this task's write %d times" % (lost_updates.RESENDS + 1))
