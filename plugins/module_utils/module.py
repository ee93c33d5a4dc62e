# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place where a module is built, run, and its errors turned into ``msg``."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudimage.glance.plugins.module_utils.client import GlanceClient
from ansible_collections.cloudimage.glance.plugins.module_utils.common import (
    HAS_OPENSTACKSDK, OPENSTACKSDK_IMPORT_ERROR, GlanceError, connection_argument_spec, task_secrets,
)


class GlanceModule(AnsibleModule):
    """An AnsibleModule that never shows the secrets inside credential options or URLs.

    ``cloud`` and ``member_cloud`` may be a clouds.yaml entry name, which must
    stay readable, or a dictionary holding a password; a ``url`` may carry a
    password or a token. Marking the options no_log would hide the names too,
    so the secret values alone join the values Ansible masks in every result,
    failure, warning, diff and log line.
    """

    def _load_params(self):
        # The earliest point where the options are known: before validation,
        # whose own failures (an unknown option, a wrong type) also show them.
        super()._load_params()
        self.no_log_values.update(task_secrets(self.params))


def build_module(argument_spec, **module_kwargs):
    module = GlanceModule(argument_spec=argument_spec, supports_check_mode=True, **module_kwargs)
    # Again after validation, which may have converted the options.
    module.no_log_values.update(task_secrets(module.params))
    return module


def run_module(argument_spec, run, check=None, **module_kwargs):
    """Build the AnsibleModule with the common options, call ``run(module, client)``, exit.

    ``check(params)``, when given, refuses bad combinations of options before
    anything is sent, authentication included. ``run`` returns the result
    dictionary; a GlanceError anywhere becomes a one-line failure carrying the
    HTTP status and request id.
    """
    spec = connection_argument_spec()
    spec.update(argument_spec)
    module = build_module(spec, **module_kwargs)
    if not HAS_OPENSTACKSDK:
        module.fail_json(msg=missing_required_lib('openstacksdk'), exception=OPENSTACKSDK_IMPORT_ERROR)
    try:
        if check is not None:
            check(module.params)
        client = GlanceClient(module.params)
        result = run(module, client)
    except GlanceError as exc:
        module.fail_json(msg=str(exc), error=exc.as_result())
    module.exit_json(**result)
