# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options and images shared by the tests of the image workflow, its data and its replacements."""

from __future__ import annotations

import struct

from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext, run_workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image import ImageTask, ImageWorkflow

IMAGE_ID = '6a0b4f67-6b0e-4cf4-9d54-5d0c2b0a1f11'
PROJECT = 'p'
DATA = b'disk image bytes' * 100


def params(tmp_path, **options):
    """The image module's options (a file with DATA as filename) with ``options`` on top."""
    data = tmp_path / 'disk.raw'
    data.write_bytes(DATA)
    base = dict(name='ci', id=None, state='present', filename=str(data), url=None, checksum=None, owner=None,
                replace_data=False, disk_format='raw', container_format='bare', visibility=None, protected=None,
                hidden=None, min_disk=None, min_ram=None, properties=None, purge_properties=False, tags=None,
                purge_tags=False, timeout=5, wait=True)
    base.update(options)
    return base


def qcow2_file(tmp_path):
    """A small file that starts like a qcow2 image."""
    path = tmp_path / 'disk.qcow2'
    header = struct.pack('>4sIQIIQ', b'QFI\xfb', 3, 0, 0, 16, 1 << 20)
    path.write_bytes(header + bytes(512 - len(header)) + b'payload' * 100)
    return path


def queued(**fields):
    """An image document as Glance 33 shows a queued image of PROJECT, with ``fields`` on top."""
    return dict(dict(id=IMAGE_ID, name='ci', status='queued', visibility='shared', protected=False, os_hidden=False,
                     disk_format='raw', container_format='bare', tags=[], checksum=None, os_hash_algo=None,
                     os_hash_value=None, owner=PROJECT), **fields)


def run(server, task_params, check_mode=False, diff=False, context=None):
    """The image workflow as the module runs it, against ``server``; returns (result, context)."""
    context = context or TaskContext(task_params, check_mode, diff)
    return run_workflow(ImageWorkflow(), context, session_factory=lambda _params: server.session()), context


def task(server, task_params):
    """An ImageTask on ``server`` (options taken as validated)."""
    return ImageTask(TaskContext(task_params, session=server.session()), task_params)
