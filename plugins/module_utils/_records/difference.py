# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Records what a task changes, for ``changed`` and for ``--diff``."""

from __future__ import annotations

import copy


class DifferenceTracker:
    """Before/after of the managed state, plus the list of changes made (or that would be).

    ``changed`` is true exactly when something was recorded, so modules cannot
    report a change they did not make, or miss one they made.
    """

    def __init__(self, before=None):
        self.before = copy.deepcopy(before) if before is not None else {}
        self.after = copy.deepcopy(self.before)
        self.changes = []

    def record(self, description, **after):
        """Note one change; ``after`` updates the after-state."""
        self.changes.append(description)
        self.after.update(copy.deepcopy(after))

    def set_after(self, after):
        self.after = copy.deepcopy(after)

    @property
    def changed(self):
        return bool(self.changes)

    def diff(self):
        return {'before': self.before, 'after': self.after}

    def result(self, **values):
        """A workflow's result: ``changed`` and ``diff`` from what was recorded, plus ``values``."""
        return dict(values, changed=self.changed, diff=self.diff())
