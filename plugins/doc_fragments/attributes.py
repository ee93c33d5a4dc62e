# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # What each attribute means; every module states its own support level.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return the changed status it would have, without changing anything.
  diff_mode:
    description: Returns the state before and after (or as it would be, in C(check_mode)), in diff mode.
  action_group:
    description: Use C(group/cloudimage.glance.glance) in C(module_defaults) to set common options of this module.
'''
