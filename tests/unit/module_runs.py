# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running a module's ``main()`` as Ansible does, with the image service reached through a given session."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.parameters import PASS_VARS
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cloudimage.glance.plugins.module_utils import _runner


def run_module(monkeypatch, capsys, module, session=None, check_mode=False, diff=False, **args):
    """The module's result; ``_rc`` is its exit code and ``_connections`` how many sessions it opened.

    With ``session`` every connection the module makes is that session (a real
    ``GlanceSession`` over a stand-in, see ``doubles.session_for``).
    """
    connections = []
    if session is not None:
        real = _runner.run_workflow

        def run_workflow(workflow, context, session_factory=None):
            return real(workflow, context, session_factory=lambda params: connections.append(params) or session)
        monkeypatch.setattr(_runner, 'run_workflow', run_workflow)
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    if 'inject_invocation' in PASS_VARS:
        # ansible-core 2.21 and later send the invocation only when the controller asks for it.
        args['_ansible_inject_invocation'] = True
    # Warnings are collected process-wide; each run here stands for a separate module process.
    module_warnings._global_warnings.clear()
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    output = capsys.readouterr().out
    result = json.loads(output)
    result['_rc'] = exc.value.code
    result['_connections'] = len(connections)
    result['_output'] = output
    # ansible-core 2.19 and later send warnings as structured events.
    result['warnings'] = [warning['event']['msg'] if isinstance(warning, dict) else warning
                          for warning in result.get('warnings', [])]
    return result
