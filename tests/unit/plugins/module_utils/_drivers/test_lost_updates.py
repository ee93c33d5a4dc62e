# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import random

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.lost_updates import (
    WantedState, keep, settle_pause,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError


def test_undone_lists_only_what_the_document_lost():
    wanted = WantedState({'os_distro': 'debian', 'os_hidden': True}, ['stage'], ['a', 'b'], ['old'])
    document = {'os_distro': 'debian', 'os_hidden': False, 'stage': 'beta', 'tags': ['a', 'old', 'other']}
    undone = wanted.undone(document)
    assert undone.values == {'os_hidden': True}
    assert undone.removed == {'stage'}
    assert undone.tags_added == {'b'} and undone.tags_removed == {'old'}
    assert not wanted.undone({'os_distro': 'debian', 'os_hidden': True, 'tags': ['a', 'b', 'other']})


@pytest.mark.parametrize('took, low, high', [(0.01, 0.3, 0.45), (0.5, 1.5, 1.65), (10, 5.0, 5.15)])
def test_settle_pause_outlasts_a_concurrent_request(took, low, high):
    pauses = [settle_pause(took, random.Random(seed)) for seed in range(50)]
    assert low <= min(pauses) and max(pauses) <= high


class Image:
    """A document that concurrent writers keep overwriting with stale copies ``undo_rounds`` times."""

    def __init__(self, undo_rounds):
        self.document = {'tags': ['theirs']}
        self.undo_rounds = undo_rounds
        self.rewrites = 0

    def read(self):
        if self.undo_rounds:
            self.undo_rounds -= 1
            self.document = {'tags': ['theirs']}  # a save from a copy read before our write
        return dict(self.document)

    def rewrite(self, document, undone):
        self.rewrites += 1
        self.document['tags'] = sorted(set(self.document['tags']) | undone.tags_added)


@pytest.mark.parametrize('undo_rounds', [0, 1, 3])
def test_keep_sends_undone_changes_again_until_they_stay(undo_rounds):
    image = Image(undo_rounds)
    image.rewrite(image.document, WantedState(tags_added=['ours']))
    pauses = []
    document = keep('image x', WantedState(tags_added=['ours']), image.read, image.rewrite, 0.01, sleep=pauses.append)
    assert document['tags'] == ['ours', 'theirs']
    assert image.rewrites == 1 + undo_rounds and len(pauses) == 1 + undo_rounds


def test_keep_gives_up_with_one_line():
    image = Image(undo_rounds=100)
    with pytest.raises(GlanceError) as info:
        keep('image x', WantedState(tags_added=['ours']), image.read, image.rewrite, 0.01, sleep=lambda _s: None)
    assert 'undone by other writers %d times' % lost_updates.ROUNDS in str(info.value)
    assert '\n' not in str(info.value)
