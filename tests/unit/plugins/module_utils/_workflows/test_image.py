# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import hashlib

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.registry import check_needs
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext, run_workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows import image_data
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image import ImageWorkflow
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2, session_for

from .image_cases import DATA, IMAGE_ID, PROJECT, params, qcow2_file, queued, run, task


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(image_data, 'POLL_INTERVAL', 0)
    monkeypatch.setattr(lost_updates, 'settle_pause', lambda _seconds: 0)


def existing(**fields):
    return dict(dict(id=IMAGE_ID, name='ci', status='active', visibility='public', protected=False, os_hidden=False,
                     disk_format='qcow2', container_format='bare', tags=[], min_ram=0, owner=PROJECT,
                     checksum='0' * 32, os_hash_algo='sha512', os_hash_value='0' * 128), **fields)


# -- what the image module needs of the API -------------------------------------------------
V1_REFUSALS = [
    (dict(tags=['golden']), 'option tags needs Image API v2; this endpoint speaks Image API v1'),
    (dict(hidden=False), 'option hidden needs Image API v2; this endpoint speaks Image API v1'),
    (dict(url='http://127.0.0.1/x.img', filename=None), 'option url needs Image API v2; this endpoint speaks '
                                                        'Image API v1'),
    (dict(state='inactive'), 'state inactive (deactivation) needs Image API v2; this endpoint speaks Image API v1'),
    (dict(visibility='shared'), 'visibility shared needs Image API v2; this endpoint speaks Image API v1'),
    (dict(visibility='community'), 'visibility community needs Image API v2; this endpoint speaks Image API v1'),
]


@pytest.mark.parametrize('options, text', V1_REFUSALS)
def test_what_v1_lacks_is_refused_after_connecting_and_before_any_request(tmp_path, options, text):
    sessions = []

    def connect(_params):
        sessions.append(session_for(ImageDriverV1(None)))  # no transport: any request would fail
        return sessions[-1]

    with pytest.raises(GlanceError) as info:
        run_workflow(ImageWorkflow(), TaskContext(params(tmp_path, **options)), session_factory=connect)
    assert str(info.value) == text
    assert len(sessions) == 1


@pytest.mark.parametrize('options', [options for options, _text in V1_REFUSALS] + [
    dict(visibility='public', tags=None), dict(visibility='private', state='absent')])
def test_v2_has_everything_the_image_module_asks(tmp_path, options):
    workflow = ImageWorkflow()
    check_needs(ImageDriverV2(None), workflow.needs(workflow.validate(params(tmp_path, **options))))


@pytest.mark.parametrize('options', [dict(), dict(visibility='public'), dict(visibility='private', protected=True),
                                     dict(state='absent', filename=None), dict(properties={'os_distro': 'x'})])
def test_v1_has_what_plain_image_tasks_ask(tmp_path, options):
    workflow = ImageWorkflow()
    check_needs(ImageDriverV1(None), workflow.needs(workflow.validate(params(tmp_path, **options))))


@pytest.mark.parametrize('options, text', [
    (dict(min_ram=-1), 'min_ram must be 0 or more, got -1'),
    (dict(id='not-a-uuid'), "id 'not-a-uuid' is not a UUID (Glance image IDs are UUIDs)"),
    (dict(id='..', state='absent', filename=None), "id '..' is not a UUID (Glance image IDs are UUIDs)"),
    (dict(id='not-a-uuid', state='absent', filename=None), "id 'not-a-uuid' is not a UUID (Glance image IDs are UUIDs)"),
    (dict(tags=['.']), "tag '.' cannot be sent: a tag travels in the request path, where '.' is a dot segment that "
                       "HTTP clients drop"),
    (dict(properties={'ci_gone': None}), 'properties.ci_gone is null; give a value (quote it to store an empty '
                                         'string), or leave the key out with purge_properties: true to remove the '
                                         'property'),
    (dict(checksum='crc32:abcd'), "checksum algorithm 'crc32' is not supported (use md5, sha256, sha512)"),
    (dict(tags=['a/b']), "tag 'a/b' contains a slash, which Glance cannot take in a tag"),
    (dict(properties={'os_hidden': True}), "property 'os_hidden' is an image attribute: set it with the hidden option"),
    (dict(is_public=True, visibility='private'), 'is_public: true and visibility: private disagree; give one of them'),
    (dict(filename='/nonexistent/disk.raw'), 'cannot read filename /nonexistent/disk.raw: No such file or directory'),
])
def test_bad_options_fail_before_connecting(tmp_path, options, text):
    connected = []
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageWorkflow(), TaskContext(params(tmp_path, **options)),
                     session_factory=lambda _params: connected.append(1))
    assert str(info.value) == text
    assert connected == []


