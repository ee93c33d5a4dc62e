#!/usr/bin/python
# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: image
short_description: Create, update, upload, replace, deactivate and delete Glance images
version_added: 0.1.0
description:
  - Manages one image record and its data on the Image API v2 or the legacy v1.
  - Only what differs from the task is sent. An option left out is left alone; nothing is
    reset to a default behind your back.
  - On v2 every attribute, property and tag change goes out as one json-patch request.
    On v1, properties the task does not mention are kept unless O(purge_properties=true).
  - Data from O(filename) is streamed and read once; its hash is computed on the way and
    compared with the hash the server reports. A mismatch fails and leaves no image behind.
  - Tasks written for C(openstack.cloud.image) run unchanged. Its options (O(is_public),
    O(is_protected), O(kernel), O(ramdisk), O(owner_domain), O(uri), O(import_method), ...) are
    accepted with their meaning, and the result also carries the keys it returns. Unlike it,
    an option left out is left alone here (no visibility reset when O(is_public) is left out).
extends_documentation_fragment:
  - cloudimage.glance.connection
  - cloudimage.glance.attributes
attributes:
  check_mode:
    support: full
    details: Only reads are sent (and the local file may be hashed to compare data).
  diff_mode:
    support: full
    details: Shows managed attributes, properties, tags, status and the data hash before and after.
  action_group:
    support: full
    membership:
      - cloudimage.glance.glance
