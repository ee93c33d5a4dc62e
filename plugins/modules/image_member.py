#!/usr/bin/python
# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: image_member
short_description: Share a Glance image with a project, and accept or reject it as that project
version_added: 0.1.0
description:
  - Owner side, on the Image API v2 and v1; adds or removes one member project of an image.
    On v1 it also sets whether the member may share the image onward (O(can_share)).
  - Member side, on v2 only; sets the member's O(status) (accepted, rejected or pending). Only
    the member itself (or an admin) may do so, so the status is set with the member's
    credentials. Either the task runs as the member, or O(member_cloud) gives them, so that
    one task shares the image and accepts it.
  - On v2 only images with visibility C(shared) have members. For any other visibility the
    task fails and says so; it never changes the visibility.
extends_documentation_fragment:
  - cloudimage.glance.connection
  - cloudimage.glance.attributes
attributes:
  check_mode:
    support: full
    details: Only reads are sent (and O(member_cloud) is authenticated).
  diff_mode:
    support: full
    details: Shows the member list (status on v2, can_share on v1) before and after.
  action_group:
    support: full
    membership:
      - cloudimage.glance.glance
options:
  image:
    description:
      - Name or ID of the image. A name is looked up among the images of the current
        project first, then, for a member's own actions (its O(status), or sharing onward
        on v1), among the images other projects share with it (also those not accepted
        yet). Any other project's image is never changed by name (not even by an admin,
        who sees every image); give its ID.
    type: str
    required: true
  member:
    description:
      - The member project, by name or ID.
      - Names of other projects can be resolved only with the right to list projects in
        Keystone (usually admins); others give the ID, or O(member_cloud).
      - Defaults to the project of O(member_cloud), or else (with O(status)) to the project
        the task runs as.
    type: str
    aliases: [project]
  state:
    description:
      - V(present) makes sure the project is a member; V(absent) that it is not.
    type: str
    choices: [present, absent]
    default: present
  can_share:
    description:
      - Image API v1 only; whether the member may share the image with further projects.
      - Left out, an existing member keeps its value and a new member gets V(false).
      - Refused on v2, which has no such notion.
    type: bool
  status:
    description:
      - Image API v2 only; the member's answer, set with the member's credentials (see
        O(member_cloud)) or an admin's. Without such credentials the task fails before
        changing anything.
      - Left out, the status is left alone (a new member is V(pending)).
    type: str
    choices: [accepted, rejected, pending]
  member_cloud:
    description:
      - Credentials of the member project, a clouds.yaml entry name or a dictionary like
        O(cloud), used to set O(status) in the same task that shares the image.
      - The other connection options of the task apply to it too.
    type: raw
notes:
  - A member added by someone else between the read and the write, or one already removed,
    is not a failure; the result shows the member list as it ends up.
  - On v1, a member may see only its own membership, so a member sharing onward with
    O(can_share) cannot read which projects it already shared with. Give O(member_cloud) (the
    new member's credentials) so that the task can check; without it the member is (re)sent
    every run and the task reports a change.
author:
  - cloudimage.glance maintainers (@cloudimage)
'''

EXAMPLES = r'''
- name: Share an image with a project and accept it as that project, in one task
  cloudimage.glance.image_member:
    cloud: producer
    image: ubuntu-24.04
    member_cloud: consumer1
    status: accepted

- name: Share with a project given by ID (it accepts later)
  cloudimage.glance.image_member:
    cloud: producer
    image: ubuntu-24.04
    member: 8f3c0c2a6b1e4d6f9a0b1c2d3e4f5a6b

- name: As the consumer, reject an image shared with it
  cloudimage.glance.image_member:
    cloud: consumer2
    image: 2d7c5b8e-9a41-4a3e-8f0e-1c7f0d1e2a3b
    status: rejected

- name: Stop sharing
  cloudimage.glance.image_member:
    cloud: producer
    image: ubuntu-24.04
    member: 8f3c0c2a6b1e4d6f9a0b1c2d3e4f5a6b
    state: absent

- name: Legacy cloud (v1), the member may share onward
  cloudimage.glance.image_member:
    cloud: legacy-producer
    image: centos-7
    member: 8f3c0c2a6b1e4d6f9a0b1c2d3e4f5a6b
    can_share: true
'''

RETURN = r'''
member:
  description:
    - The membership after the task (as predicted in check mode); null when the project is
      not a member.
  returned: always
  type: dict
  contains:
    member_id:
      description: Project ID of the member.
      type: str
    status:
      description: pending, accepted or rejected (v2; null on v1).
      type: str
    can_share:
      description: Whether the member may share onward (v1; null on v2).
      type: bool
    created_at:
      description: When the membership was created.
      type: str
    updated_at:
      description: When it last changed.
      type: str
  sample:
    member_id: 8f3c0c2a6b1e4d6f9a0b1c2d3e4f5a6b
    status: accepted
    can_share: null
    created_at: '2026-11-22T10:00:00Z'
    updated_at: '2026-11-22T10:00:01Z'
members:
  description:
    - Every member of the image the credentials may see after the task, sorted by project ID,
      in the shape of RV(member). A member sees only itself.
  returned: always
  type: list
  elements: dict
api_version:
  description: Image API version that was used.
  returned: always
  type: str
  sample: '2'
'''

from ansible_collections.cloudimage.glance.plugins.module_utils._runner import run_module
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_member import ImageMemberWorkflow


ARGUMENT_SPEC = dict(
    image=dict(type='str', required=True),
    member=dict(type='str', aliases=['project']),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    can_share=dict(type='bool'),
    status=dict(type='str', choices=['accepted', 'rejected', 'pending']),
    member_cloud=dict(type='raw'),
)


def main():
    run_module(ARGUMENT_SPEC, ImageMemberWorkflow())


if __name__ == '__main__':
    main()
