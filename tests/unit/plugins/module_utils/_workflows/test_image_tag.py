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
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2, session_for

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