options:
  name:
    description:
      - Name of the image. Finds the image when O(id) is not given (among the images of
        O(owner), by default the current project), and renames it when O(id) is given.
      - Another project's image is never changed by name alone (not even by an admin, who
        sees every image); give O(owner) or O(id). With O(state=absent), a name that only
        another project's image has deletes nothing and warns, naming that image.
      - Two images with that name is an error that lists their IDs.
      - Tasks creating the same new name at the same moment end with one image. After its
        create each task pauses (about 1.5 s), lists the name again, and the oldest image (by
        C(created_at), then ID) wins. The others delete only the image they made and update the
        winner, once another writer has filled its data; a winner holding other data than the
        task's is an error naming it. See the guide's section on concurrent writers.
      - An image ID given here without O(id) finds that image (as C(openstack.cloud.image)
        allows), which keeps its name.
    type: str
  id:
    description:
      - ID of the image. When it does not exist it is created with this ID.
    type: str
  state:
    description:
      - V(present) makes sure the image exists (and reactivates a deactivated one).
      - V(inactive) makes sure it exists and is deactivated (v2 only).
      - V(absent) deletes it. A protected image is refused unless O(protected=false) is also given.
    type: str
    choices: [present, absent, inactive]
    default: present
  filename:
    description:
      - Local file with the image data, uploaded when the image has no data yet (new,
        or C(queued) after an earlier failed run).
      - For an image that has data, the data is compared (by O(checksum), else by hashing
        the file once); different data fails unless O(replace_data=true).
    type: path
  url:
    description:
      - URL the image service downloads the data from (v2 C(web-download) import), when the
        image has no data yet. Waits for the image to become active when O(wait=true).
      - O(uri) is the name C(openstack.cloud.image) uses.
    type: str
    aliases: [uri]
  import_method:
    description:
      - The C(openstack.cloud.image) way to ask for an import of O(uri). V(web-download) is
        what O(url) does, and needs O(url) (or O(uri)).
      - V(glance-download) (an import from another region) is not supported; it fails before
        anything is sent.
    type: str
    choices: [web-download, glance-download]
  use_import:
    description:
      - The C(openstack.cloud.image) option to send O(filename) through the C(glance-direct)
        import. That import is not supported here; V(true) together with O(filename) fails
        before anything is sent. Left out, the data is uploaded directly and verified.
    type: bool
  volume:
    description:
      - The C(openstack.cloud.image) option to make the image from a block storage volume.
        Not supported; giving it fails before anything is sent.
    type: str
  checksum:
    description:
      - Expected hash of the data, as C(sha512:<hex>), C(sha256:<hex>), C(md5:<hex>) or bare hex
        (algorithm from the length).
      - When the server already holds data with this hash, the file is neither read nor sent.
      - The uploaded data must match it.
      - 32 hex digits are an md5, the C(checksum) Glance reports and C(openstack.cloud.image)
        takes. When the server's data has another hash, the task fails (unless
        O(replace_data=true)) rather than creating a second image with the same name.
      - With O(url), when the image's server keeps no hash of this algorithm (a server keeping
        sha512 and a C(sha256:) checksum, or Pike, which keeps md5 only), the image's data is read
        back from Glance (streamed) to compare it; a deactivated image cannot be read, which a
        warning says.
    type: str
  replace_data:
    description:
      - When the data of an existing image differs, create a new image with the same
        attributes, properties, tags and members, upload and verify the data, then delete
        the old image. Without it, different data is an error.
      - On v2, members of the new image must accept it again.
      - The new image has a new ID (Glance never reuses one), so an image given by O(id) is
        refused before any change when its data differs; give O(name) to replace the data.
      - Tasks replacing the data of one image at the same moment agree on the oldest
        replacement; the others delete their own and wait for it to finish (within O(timeout)).
    type: bool
    default: false
  disk_format:
    description:
      - Disk format of the data.
      - Creating an image with data needs it, except from a O(filename) that is a qcow2 image;
        then V(qcow2), the default of C(openstack.cloud.image).
      - Left out, an existing image keeps its format.
    type: str
    choices: [ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop]
  container_format:
    description:
      - Container format of the data.
      - Left out when an image is created with data, V(bare); an existing image keeps its format.
    type: str
    choices: [ami, ari, aki, bare, ovf, ova, docker, compressed]
  visibility:
    description:
      - Who may see the image. v1 knows only V(public) and V(private) (C(is_public)).
      - Left out, an existing image keeps its visibility; a new one gets the server's default.
    type: str
    choices: [public, private, shared, community]
  is_public:
    description:
      - V(true) is O(visibility=public), V(false) is O(visibility=private) (the
        C(openstack.cloud.image) option).
      - Left out, the visibility is left alone. Together with a O(visibility) that says
        otherwise, the task fails before anything is sent.
    type: bool
  protected:
    description: Whether the image is protected from deletion.
    type: bool
  is_protected:
    description:
      - O(protected) under the name C(openstack.cloud.image) uses. Together with a different
        O(protected), the task fails before anything is sent.
    type: bool
  hidden:
    description: Hide the image from default listings (v2 C(os_hidden)).
    type: bool
  min_disk:
    description: Minimum disk size in GB needed to boot the image.
    type: int
  min_ram:
    description: Minimum RAM in MB needed to boot the image.
    type: int
  owner:
    description:
      - Project (name or ID) that owns the image. Changing it needs admin rights.
      - Also scopes the lookup by O(name).
    type: str
    aliases: [project]
  owner_domain:
    description:
      - Domain (name or ID) in which the project named by O(owner) is looked up, for a project
        name that exists in several domains. Needs O(owner); a project ID is used as it is.
    type: str
    aliases: [project_domain]
  kernel:
    description:
      - Kernel image (name or ID) to boot this image with; its ID is set as the C(kernel_id)
        property.
      - Found with one filtered lookup among the images these credentials see; a name that
        matches no image or several fails.
      - Together with a different C(kernel_id) in O(properties), the task fails before
        anything is sent.
    type: str
  ramdisk:
    description:
      - Ramdisk image (name or ID) to boot this image with; its ID is set as the C(ramdisk_id)
        property, found as for O(kernel).
    type: str
  properties:
    description:
      - Custom properties. Values are compared as the strings Glance stores
        (V(true) as C(True)).
      - On v1, names travel in HTTP headers and the server stores them in lowercase; they
        are compared in lowercase there.
      - Read-only or reserved names (C(id), C(os_hash_value), C(os_glance_*), ...) and names
        of image attributes are refused.
    type: dict
  purge_properties:
    description:
      - Remove custom properties not listed in O(properties). Only applies when
        O(properties) is given (V({}) then removes all).
    type: bool
    default: false
  tags:
    description: Tags the image must carry (v2 only).
    type: list
    elements: str
  purge_tags:
    description: Remove tags not listed in O(tags). Only applies when O(tags) is given.
    type: bool
    default: false
author:
  - cloudimage.glance maintainers (@cloudimage)
'''

EXAMPLES = r'''
- name: Publish an image from a local file, verified by its sha512
  cloudimage.glance.image:
    cloud: producer
    name: ubuntu-24.04
    filename: /srv/images/ubuntu-24.04.qcow2
    checksum: "sha512:{{ lookup('ansible.builtin.file', '/srv/images/ubuntu-24.04.qcow2.sha512') }}"
    disk_format: qcow2
    container_format: bare
    visibility: shared
    min_disk: 10
    properties:
      os_distro: ubuntu
      hw_qemu_guest_agent: true
    tags: [golden]

