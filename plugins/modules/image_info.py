#!/usr/bin/python
# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: image_info
short_description: List Glance images, filtered on the server
version_added: 0.1.0
description:
  - Lists images visible to the credentials in use, on the Image API v2 or the legacy v1.
  - Filters are applied by the server and every page of the result is read.
  - Images come back in one shape for both API versions.
  - Tasks written for C(openstack.cloud.image_info) run unchanged. O(image) (name or ID),
    O(filters) with the names openstacksdk gives image attributes, and the C(properties)
    alias are accepted, and each image also carries the keys it returns. Unlike it, the
    filtering is done by the server, so the whole catalogue is never read.
extends_documentation_fragment:
  - cloudimage.glance.connection
  - cloudimage.glance.attributes
attributes:
  check_mode:
    support: full
    details: Reads only; nothing is changed in any mode.
  diff_mode:
    support: N/A
    details: Reads only; there is nothing to diff.
  action_group:
    support: full
    membership:
      - cloudimage.glance.glance
options:
  name:
    description:
      - Only images with exactly this name.
    type: str
  id:
    description:
      - Only the image with this ID. Other filters are ignored.
    type: str
  image:
    description:
      - Name or ID of the image, as C(openstack.cloud.image_info) takes it. An ID of an
        existing image is that image (other filters are then ignored); anything else is a
        name, matched exactly by the server (wildcards are not expanded).
    type: str
  filters:
    description:
      - Server-side filters, for example C(visibility), C(member_status), C(owner)
        (project name or ID), C(status), C(tags) (a list; an image must carry all of them),
        C(hidden), C(disk_format) or any image property by name (v2).
      - C(limit) sets the page size; every page is still read.
      - With C(member_status) and no C(visibility), C(visibility=all) is sent, so a
        consumer sees images it has not accepted yet.
      - On v1, C(visibility) maps to C(is_public); C(tags), C(hidden) and C(member_status)
        do not exist there and are refused; C(property-<name>) filters on a property.
      - The names openstacksdk gives image attributes are accepted too (C(is_protected),
        C(is_hidden), C(owner_id), C(hash_algo), C(hash_value), ...), and C(properties) as a
        dictionary of properties to match. The same filter given twice with different values
        is an error.
    type: dict
    default: {}
    aliases: [properties]
  include_members:
    description:
      - Also return the members of each image (project, status, and v1 C(can_share)).
      - Costs one request per image.
    type: bool
    default: false
author:
  - cloudimage.glance maintainers (@cloudimage)
'''

EXAMPLES = r'''
- name: List the images the producer project owns
  cloudimage.glance.image_info:
    cloud: producer
    filters:
      owner: producer
  register: owned

- name: Find one image by name
  cloudimage.glance.image_info:
    cloud: producer
    name: demo-cirros
  register: found

- name: As a consumer, list images shared with me that I have not accepted yet
  cloudimage.glance.image_info:
    cloud: consumer1
    filters:
      member_status: pending
  register: pending

- name: Images tagged both "golden" and "linux", with their members
  cloudimage.glance.image_info:
    cloud: producer
    filters:
      tags: [golden, linux]
    include_members: true

- name: A task written for openstack.cloud.image_info, with only the collection name changed
  cloudimage.glance.image_info:
    cloud: producer
    image: cirros
    filters:
      is_protected: false
  register: cirros

- name: Public images on a legacy (v1) cloud
  cloudimage.glance.image_info:
    cloud: legacy-producer
    api_version: '1'
    filters:
      visibility: public
'''

RETURN = r'''
api_version:
  description: Image API version that was used.
  returned: always
  type: str
  sample: '2'
images:
  description:
    - The matching images, in the same shape for v1 and v2.
    - Some values also appear under the keys C(openstack.cloud.image_info) gives them, namely
      C(is_protected), C(is_hidden), C(owner_id), C(hash_algo) and C(hash_value); and each
      custom property is at the top level as well as under C(properties).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Image ID.
      type: str
    name:
      description: Image name.
      type: str
    status:
      description: Image status (queued, active, deactivated, ...).
      type: str
    visibility:
      description: public, private, shared or community (v1 gives public or private).
      type: str
    protected:
      description: Whether the image is protected from deletion.
      type: bool
    hidden:
      description: Whether the image is hidden from default listings (v2 C(os_hidden)); false on v1.
      type: bool
    disk_format:
      description: Disk format.
      type: str
    container_format:
      description: Container format.
      type: str
    min_disk:
      description: Minimum disk size in GB.
      type: int
    min_ram:
      description: Minimum RAM in MB.
      type: int
    size:
      description: Size of the data in bytes.
      type: int
    virtual_size:
      description: Virtual size of the disk in bytes, when known.
      type: int
    checksum:
      description: MD5 of the data.
      type: str
    os_hash_algo:
      description: Algorithm of RV(images[].os_hash_value) (v2; null on v1).
      type: str
    os_hash_value:
      description: Hash of the data (v2; null on v1).
      type: str
    owner:
      description: Owning project ID.
      type: str
    created_at:
      description: Creation time.
      type: str
    updated_at:
      description: Last update time.
      type: str
    tags:
      description: Tags, sorted (always empty on v1).
      type: list
      elements: str
    properties:
      description: Custom properties (strings).
      type: dict
    api_version:
      description: Image API version the record was read with.
      type: str
    members:
      description: Members, with O(include_members=true).
      type: list
      elements: dict
      returned: when O(include_members=true)
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
  sample:
    - id: 2d7c5b8e-9a41-4a3e-8f0e-1c7f0d1e2a3b
      name: demo-cirros
      status: active
      visibility: shared
      protected: false
      hidden: false
      disk_format: qcow2
      container_format: bare
      min_disk: 1
      min_ram: 64
      size: 1024
      virtual_size: null
      checksum: 0f343b0931126a20f133d67c2b018a3b
      os_hash_algo: sha512
      os_hash_value: 4f1b...
      owner: 5e1f2a...
      created_at: '2026-11-22T10:00:00Z'
      updated_at: '2026-11-22T10:00:01Z'
      tags: [golden]
      properties:
        os_distro: cirros
      api_version: '2'
'''

from ansible_collections.cloudimage.glance.plugins.module_utils._runner import run_module
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_info import ImageInfoWorkflow


ARGUMENT_SPEC = dict(
    name=dict(type='str'),
    id=dict(type='str'),
    image=dict(type='str'),
    filters=dict(type='dict', default={}, aliases=['properties']),
    include_members=dict(type='bool', default=False),
)


def main():
    run_module(ARGUMENT_SPEC, ImageInfoWorkflow(), mutually_exclusive=[('name', 'id', 'image')])


if __name__ == '__main__':
    main()
