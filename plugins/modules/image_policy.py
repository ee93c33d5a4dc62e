#!/usr/bin/python
# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: image_policy
short_description: Edit the rules of a Glance policy file
version_added: 0.1.0
description:
  - Adds, changes or removes rules of one Glance policy file (C(policy.yaml) or C(policy.json)),
    keeping the rules it is not told about and their order.
  - Before anything is written, rule names are checked against the rules Glance knows (current
    release and the legacy Pike release) and check strings against the oslo.policy grammar. On
    any problem the task fails with a one-line message and the file is left byte for byte as it was.
  - The file is written to a temporary file in the same folder and renamed over the old one, so
    a running Glance (which re-reads the file when it changes) never reads half a file.
  - The file itself is never removed. With O(exclusive=true) and no O(rules), it holds an empty mapping.
  - This module works on a file of the host it runs on; it does not talk to any cloud API.
notes:
  - A running Glance keeps enforcing a rule removed from its file until it restarts; the module
    returns RV(restart_required=true) whenever a rule was removed. To undo a rule without a
    restart, write its default check string instead of removing it.
  - Comments and layout of an existing file are not kept when the module rewrites it; a file whose
    rules already match is not rewritten.
  - On Glance 15 (Pike) every rule missing from the file falls back to C(default), which is
    C(role:admin) there.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
  - cloudimage.glance.group_options
attributes:
  check_mode:
    support: full
    details: Reports what would change and writes nothing.
  diff_mode:
    support: full
    details: Shows the rules before and after, one line per rule, and changed file attributes.
  platform:
    support: full
    platforms: posix
  action_group:
    description: Use C(group/cloudimage.glance.glance) in C(module_defaults) to set common options.
    support: full
    membership:
      - cloudimage.glance.glance
options:
  path:
    description:
      - The policy file, for example C(/etc/glance/policy.yaml).
      - Its folder must exist. The file is created when missing and O(state=present), with
        its final O(mode) from the start.
      - A symbolic link is followed; the file it points to is changed, the link stays. A link
        whose target does not exist is refused, with nothing written (the module never creates a
        file wherever a link points).
    type: path
    required: true
    aliases: [dest]
  rules:
    description:
      - Rule names mapped to oslo.policy check strings, for example
        C(publicize_image) mapped to C(rule:context_is_admin).
      - V("") (or C(@)) lets every authenticated user through; C(!) lets no one through.
      - With O(state=absent) only the names matter, and a list of names is accepted too.
      - Check strings must be strings, even with O(validate=false), because a null rule would
        let everyone through.
      - C(http:) and C(https:) checks are refused, even with O(validate=false), unless O(force=true),
        because Glance posts the credentials of every caller (with their token) to that URL each
        time it checks the rule.
    type: raw
    default: {}
  state:
    description:
      - V(present) sets the listed rules to the given check strings (added at the end when new).
      - V(absent) removes the listed rules from the file.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), also remove every rule of the file that O(rules) does not list.
    type: bool
    default: false
  format:
    description:
      - How to write the file. By default from the file name (C(.json) is JSON, C(.yaml) and C(.yml)
        are YAML), else from the existing content, else YAML.
      - JSON is written indented by four spaces; YAML as one line per rule, name and check string
        both double-quoted, as C(oslopolicy-sample-generator) writes them. Both keep the file's rule
        order, so the output is stable.
    type: str
    choices: [json, yaml]
  validate:
    description:
      - Check rule names and check strings before writing.
      - A check string must parse as oslo.policy parses it (C(role:), C(rule:), generic
        C(key:%(attribute)s) and C('literal':%(attribute)s) checks, C(@), C(!), C(and), C(or), C(not),
        parentheses); C(rule:NAME) must name a rule of the resulting file or a rule Glance
        defines in its code; rule references must not loop.
      - Parentheses and C(not) may nest at most 32 levels deep in a check string, and
        C(rule:NAME) references at most 32 rules deep (oslo.policy follows both recursively).
      - A rule name must be one Glance knows, or a helper rule that another rule references
        through C(rule:NAME), unless O(allow_unknown_rules=true).
      - A rule still referenced by another rule cannot be removed unless Glance has a default for it.
    type: bool
    default: true
  allow_unknown_rules:
    description:
      - Accept rule names Glance does not know (for example rules of a newer Glance release).
    type: bool
    default: false
  allow_open_rules:
    description:
      - Do not warn when a rule written by this task lets every authenticated user through.
      - Such a rule is V(""), C(@), a rule it references that is, or a literal check that is always
        true, like C('a':a), C(True:True) or C(1:1) (oslo.policy compares the literal with the value),
        also inside C(or), C(and) and C(not) wherever they make the whole rule always true.
    type: bool
    default: false
  force:
    description:
      - Replace the content of a file that is not valid JSON or YAML (or not a mapping of strings,
        or nested deeper than 32 levels) instead of failing. Its old rules are lost (use O(backup)),
        and RV(restart_required) is true.
      - Also write C(http:) and C(https:) checks (see O(rules)), with a warning.
      - Invalid check strings and a dangling symbolic link are refused even with O(force=true).
    type: bool
    default: false
  backup:
    description:
      - Keep a timestamped copy of the file before changing it, next to it under a dot name
        (C(.policy.yaml.<pid>.<date>~)), which oslo.policy never reads from a C(policy_dirs) folder.
      - The copy is created readable by its owner only, then given the mode and times of the
        file; it is never readable by more users than the file.
    type: bool
    default: false
