# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place where a module is built, run, and its errors turned into ``msg``."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudimage.glance.plugins.module_utils.client import GlanceClient
from ansible_collections.cloudimage.glance.plugins.module_utils.common import (
    HAS_OPENSTACKSDK, OPENSTACKSDK_IMPORT_ERROR, GlanceError, connection_argument_spec,
)


def run_module(argument_spec, run, **module_kwargs):
    """Build the AnsibleModule with the common options, call ``run(module, client)``, exit.

    ``run`` returns the result dictionary; a GlanceError anywhere becomes a
    one-line failure carrying the HTTP status and request id.
    """
    spec = connection_argument_spec()
    spec.update(argument_spec)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **module_kwargs)
    if not HAS_OPENSTACKSDK:
        module.fail_json(msg=missing_required_lib('openstacksdk'), exception=OPENSTACKSDK_IMPORT_ERROR)
    try:
        client = GlanceClient(module.params)
        result = run(module, client)
    except GlanceError as exc:
        module.fail_json(msg=str(exc), error=exc.as_result())
    module.exit_json(**result)