- name: Change only a property (visibility and everything else stay as they are)
  cloudimage.glance.image:
    cloud: producer
    name: ubuntu-24.04
    properties:
      os_version: '24.04'

- name: Roll out new data under the same name, attributes and members
  cloudimage.glance.image:
    cloud: producer
    name: ubuntu-24.04
    filename: /srv/images/ubuntu-24.04-updated.qcow2
    replace_data: true

- name: Import from a URL the image service can reach
  cloudimage.glance.image:
    cloud: producer
    name: cirros
    url: https://mirror.example/cirros-0.6.2-x86_64-disk.img
    disk_format: qcow2
    container_format: bare

- name: Deactivate an image
  cloudimage.glance.image:
    cloud: producer
    name: ubuntu-22.04
    state: inactive

- name: A legacy (v1) cloud
  cloudimage.glance.image:
    cloud: legacy-producer
    api_version: '1'
    name: centos-7
    filename: /srv/images/centos-7.raw
    disk_format: raw
    container_format: bare
    visibility: private

- name: A task written for openstack.cloud.image, with only the collection name changed
  cloudimage.glance.image:
    cloud: producer
    name: cirros
    filename: /srv/images/cirros-0.6.2-x86_64-disk.img
    is_public: false
    is_protected: true
    kernel: cirros-vmlinuz
    ramdisk: cirros-initrd
    project: producer
    project_domain: Default
    tags: [custom]
    properties:
      cpu_arch: x86_64

- name: Delete an image even though it is protected
  cloudimage.glance.image:
    cloud: producer
    name: old-image
    protected: false
    state: absent
'''

RETURN = r'''
image:
  description:
    - The image after the task, in the shape M(cloudimage.glance.image_info) returns.
    - In check mode, the image as it was. Null when it is absent.
    - Some values also appear under the keys C(openstack.cloud.image) gives them, namely
      C(is_protected), C(is_hidden), C(owner_id), C(hash_algo) and C(hash_value); and each
      custom property is at the top level as well as under C(properties).
  returned: always
  type: dict
  sample:
    id: 2d7c5b8e-9a41-4a3e-8f0e-1c7f0d1e2a3b
    name: ubuntu-24.04
    status: active
    visibility: shared
    protected: false
    hidden: false
    disk_format: qcow2
    container_format: bare
    min_disk: 10
    min_ram: 0
    size: 624951296
    checksum: 0f343b0931126a20f133d67c2b018a3b
    os_hash_algo: sha512
    os_hash_value: 4f1b...
    owner: 5e1f2a...
    tags: [golden]
    properties:
      os_distro: ubuntu
    api_version: '2'
changes:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [create, upload data]
api_version:
  description: Image API version that was used.
  returned: always
  type: str
  sample: '2'
'''

from ansible_collections.cloudimage.glance.plugins.module_utils._runner import run_module
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image import ImageWorkflow


ARGUMENT_SPEC = dict(
    name=dict(type='str'),
    id=dict(type='str'),
    state=dict(type='str', default='present', choices=['present', 'absent', 'inactive']),
    filename=dict(type='path'),
    url=dict(type='str', aliases=['uri']),
    import_method=dict(type='str', choices=['web-download', 'glance-download']),
    use_import=dict(type='bool'),
    volume=dict(type='str'),
    checksum=dict(type='str'),
    replace_data=dict(type='bool', default=False),
    disk_format=dict(type='str', choices=['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi',
                                          'iso', 'ploop']),
    container_format=dict(type='str', choices=['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker',
                                               'compressed']),
    visibility=dict(type='str', choices=['public', 'private', 'shared', 'community']),
    is_public=dict(type='bool'),
    protected=dict(type='bool'),
    is_protected=dict(type='bool'),
    hidden=dict(type='bool'),
    min_disk=dict(type='int'),
    min_ram=dict(type='int'),
    owner=dict(type='str', aliases=['project']),
    owner_domain=dict(type='str', aliases=['project_domain']),
    kernel=dict(type='str'),
    ramdisk=dict(type='str'),
    properties=dict(type='dict'),
    purge_properties=dict(type='bool', default=False),
    tags=dict(type='list', elements='str'),
    purge_tags=dict(type='bool', default=False),
)


def main():
    run_module(ARGUMENT_SPEC, ImageWorkflow(), required_one_of=[('name', 'id')],
               mutually_exclusive=[('filename', 'url')])


if __name__ == '__main__':
    main()