def test_names_and_properties_v1_cannot_carry_are_refused_before_any_request(tmp_path):
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageWorkflow(), TaskContext(params(tmp_path, name='Ubuntu \u2014 golden')),
                     session_factory=lambda _params: session_for(ImageDriverV1(None)))
    assert str(info.value).startswith("name 'Ubuntu \u2014 golden' cannot be sent to Image API v1")


# -- protecting only verified data ----------------------------------------------------------
def test_resumed_queued_image_is_protected_only_after_its_data_is_verified(tmp_path):
    server = ImageServiceV2([queued()])
    result, _context = run(server, params(tmp_path, protected=True))
    kinds = server.kinds()
    assert kinds.index('upload') < kinds.index('patch')
    protecting = [ops for kind, ops in server.calls if kind == 'patch']
    assert protecting == [[{'op': 'replace', 'path': '/protected', 'value': True}]]
    assert result['image']['protected'] is True and result['changed']


def test_resumed_queued_image_with_mismatched_data_is_reported_and_kept(tmp_path):
    server = ImageServiceV2([queued()], stored_data=b'something else')
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, protected=True))
    assert 'different data' in str(info.value)
    assert 'delete' not in server.kinds()
    assert server.images[IMAGE_ID]['protected'] is False


def test_new_image_with_mismatched_data_is_removed(tmp_path):
    server = ImageServiceV2(stored_data=b'something else')
    with pytest.raises(GlanceError):
        run(server, params(tmp_path, protected=True))
    assert server.images == {}


def test_each_new_image_gets_its_own_id_chosen_before_the_request(tmp_path):
    server = ImageServiceV2()
    work = task(server, params(tmp_path))
    work.create_record({'name': 'ci'}, {}, [])
    work.create_record({'name': 'ci'}, {}, [])
    ids = [body['id'] for kind, body in server.calls if kind == 'create']
    assert len(set(ids)) == 2 and all(len(image_id) == 36 for image_id in ids)
    work.create_record({'name': 'ci', 'id': IMAGE_ID}, {}, [])
    assert [body for kind, body in server.calls if kind == 'create'][-1]['id'] == IMAGE_ID


# -- another writer saving a stale copy right after this task's write ------------------------
def stale_writer(server):
    """After the task's first patch, another request that read the image before it saves its own copy."""
    def hook(request):
        if server.stale is not None:
            return None
        image_id = request.image_id
        server.stale = dict(copy.deepcopy(server.images[image_id]), theirs='kept', tags=['their-tag'])
        answer = server.handle(request)
        server.images[image_id] = server.stale  # saved after ours, from a copy read before it
        return answer
    server.stale = None
    server.before('patch', hook)
    return server


def test_update_undone_by_a_concurrent_save_is_sent_again(tmp_path):
    image = dict(queued(status='active', checksum=hashlib.md5(DATA).hexdigest()), os_distro='debian')
    server = stale_writer(ImageServiceV2([image]))
    result, _context = run(server, params(tmp_path, filename=None, properties={'ours': 'yes'}, tags=['our-tag']))
    image = server.images[IMAGE_ID]
    assert image['ours'] == 'yes' and image['theirs'] == 'kept'
    assert sorted(image['tags']) == ['our-tag', 'their-tag']
    assert result['changed'] and result['image']['properties']['ours'] == 'yes'
    assert server.kinds().count('patch') == 2
    # The tag went in its own call, never as a whole list that could drop others' tags.
    assert all(op['path'] != '/tags' for kind, ops in server.calls if kind == 'patch' for op in ops)


