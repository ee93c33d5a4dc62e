# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Image tasks that create or replace one name at the same moment as other writers end with one image.

The other writers act while the task pauses (``race_clock.during_sleep``), as
they would on a real server between its requests.
"""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import oldest, race_winner
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows import image_data
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2

from .image_cases import DATA, IMAGE_ID, params, queued, run

OTHER_DATA = b'another disk image' * 60
OLD_DATA = b'old disk image bytes' * 50
# Glance's created_at, in whole seconds.
SECOND = '2026-12-07T23:00:27Z'
EARLY_ID = '00000000-0000-4000-8000-000000000001'
LATE_ID = 'ffffffff-ffff-4fff-8fff-ffffffffffff'


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(image_data, 'POLL_INTERVAL', 0)
    monkeypatch.setattr(lost_updates, 'settle_pause', lambda _seconds: 0)


class StampingService(ImageServiceV2):
    """The in-memory Image API v2, stamping created_at as Glance does: whole seconds, all in one second here."""

    def _create(self, request):
        response = super()._create(request)
        if response.status_code == 201:
            self.images[response.json()['id']]['created_at'] = SECOND
            response = type(response)(201, dict(self.images[response.json()['id']]))
        return response


def digests(data):
    return dict(checksum=hashlib.md5(data).hexdigest(), os_hash_algo='sha512',
                os_hash_value=hashlib.sha512(data).hexdigest(), size=len(data))


def other_writers_image(image_id=EARLY_ID, status='queued', **fields):
    """An image another writer created under the name in the same second."""
    return queued(id=image_id, status=status, created_at=SECOND, **fields)


def meanwhile(clock, *actions):
    """Run ``actions`` one per pause of the task, in order: what other writers do meanwhile."""
    pending = list(actions)

    def hook():
        if pending:
            pending.pop(0)()
    clock.during_sleep.append(hook)


def named(server, name='ci'):
    return [image for image in server.images.values() if image['name'] == name]


# -- the winner rule ----------------------------------------------------------------------
def test_the_oldest_wins_and_the_id_breaks_a_tie_within_one_second():
    first = dict(id=LATE_ID, created_at='2026-12-07T23:00:26Z', status='queued')
    same_second = [dict(id=LATE_ID, created_at=SECOND, status='queued'),
                   dict(id=EARLY_ID, created_at=SECOND, status='queued')]
    assert oldest([dict(id=EARLY_ID, created_at=SECOND), first])['id'] == LATE_ID
    assert oldest(same_second)['id'] == EARLY_ID
    assert oldest([]) is None


def test_a_race_leaves_data_in_the_winner_only_else_it_is_two_images():
    winner = dict(id=EARLY_ID, created_at=SECOND, status='active')
    assert race_winner([dict(id=LATE_ID, created_at=SECOND, status='queued'), winner]) is winner
    assert race_winner([dict(id=LATE_ID, created_at=SECOND, status='active'), winner]) is None


# -- creates ---------------------------------------------------------------------------------
def test_a_create_that_loses_deletes_only_its_own_image_and_adopts_the_winner(tmp_path, race_clock):
    server = StampingService()
    # Another writer's image appears after the look-up found nothing (same second, smaller ID),
    # and its writer fills it while this task waits.
    meanwhile(race_clock, lambda: server.images.update({EARLY_ID: other_writers_image()}),
              lambda: server.images[EARLY_ID].update(status='saving'),
              lambda: server.keep_data(EARLY_ID, DATA))
    result, _context = run(server, params(tmp_path))
    assert list(server.images) == [EARLY_ID]
    assert server.images[EARLY_ID]['os_hash_value'] == hashlib.sha512(DATA).hexdigest()
    assert result['image']['id'] == EARLY_ID and result['changed']
    # Its own image went; the winner's data were never sent again.
    (own,) = [body['id'] for kind, body in server.calls if kind == 'create']
    assert ('delete', own) in server.calls and 'upload' not in server.kinds()


def test_a_create_that_wins_keeps_its_image_and_leaves_the_others_to_their_writers(tmp_path, race_clock):
    server = StampingService()
    meanwhile(race_clock, lambda: server.images.update({LATE_ID: other_writers_image(LATE_ID)}))
    result, _context = run(server, params(tmp_path))
    own = result['image']['id']
    assert sorted(server.images) == sorted([own, LATE_ID])
    assert server.images[own]['status'] == 'active' and server.images[LATE_ID]['status'] == 'queued'
    assert 'delete' not in server.kinds()


def test_an_adopted_image_with_other_data_fails_in_one_line_naming_it(tmp_path, race_clock):
    server = StampingService()
    theirs = other_writers_image(status='active', **digests(OTHER_DATA))
    meanwhile(race_clock, lambda: server.images.update({EARLY_ID: theirs}))
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path))
    message = str(info.value)
    assert '\n' not in message
    assert message.startswith('image ci (%s), which another writer created at the same moment, holds other data '
                              'than %s' % (EARLY_ID, tmp_path / 'disk.raw'))
    assert list(server.images) == [EARLY_ID]
    assert server.images[EARLY_ID]['os_hash_value'] == digests(OTHER_DATA)['os_hash_value']


def test_an_adopted_image_its_writer_leaves_without_data_is_filled(tmp_path, race_clock):
    server = StampingService()
    # A task with properties only created the winner: it never uploads.
    meanwhile(race_clock, lambda: server.images.update({EARLY_ID: other_writers_image(os_distro='debian')}))
    result, _context = run(server, params(tmp_path, properties={'hw_rng_model': 'virtio'}))
    assert list(server.images) == [EARLY_ID]
    winner = server.images[EARLY_ID]
    assert winner['status'] == 'active' and winner['os_hash_value'] == hashlib.sha512(DATA).hexdigest()
    assert winner['os_distro'] == 'debian' and winner['hw_rng_model'] == 'virtio'
    assert result['changed']


def test_an_upload_that_meets_another_writers_upload_checks_its_data(tmp_path, race_clock):
    server = StampingService()

    def other_upload_first(request):
        # Another writer's upload began a moment earlier: Glance refuses ours.
        if server.images[request.image_id]['status'] == 'queued':
            server.keep_data(request.image_id, DATA)
            return ImageServiceV2.handle(server, request)
        return None
    server.before('upload', other_upload_first)
    result, _context = run(server, params(tmp_path))
    assert len(server.images) == 1 and result['image']['status'] == 'active'
    assert result['image']['os_hash_value'] == hashlib.sha512(DATA).hexdigest()


def test_a_look_up_in_the_middle_of_a_race_waits_and_takes_the_winner(tmp_path, race_clock):
    server = StampingService([other_writers_image(), other_writers_image(LATE_ID)])
    # While the task pauses, the losing writer deletes its image and the winner's fills it.
    meanwhile(race_clock, lambda: server.images.pop(LATE_ID), lambda: server.keep_data(EARLY_ID, DATA))
    result, _context = run(server, params(tmp_path, tags=['golden']))
    assert list(server.images) == [EARLY_ID]
    assert server.images[EARLY_ID]['tags'] == ['golden'] and 'upload' not in server.kinds()
    assert result['image']['id'] == EARLY_ID


def test_two_images_with_data_are_still_two_images(tmp_path):
    server = StampingService([other_writers_image(status='active', **digests(DATA)),
                              other_writers_image(LATE_ID, status='active', **digests(DATA))])
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path))
    assert str(info.value).startswith("2 images are named 'ci'")


def test_check_mode_creates_nothing_and_waits_for_nothing(tmp_path, race_clock):
    server = StampingService()
    result, _context = run(server, params(tmp_path), check_mode=True)
    assert result['changed'] and server.images == {} and server.writes() == []


# -- replacements ----------------------------------------------------------------------------
def old_image():
    return queued(status='active', created_at='2026-12-01T00:00:00Z', os_distro='debian', **digests(OLD_DATA))


def replacement(image_id, status='queued', **fields):
    return queued(id=image_id, status=status, os_hidden=True, created_at=SECOND, os_distro='debian',
                  cloudimage_replaces=IMAGE_ID, **fields)


def finish_replacement(server, image_id):
    """What the winning replacer does once its data are in: the old image goes, the new one is unmarked."""
    server.images.pop(IMAGE_ID, None)
    server.images[image_id].pop('cloudimage_replaces')
    server.images[image_id]['os_hidden'] = False


def test_a_replacement_that_loses_deletes_only_its_own_and_adopts_the_winner(tmp_path, race_clock):
    server = StampingService([old_image()])
    meanwhile(race_clock, lambda: server.images.update({EARLY_ID: replacement(EARLY_ID)}),
              lambda: server.keep_data(EARLY_ID, DATA), lambda: finish_replacement(server, EARLY_ID))
    result, _context = run(server, params(tmp_path, replace_data=True))
    assert list(server.images) == [EARLY_ID]
    assert server.images[EARLY_ID]['os_hash_value'] == hashlib.sha512(DATA).hexdigest()
    assert result['image']['id'] == EARLY_ID and result['changed']
    (own,) = [body['id'] for kind, body in server.calls if kind == 'create']
    # It deleted its own replacement only: the old image was the winner's to delete.
    assert [detail for kind, detail in server.calls if kind == 'delete'] == [own]
    assert 'upload' not in server.kinds()


def test_a_replacer_that_finished_during_the_pause_has_won(tmp_path, race_clock):
    server = StampingService([old_image()])

    def faster_replacer():
        server.images[EARLY_ID] = replacement(EARLY_ID)
        server.keep_data(EARLY_ID, DATA)
        finish_replacement(server, EARLY_ID)
    meanwhile(race_clock, faster_replacer)
    result, _context = run(server, params(tmp_path, replace_data=True))
    assert list(server.images) == [EARLY_ID] and result['image']['id'] == EARLY_ID
    assert 'upload' not in server.kinds()


def test_a_replacement_found_in_progress_is_followed_not_duplicated(tmp_path, race_clock):
    server = StampingService([old_image(), replacement(EARLY_ID, status='saving')])
    meanwhile(race_clock, lambda: server.keep_data(EARLY_ID, DATA), lambda: finish_replacement(server, EARLY_ID))
    result, _context = run(server, params(tmp_path, replace_data=True))
    assert list(server.images) == [EARLY_ID] and result['image']['id'] == EARLY_ID
    assert 'create' not in server.kinds() and 'delete' not in server.kinds()


def test_a_replacement_with_other_data_fails_naming_it(tmp_path, race_clock):
    server = StampingService([old_image(), replacement(EARLY_ID, status='active', **digests(OTHER_DATA))])
    meanwhile(race_clock, lambda: finish_replacement(server, EARLY_ID))
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, replace_data=True))
    assert 'which another writer replaced at the same moment, holds other data than' in str(info.value)
    assert list(server.images) == [EARLY_ID]


def test_a_finished_swap_waiting_for_its_last_step_is_left_to_its_replacer(tmp_path, race_clock):
    done = replacement(EARLY_ID, status='active', **digests(DATA))
    server = StampingService([done])  # the old image is gone already
    meanwhile(race_clock, lambda: finish_replacement(server, EARLY_ID))
    result, _context = run(server, params(tmp_path, replace_data=True))
    assert result['image']['id'] == EARLY_ID and 'cloudimage_replaces' not in server.images[EARLY_ID]
    # The replacer unmarked it; no second, conflicting patch was sent.
    assert [ops for kind, ops in server.calls if kind == 'patch'] == []


def test_a_replacement_left_by_an_interrupted_run_is_taken_over(tmp_path, race_clock):
    server = StampingService([old_image(), replacement(EARLY_ID, status='active', **digests(DATA))])
    result, _context = run(server, params(tmp_path, replace_data=True))
    assert list(server.images) == [EARLY_ID] and 'cloudimage_replaces' not in server.images[EARLY_ID]
    assert result['image']['id'] == EARLY_ID and 'upload' not in server.kinds()
