#!/usr/bin/python
# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: image_tag
short_description: Add, remove or set the tags of a Glance image
version_added: 0.1.0
description:
  - Manages the tags of one image through the Image API v2 per-tag calls; only the tags
    that differ are sent.
  - Tags do not exist in the Image API v1; on a v1 endpoint the task fails.
extends_documentation_fragment:
  - cloudimage.glance.connection
  - cloudimage.glance.attributes
attributes:
  check_mode:
    support: full
    details: Only reads are sent.
  diff_mode:
    support: full
    details: Shows the tag list before and after.
  action_group:
    support: full
    membership:
      - cloudimage.glance.glance
options:
  image:
    description:
      - Name or ID of the image. A name is looked up among the images of the current
        project only. Another project's image is never changed by name (not even by an
        admin, who sees every image); give its ID. A name that only another project's
        image has fails, naming that image.
    type: str
    required: true
  tags:
    description:
      - Tags to add (O(state=present)) or remove (O(state=absent)).
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) makes sure the image carries O(tags); V(absent) makes sure it does not.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also remove every tag not in O(tags), so that the image ends
        with exactly O(tags). An empty O(tags) then removes every tag.
    type: bool
    default: false
notes:
  - Tags are written one call at a time, because Glance saves the whole tag list of an image
    on each call and parallel calls could undo each other.
author:
  - cloudimage.glance maintainers (@cloudimage)
'''

EXAMPLES = r'''
- name: Tag an image
  cloudimage.glance.image_tag:
    cloud: producer
    image: ubuntu-24.04
    tags: [golden, linux]

- name: Set exactly these tags
  cloudimage.glance.image_tag:
    cloud: producer
    image: ubuntu-24.04
    tags: [golden]
    purge: true

- name: Remove every tag
  cloudimage.glance.image_tag:
    cloud: producer
    image: ubuntu-24.04
    tags: []
    purge: true

- name: Remove one tag
  cloudimage.glance.image_tag:
    cloud: producer
    image: ubuntu-24.04
    tags: [candidate]
    state: absent
'''

RETURN = r'''
tags:
  description: Tags of the image after the task (as predicted in check mode), sorted.
  returned: always
  type: list
  elements: str
  sample: [golden, linux]
added:
  description: Tags added (or that would be, in check mode), sorted.
  returned: always
  type: list
  elements: str
  sample: [linux]
removed:
  description: Tags removed (or that would be, in check mode), sorted.
  returned: always
  type: list
  elements: str
  sample: [candidate]
image_id:
  description: ID of the image.
  returned: always
  type: str
  sample: 2d7c5b8e-9a41-4a3e-8f0e-1c7f0d1e2a3b
api_version:
  description: Image API version that was used.
  returned: always
  type: str
  sample: '2'
'''

from ansible_collections.cloudimage.glance.plugins.module_utils._runner import run_module
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_tag import ImageTagWorkflow


ARGUMENT_SPEC = dict(
    image=dict(type='str', required=True),
    tags=dict(type='list', elements='str', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    purge=dict(type='bool', default=False),
)


def main():
    run_module(ARGUMENT_SPEC, ImageTagWorkflow())


if __name__ == '__main__':
    main()