def saved_after_our_patch(server, key, value):
    """Another writer's request that saves ``key: value`` right after each of our patches."""
    def their_patch(request):
        answer = server.handle(request)
        server.images[IMAGE_ID][key] = value
        return answer
    server.before('patch', their_patch)


def test_another_value_saved_meanwhile_fails_the_task_and_stays(tmp_path):
    # colour: red here, blue in a parallel task whose patch saved after ours.
    image = dict(queued(status='active', checksum=hashlib.md5(DATA).hexdigest()), colour='green')
    server = ImageServiceV2([image])
    saved_after_our_patch(server, 'colour', 'blue')
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, filename=None, properties={'colour': 'red'}))
    assert "while this task wrote it: colour is 'blue' (this task set 'red')" in str(info.value)
    assert server.images[IMAGE_ID]['colour'] == 'blue' and server.kinds().count('patch') == 1


def test_purged_properties_are_checked_exactly(tmp_path):
    image = dict(queued(status='active', checksum=hashlib.md5(DATA).hexdigest()), old='o')
    server = ImageServiceV2([image])
    saved_after_our_patch(server, 'theirs', 't')
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, filename=None, properties={'ours': 'o'}, purge_properties=True))
    assert "theirs is 't' (this task wants it absent)" in str(info.value)


def test_absent_by_name_leaves_another_projects_image_and_says_so(tmp_path):
    server = ImageServiceV2([existing(owner='producer')])
    context = TaskContext(params(tmp_path, state='absent', filename=None))
    run_workflow(ImageWorkflow(), context, session_factory=lambda _params: server.session('admins', roles=['admin']))
    assert IMAGE_ID in server.images and server.writes() == []
    assert context.warnings == [
        "project admins has no image named 'ci', so nothing was deleted; image %s of project producer was left alone: "
        "give owner (or id) to delete another project's image" % IMAGE_ID]


# -- an existing image ----------------------------------------------------------------------
def test_an_existing_image_keeps_its_formats(tmp_path):
    path = qcow2_file(tmp_path)
    content = path.read_bytes()
    server = ImageServiceV2([dict(id=IMAGE_ID, name='ci', status='active', visibility='private', protected=False,
                                  os_hidden=False, disk_format='raw', container_format='bare', tags=[], owner=PROJECT,
                                  checksum=hashlib.md5(content).hexdigest(), os_hash_algo='sha512',
                                  os_hash_value=hashlib.sha512(content).hexdigest())])
    result, _context = run(server, params(tmp_path, filename=str(path), min_ram=64, disk_format=None,
                                          container_format=None))
    assert result['changed'] and server.writes() == [
        ('patch', [{'op': 'add', 'path': '/min_ram', 'value': 64}])]
    assert server.images[IMAGE_ID]['disk_format'] == 'raw'


def test_an_image_id_given_as_name_finds_the_image_and_keeps_its_name(tmp_path):
    server = ImageServiceV2([existing()])
    result, _context = run(server, params(tmp_path, name=IMAGE_ID, min_ram=64, filename=None, disk_format=None,
                                          container_format=None))
    assert result['changed'] and server.writes() == [
        ('patch', [{'op': 'replace', 'path': '/min_ram', 'value': 64}])]
    assert server.images[IMAGE_ID]['name'] == 'ci'


def test_an_id_with_a_name_still_renames(tmp_path):
    server = ImageServiceV2([existing()])
    run(server, params(tmp_path, id=IMAGE_ID, name='renamed', filename=None, disk_format=None, container_format=None))
    assert server.images[IMAGE_ID]['name'] == 'renamed'


