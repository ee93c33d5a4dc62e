# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import replaced_id
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows import image_data
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.lookup import Scope, find_image
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2

from .image_cases import DATA, IMAGE_ID, PROJECT, params, queued, run

OLD_DATA = b'old disk image bytes' * 50


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(image_data, 'POLL_INTERVAL', 0)
    monkeypatch.setattr(lost_updates, 'settle_pause', lambda _seconds: 0)


def old_image():
    return dict(queued(status='active', protected=True), checksum=hashlib.md5(OLD_DATA).hexdigest(),
                os_hash_algo='sha512', os_hash_value=hashlib.sha512(OLD_DATA).hexdigest(), os_distro='debian')


def visible(server):
    """What a plain listing shows under the name (Glance leaves hidden images out)."""
    return [image for image in server.images.values() if image['name'] == 'ci' and not image.get('os_hidden')]


def replace_params(tmp_path):
    return params(tmp_path, replace_data=True, protected=False)


def assert_replaced(server):
    assert len(server.images) == 1
    (image,) = server.images.values()
    assert image['id'] != IMAGE_ID and image['status'] == 'active'
    assert image['os_hash_value'] == hashlib.sha512(DATA).hexdigest()
    assert image['os_distro'] == 'debian' and not image.get('os_hidden')
    assert 'cloudimage_replaces' not in image


def test_replace_without_failure(tmp_path):
    server = ImageServiceV2([old_image()])
    result, _context = run(server, replace_params(tmp_path))
    assert result['changed']
    assert_replaced(server)


@pytest.mark.parametrize('fail_on, fail_when, old_kept', [
    ('upload', lambda image_id: True, True),
    ('delete', lambda image_id: image_id == IMAGE_ID, True),
    ('patch', lambda operations: {'op': 'remove', 'path': '/protected'} not in operations and any(
        op['path'] == '/cloudimage_replaces' for op in operations), False),
])
def test_replace_failing_at_any_step_leaves_one_image_and_a_rerun_converges(tmp_path, fail_on, fail_when, old_kept):
    server = ImageServiceV2([old_image()])
    server.fail(fail_on, when=fail_when)
    with pytest.raises(GlanceError):
        run(server, replace_params(tmp_path))
    # One image under the name for the modules (the old one while it exists) ...
    found = find_image(server.driver(), Scope.owned_by(PROJECT), name='ci').image
    assert found['id'] == IMAGE_ID if old_kept else replaced_id(found) == IMAGE_ID
    # ... and never two in a plain listing.
    assert len(visible(server)) <= 1
    uploads_before = server.kinds().count('upload')
    result, _context = run(server, replace_params(tmp_path))
    assert result['changed']
    assert_replaced(server)
    if fail_on != 'upload':
        # The verified replacement was reused, not uploaded again.
        assert server.kinds().count('upload') == uploads_before
    again, _context = run(server, replace_params(tmp_path))
    assert not again['changed']


def test_absent_also_removes_an_unfinished_replacement(tmp_path):
    server = ImageServiceV2([old_image()])
    server.fail('delete', when=lambda image_id: image_id == IMAGE_ID)
    with pytest.raises(GlanceError):
        run(server, replace_params(tmp_path))
    assert len(server.images) == 2
    run(server, params(tmp_path, state='absent', protected=False, filename=None))
    assert server.images == {}


def test_replace_on_a_v2_without_os_hidden_never_sends_it(tmp_path):
    pike_image = old_image()
    del pike_image['os_hidden']
    server = ImageServiceV2([pike_image], hides=False)
    run(server, replace_params(tmp_path))
    created = [body for kind, body in server.calls if kind == 'create']
    patches = [op for kind, ops in server.calls if kind == 'patch' for op in ops]
    assert 'os_hidden' not in created[0] and all(op['path'] != '/os_hidden' for op in patches)
    assert len(server.images) == 1


def test_members_are_added_again_and_told_to_accept_the_new_image(tmp_path):
    server = ImageServiceV2([old_image()])
    server.add_members(IMAGE_ID, ['m1', 'm2'], status='accepted')
    result, context = run(server, replace_params(tmp_path))
    (new_id,) = server.images
    assert sorted(server.members[new_id]) == ['m1', 'm2']
    assert context.warnings == ['image %s replaces %s; its 2 member(s) were added again and must accept it again'
                                % (new_id, IMAGE_ID)]
    assert result['image']['id'] == new_id


def test_replacing_needs_replace_data(tmp_path):
    server = ImageServiceV2([old_image()])
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, protected=False))
    assert 'differs from %s; set replace_data: true' % (tmp_path / 'disk.raw') in str(info.value)
    assert server.writes() == []


def test_check_mode_predicts_the_replacement_without_writing(tmp_path):
    server = ImageServiceV2([old_image()])
    result, _context = run(server, replace_params(tmp_path), check_mode=True)
    assert result['changed'] and result['changes'] == ['replace data (new image, then delete %s)' % IMAGE_ID]
    assert server.writes() == []
