# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pauses and waits for concurrent writers run on a clock of the tests' own, taking no real time."""

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._workflows import image_race, image_replace


class FakeTime:
    """``time`` as the waiting code uses it; ``sleep`` moves the clock on and runs ``during_sleep`` hooks,
    which stand for what other writers do meanwhile."""

    def __init__(self):
        self.now = 1000.0
        self.slept = []
        self.during_sleep = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds
        for hook in list(self.during_sleep):
            hook()


@pytest.fixture(autouse=True)
def race_clock(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(image_race, 'time', clock)
    monkeypatch.setattr(image_replace, 'time', clock)
    return clock