def test_check_mode_sends_no_write_and_predicts_the_diff(tmp_path):
    server = ImageServiceV2([existing()])
    result, _context = run(server, params(tmp_path, filename=None, min_ram=64, tags=['golden'], disk_format=None,
                                          container_format=None), check_mode=True, diff=True)
    assert server.writes() == []
    assert result['changed'] and result['changes'] == ['update min_ram, tags']
    assert result['diff']['before']['min_ram'] == 0 and result['diff']['after']['min_ram'] == 64
    assert result['diff']['after']['tags'] == ['golden']


def test_an_image_as_wanted_is_not_changed(tmp_path):
    server = ImageServiceV2([existing()])
    result, _context = run(server, params(tmp_path, filename=None, disk_format='qcow2', container_format='bare',
                                          visibility='public', min_ram=0))
    assert not result['changed'] and server.writes() == [] and result['api_version'] == '2'


@pytest.mark.parametrize('status, protected, kinds', [
    ('active', False, ['delete']),
    ('active', True, ['patch', 'delete']),
])
def test_absent_unprotects_only_when_told_and_deletes(tmp_path, status, protected, kinds):
    server = ImageServiceV2([existing(status=status, protected=protected)])
    result, _context = run(server, params(tmp_path, state='absent', protected=False, filename=None))
    assert server.images == {} and server.kinds()[-len(kinds):] == kinds and result['image'] is None


def test_a_protected_image_is_not_deleted_without_protected_false(tmp_path):
    server = ImageServiceV2([existing(protected=True)])
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, state='absent', filename=None))
    assert str(info.value).startswith('image ci (%s) is protected and cannot be deleted' % IMAGE_ID)
    assert server.writes() == []


def test_inactive_deactivates_and_present_reactivates(tmp_path):
    server = ImageServiceV2([existing()])
    run(server, params(tmp_path, state='inactive', filename=None, disk_format=None, container_format=None))
    assert server.images[IMAGE_ID]['status'] == 'deactivated'
    run(server, params(tmp_path, filename=None, disk_format=None, container_format=None))
    assert server.images[IMAGE_ID]['status'] == 'active'
    assert [kind for kind in server.kinds() if kind.endswith('activate')] == ['deactivate', 'reactivate']


# -- order of side effects ------------------------------------------------------------------
def test_a_refused_delete_protects_the_image_again(tmp_path):
    server = ImageServiceV2([existing(protected=True)])
    server.fail('delete', status=403, message='delete refused')
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, state='absent', protected=False, filename=None))
    assert server.images[IMAGE_ID]['protected'] is True
    assert str(info.value) == ('image ci (%s) could not be deleted and is protected again: delete_image image %s '
                               'refused (HTTP 403) - server said: delete refused' % (IMAGE_ID, IMAGE_ID))


def test_a_refused_delete_of_an_unprotected_image_changes_nothing_else(tmp_path):
    server = ImageServiceV2([existing()])
    server.fail('delete', status=403, message='delete refused')
    with pytest.raises(GlanceError):
        run(server, params(tmp_path, state='absent', protected=False, filename=None))
    assert server.kinds().count('patch') == 0 and server.images[IMAGE_ID]['protected'] is False


def test_replacing_the_data_of_an_image_given_by_id_is_refused_before_any_change(tmp_path):
    # The replacement gets a new ID; the next run with this id would find nothing (Glance never reuses IDs).
    server = ImageServiceV2([existing(disk_format='raw')])
    with pytest.raises(GlanceError) as info:
        run(server, params(tmp_path, id=IMAGE_ID, replace_data=True))
    assert str(info.value) == (
        'the data of image ci (%s) differs, and replacing it makes a new image with a new ID, which id %s would not '
        'find on the next run (Glance never reuses an ID); give name instead of id to replace the data'
        % (IMAGE_ID, IMAGE_ID))
    assert server.writes() == []
