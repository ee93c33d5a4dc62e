# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers import lost_updates
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.registry import check_needs
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext, run_workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_tag import ImageTagWorkflow
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2, server_stamp, session_for

IMAGE = {'id': 'img', 'name': 'demo', 'status': 'active', 'visibility': 'private', 'owner': 'p', 'tags': ['a', 'c'],
         'os_hidden': False}


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(lost_updates, 'settle_pause', lambda _seconds: 0)


def options(tags, **given):
    return dict(dict(image='demo', tags=tags, state='present', purge=False), **given)


def run(server, params, check_mode=False):
    return run_workflow(ImageTagWorkflow(), TaskContext(params, check_mode, True),
                        session_factory=lambda _params: server.session())


@pytest.mark.parametrize('given, text', [
    (options(['a/b']), "tag 'a/b' contains a slash, which Glance cannot take in a tag"),
    (options(['..'], state='absent'), "tag '..' cannot be sent: a tag travels in the request path, where '..' is a "
                                      "dot segment that HTTP clients drop"),
    (options(['a'], state='absent', purge=True), 'purge applies only with state present (state absent removes the '
                                                 'listed tags)'),
])
def test_bad_options_fail_before_connecting(given, text):
    connected = []
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageTagWorkflow(), TaskContext(given), session_factory=lambda _params: connected.append(1))
    assert str(info.value) == text and connected == []


def test_v1_has_no_tags():
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageTagWorkflow(), TaskContext(options(['a'])),
                     session_factory=lambda _params: session_for(ImageDriverV1(None)))
    assert str(info.value) == 'image_tag (tags) needs Image API v2; this endpoint speaks Image API v1'
    check_needs(ImageDriverV2(None), ImageTagWorkflow().needs(options(['a'])))


@pytest.mark.parametrize('given, added, removed, final', [
    (options(['a', 'b']), ['b'], [], ['a', 'b', 'c']),
    (options(['a', 'b'], purge=True), ['b'], ['c'], ['a', 'b']),
    (options(['c', 'x'], state='absent'), [], ['c'], ['a']),
    (options(['a']), [], [], ['a', 'c']),
])
def test_only_the_tags_that_differ_are_sent(given, added, removed, final):
    server = ImageServiceV2([IMAGE])
    result = run(server, given)
    assert (result['added'], result['removed'], result['tags']) == (added, removed, final)
    assert result['changed'] is bool(added or removed) and result['image_id'] == 'img'
    assert server.writes() == [('remove_tag', tag) for tag in removed] + [('add_tag', tag) for tag in added]
    assert server.images['img']['tags'] == final


def test_check_mode_predicts_without_writing():
    server = ImageServiceV2([IMAGE])
    result = run(server, options(['b'], purge=True), check_mode=True)
    assert result['changed'] and result['tags'] == ['b'] and server.writes() == []
    assert result['diff'] == {'before': {'tags': ['a', 'c']}, 'after': {'tags': ['b']}}


def test_a_tag_undone_by_a_concurrent_save_is_sent_again():
    server = ImageServiceV2([IMAGE])
    undone = []

    def stale_save(request):
        answer = server.handle(request)
        if not undone:
            undone.append(request.tag)
            server.images['img']['tags'] = ['a', 'c', 'theirs']  # saved from a copy read before our call
        return answer
    server.before('add_tag', stale_save)
    result = run(server, options(['b']))
    assert server.images['img']['tags'] == ['a', 'b', 'c', 'theirs']
    assert result['tags'] == ['a', 'b', 'c', 'theirs'] and server.writes() == [('add_tag', 'b'), ('add_tag', 'b')]


def later_writer(server, change, seconds_later):
    """Before the task reads the image back, another writer saves ``change`` ``seconds_later`` after its write."""
    def hook(request):
        if not server.changed_later:
            server.changed_later = True
            server.now += seconds_later
            change(server.images['img'])
            server.images['img']['updated_at'] = server_stamp(server.now)
        return None
    server.changed_later = False
    server.before('get', hook)
    return server


def test_a_tag_an_operator_removes_after_the_task_added_it_stays_removed():
    server = later_writer(ImageServiceV2([IMAGE]), lambda image: image['tags'].remove('b'), seconds_later=2)
    with pytest.raises(GlanceError) as info:
        run(server, options(['b']))
    assert str(info.value) == ("another writer changed image demo (img) after this task's write: tag 'b' was removed "
                               "(this task wants it there); the task did not overwrite that: run it again to apply "
                               "it, or give tasks that write one image throttle: 1")
    assert server.images['img']['tags'] == ['a', 'c'] and server.writes() == [('add_tag', 'b')]


def test_conflicting_purges_never_both_succeed():
    # Purge [alpha] while another task purges [bravo]: its tag is not in this task's target.
    server = later_writer(ImageServiceV2([IMAGE]), lambda image: image['tags'].append('bravo'), seconds_later=0)
    with pytest.raises(GlanceError) as info:
        run(server, options(['alpha'], purge=True))
    assert "tag 'bravo' was added (this task wants it absent)" in str(info.value)
    assert sorted(server.images['img']['tags']) == ['alpha', 'bravo']
    assert server.writes() == [('remove_tag', 'a'), ('remove_tag', 'c'), ('add_tag', 'alpha')]


def test_a_purge_over_the_tag_quota_leaves_the_image_unchanged():
    server = ImageServiceV2([dict(IMAGE, tags=['a', 'b', 'c'])], tag_quota=3)
    with pytest.raises(GlanceError) as info:
        run(server, options(['x', 'y', 'z', 'w'], purge=True))
    assert 'the image is unchanged' in str(info.value) and info.value.status == 413
    assert server.images['img']['tags'] == ['a', 'b', 'c']


def test_an_admin_never_changes_another_projects_image_by_name():
    # The admin's project has no image 'demo'; project p's is visible to it, but a name does not reach it.
    server = ImageServiceV2([IMAGE])
    with pytest.raises(GlanceError) as info:
        run_workflow(ImageTagWorkflow(), TaskContext(options(['b'], purge=True)),
                     session_factory=lambda _params: server.session('admins', roles=['admin']))
    assert str(info.value).startswith("image 'demo' not found; image img of project p is not changed by its name")
    assert server.images['img']['tags'] == ['a', 'c'] and server.writes() == []