seealso:
  - name: Glance policies
    description: The policy rules of the Image service and their defaults.
    link: https://docs.openstack.org/glance/latest/configuration/glance_policy.html
  - name: oslo.policy check strings
    description: The grammar of a policy rule.
    link: https://docs.openstack.org/oslo.policy/latest/admin/policy-yaml-file.html
author:
  - cloudimage.glance maintainers (@cloudimage)
'''

EXAMPLES = r'''
- name: Only admins may share images with other projects
  cloudimage.glance.image_policy:
    path: /etc/glance/policy.yaml
    rules:
      add_member: "rule:context_is_admin"
      delete_member: "rule:context_is_admin"
    owner: root
    group: glance
    mode: "0640"
    backup: true

- name: Undo it live (Glance re-reads the file; removing the rules would need a restart)
  cloudimage.glance.image_policy:
    path: /etc/glance/policy.yaml
    rules:
      add_member: "rule:context_is_admin or (role:member and project_id:%(project_id)s)"
      delete_member: "rule:context_is_admin or (role:member and project_id:%(project_id)s)"

- name: Remove rules, and restart Glance only when it is needed
  cloudimage.glance.image_policy:
    path: /etc/glance/policy.yaml
    rules: [add_member, delete_member]
    state: absent
  register: policy
  notify: Restart glance-api

- name: The whole file is exactly these rules (JSON, for a legacy server)
  cloudimage.glance.image_policy:
    path: /etc/glance/policy.json
    exclusive: true
    rules:
      context_is_admin: "role:admin"
      default: "role:admin"
      publicize_image: "role:admin"
      add_image: ""
      get_image: ""
      get_images: ""
    allow_open_rules: true
'''

RETURN = r'''
path:
  description: The policy file.
  returned: always
  type: str
  sample: /etc/glance/policy.yaml
format:
  description: The format the file is read and written in.
  returned: always
  type: str
  sample: yaml
rules:
  description: Every rule of the file after the task (as it would be, in check mode), in file order.
  returned: always
  type: dict
  sample: {"context_is_admin": "role:admin", "publicize_image": "rule:context_is_admin"}
changed_rules:
  description: Names of the rules added, changed or removed, in file order, removed ones last.
  returned: always
  type: list
  elements: str
  sample: [publicize_image]
removed_rules:
  description: Names of the rules removed from the file.
  returned: always
  type: list
  elements: str
  sample: []
restart_required:
  description:
    - True when a running Glance must restart to see the change, because a rule was removed
      (Glance keeps enforcing a removed rule until it restarts), or an unreadable file was replaced.
    - Other changes are picked up by Glance without a restart when it re-reads the file.
  returned: always
  type: bool
  sample: false
backup_file:
  description: The copy made before the change.
  returned: when O(backup=true) and the file was changed
  type: str
  sample: /etc/glance/.policy.yaml.12345.2026-11-22@14:30:00~
problems:
  description: Every validation problem found, when validation failed (the first one is in C(msg)).
  returned: on validation failure
  type: list
  elements: str
  sample: ["unknown rule name 'publicise_image' (did you mean 'publicize_image'?); set allow_unknown_rules=true to write it anyway"]
'''

from ansible_collections.cloudimage.glance.plugins.module_utils._runner import run_module
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_policy import ImagePolicyWorkflow

# The connection options of the action group are accepted too (and ignored): see run_module.
ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True, aliases=['dest']),
    rules=dict(type='raw', default={}),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    exclusive=dict(type='bool', default=False),
    format=dict(type='str', choices=['json', 'yaml']),
    validate=dict(type='bool', default=True),
    allow_unknown_rules=dict(type='bool', default=False),
    allow_open_rules=dict(type='bool', default=False),
    force=dict(type='bool', default=False),
    backup=dict(type='bool', default=False),
)


def main():
    run_module(ARGUMENT_SPEC, ImagePolicyWorkflow(), add_file_common_args=True)


if __name__ == '__main__':
    main()
