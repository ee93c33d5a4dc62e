#!/usr/bin/python
# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: image_members_replace
short_description: Set the whole member list of a Glance image
version_added: 0.1.0
description:
  - Makes the projects an image is shared with exactly O(members); every other member is removed.
  - On the Image API v1 the single list-replacement call is sent, and only when the list
    differs. A member entry without C(can_share) keeps its value (new members get V(false)).
  - On the Image API v2 only the difference is sent, with up to four calls at a time. Members
    that stay are not touched unless their C(status) is given and differs.
  - On v2 only images with visibility C(shared) have members; for any other visibility the
    task fails (unless O(members) is empty) and never changes the visibility.
  - Every check that needs no write (duplicates, unknown projects, missing member
    credentials, options the API version lacks) is done before anything is changed.
extends_documentation_fragment:
  - cloudimage.glance.connection
  - cloudimage.glance.attributes
attributes:
  check_mode:
    support: full
    details: Only reads are sent (and member credentials are authenticated).
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
        project only. Another project's image is never changed by name (not even by an
        admin, who sees every image); give its ID.
    type: str
    required: true
  members:
    description:
      - The whole member list. Each entry is a project name or ID, or a dictionary with
      - C(project), the project name or ID;
      - C(can_share) (v1 only), whether the member may share onward; left out, an existing
        member keeps its value;
      - C(status) (v2 only), V(accepted), V(rejected) or V(pending), set with the member's
        credentials;
      - C(cloud) (v2 only), the member's credentials (a clouds.yaml entry name or a
        dictionary) used to set C(status); C(project) may then be left out. Without it,
        C(status) needs an admin (or the task to run as that member).
      - The same project twice is an error. An empty list removes every member.
    type: list
    elements: raw
    required: true
notes:
  - Calls refused because of a race (a member already added, or already removed, by someone
    else) are not failures; the result is the member list read back after the writes.
  - More members than the server allows (C(image_member_quota), 128 by default) fail with the
    server's limit in the message. On v2 the members added before the server refused are
    removed again, so the member list is left as it was.
author:
  - cloudimage.glance maintainers (@cloudimage)
'''

EXAMPLES = r'''
- name: Share with exactly these projects (v2), each accepting with its own credentials
  cloudimage.glance.image_members_replace:
    cloud: producer
    image: ubuntu-24.04
    members:
      - cloud: consumer1
        status: accepted
      - cloud: consumer2
        status: accepted

- name: Share with projects given by ID; they accept later
  cloudimage.glance.image_members_replace:
    cloud: producer
    image: ubuntu-24.04
    members:
      - 8f3c0c2a6b1e4d6f9a0b1c2d3e4f5a6b
      - 0a1b2c3d4e5f60718293a4b5c6d7e8f9

- name: Legacy cloud (v1), one member may share onward
  cloudimage.glance.image_members_replace:
    cloud: legacy-producer
    image: centos-7
    members:
      - project: 8f3c0c2a6b1e4d6f9a0b1c2d3e4f5a6b
        can_share: true
      - 0a1b2c3d4e5f60718293a4b5c6d7e8f9

- name: Stop sharing with anyone
  cloudimage.glance.image_members_replace:
    cloud: producer
    image: ubuntu-24.04
    members: []
'''

RETURN = r'''
members:
  description:
    - The members after the task (as predicted in check mode), sorted by project ID.
  returned: always
  type: list
  elements: dict
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
added:
  description: Project IDs added as members, sorted.
  returned: always
  type: list
  elements: str
removed:
  description: Project IDs removed, sorted.
  returned: always
  type: list
  elements: str
updated:
  description: Project IDs that stayed members and whose C(status) or C(can_share) changed, sorted.
  returned: always
  type: list
  elements: str
api_version:
  description: Image API version that was used.
  returned: always
  type: str
  sample: '2'
'''

from ansible_collections.cloudimage.glance.plugins.module_utils._runner import run_module
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_members_replace import ImageMembersReplaceWorkflow


ARGUMENT_SPEC = dict(
    image=dict(type='str', required=True),
    members=dict(type='list', elements='raw', required=True),
)


def main():
    run_module(ARGUMENT_SPEC, ImageMembersReplaceWorkflow())


if __name__ == '__main__':
    main()
