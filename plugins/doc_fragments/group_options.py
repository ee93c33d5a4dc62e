# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # For modules of the action group that do not talk to a cloud: they accept the
    # connection options, so that module_defaults set for the whole group apply to
    # them as well, and ignore them.
    DOCUMENTATION = r'''
options:
  cloud:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: raw
  auth:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: dict
  auth_type:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: str
  region_name:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: str
  interface:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: str
    choices: [public, internal, admin]
    aliases: [endpoint_type]
  validate_certs:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: bool
    aliases: [verify]
  ca_cert:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: path
    aliases: [cacert]
  client_cert:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: path
    aliases: [cert]
  client_key:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: path
    aliases: [key]
  api_timeout:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: int
  wait:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: bool
    default: true
  timeout:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: int
    default: 180
  api_version:
    description: Ignored; accepted so that C(module_defaults) of the group apply.
    type: str
    choices: ['auto', '1', '2']
    default: auto
'''
