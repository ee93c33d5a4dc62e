# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from keystoneauth1 import exceptions as ksa_exceptions

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.failures import connection_failure_kind
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import (
    Http, RetryPolicy, parse_versions,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import PATCH_MEDIA_TYPE, ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import RecordChanges
from ansible_collections.cloudimage.glance.tests.unit.replay import NAMES, RecordedSession, load, reused


def client(session, attempts=1):
    # No pauses: a test never waits for a retry.
    return Http(session, session.root, policy=RetryPolicy(attempts=attempts), sleep=lambda seconds: None)


@pytest.mark.parametrize('name', NAMES)
def test_fixture_loads(name):
    document = load(name)
    keys = [exchange['key'] for exchange in document['exchanges']]
    assert len(keys) == len(set(keys))
    assert {'image', 'second image', 'member project', 'name'} <= set(document['ids'])
    for exchange in document['exchanges']:
        assert exchange['request']['path'].startswith('/')
        assert 100 <= exchange['response']['status'] < 600
        assert 'x-auth-token' not in {header.lower() for header in exchange['request']['headers']}


@pytest.mark.parametrize('name, majors', [('glance33-v2', {'2'}), ('pike-v1', {'1', '2'}), ('pike-v2', {'1', '2'})])
def test_version_discovery_replays(name, majors):
    session = RecordedSession(name, keys=['versions'])
    response = client(session).request('GET', '/', 'discover versions', ok=(200, 300), authenticated=False)
    assert response.status_code == 300
    assert parse_versions(response.json()) == majors
    assert session.sent[0].kwargs['authenticated'] is False


@pytest.mark.parametrize('name', ['glance33-v2', 'pike-v2'])
def test_v2_get_and_missing_image(name):
    session = RecordedSession(name, keys=['get', 'get_missing'])
    driver = ImageDriverV2(client(session))
    image = driver.get(session.ids['image'])
    assert image['id'] == session.ids['image']
    assert image['rec_prop'] == 'one'
    assert driver.get(session.ids['missing image']) is None
    assert [(sent.method, sent.path) for sent in session.sent] == [
        ('GET', '/v2/images/%s' % session.ids['image']), ('GET', '/v2/images/%s' % session.ids['missing image'])]


@pytest.mark.parametrize('name', ['glance33-v2', 'pike-v2'])
def test_v2_list_follows_next_links(name):
    session = RecordedSession(name, keys=['list_by_name_limit1', 'list_by_name_next', 'list_by_name_end'])
    driver = ImageDriverV2(client(session))
    listed = list(driver.list([('name', session.ids['name'])], page_size=1))
    assert sorted(image['id'] for image in listed) == sorted([session.ids['image'], session.ids['second image']])
    assert session.unanswered() == []


@pytest.mark.parametrize('name', ['glance33-v2', 'pike-v2'])
def test_v2_update_sends_json_patch(name):
    session = RecordedSession(name, keys=['get', 'patch'])
    driver = ImageDriverV2(client(session))
    raw = driver.get(session.ids['image'])
    image = driver.update(raw, RecordChanges(set_properties={'rec_prop': 'two', 'rec_added': 'yes'},
                                             removed_properties=['rec_old']))
    assert image['rec_prop'] == 'two' and 'rec_old' not in image
    sent = session.sent[1]
    assert sent.key == 'patch'
    assert sent.headers['content-type'] == PATCH_MEDIA_TYPE
    assert sent.data is not None and sent.json is None


@pytest.mark.parametrize('name', ['glance33-v2', 'pike-v2'])
def test_v2_member_added_twice_answers_409_then(name):
    session = RecordedSession(name, keys=['member_add', 'member_add_again'])
    driver = ImageDriverV2(client(session))
    member = session.ids['member project']
    assert driver.add_member(session.ids['image'], member) is True
    assert driver.add_member(session.ids['image'], member) is False
    assert [sent.key for sent in session.sent] == ['member_add', 'member_add_again']
    assert session.sent[0].json == {'member': member}


def test_v2_error_carries_server_message_and_request_id():
    session = RecordedSession('glance33-v2', keys=['download_deactivated'])
    driver = ImageDriverV2(client(session))
    with pytest.raises(GlanceError) as info:
        list(driver.download(session.ids['image']))
    recorded = session.exchange('download_deactivated')['response']
    assert info.value.status == 403
    assert info.value.request_id == recorded['headers']['x-openstack-request-id']
    assert 'deactivated' in str(info.value.server_message)


def test_v2_download_streams_the_recorded_data():
    session = RecordedSession('glance33-v2', keys=['download'])
    driver = ImageDriverV2(client(session))
    assert b''.join(driver.download(session.ids['image'], chunk_size=4)) == b'recorded image data\n'
    assert session.sent[0].kwargs['stream'] is True


def test_v1_get_reads_headers_then_the_listing():
    session = RecordedSession('pike-v1', keys=['head', 'list_by_name'])
    driver = ImageDriverV1(client(session))
    image = driver.get(session.ids['image'])
    assert image['id'] == session.ids['image']
    assert image['properties'] == {'rec_prop': 'one', 'rec_old': 'old'}
    assert [sent.method for sent in session.sent] == ['HEAD', 'GET']


def test_v1_upload_sends_the_body_and_its_size():
    session = RecordedSession('pike-v1', keys=['upload'])
    driver = ImageDriverV1(client(session))
    image = driver.upload(session.ids['image'], iter([b'recorded ', b'image data\n']), 20)
    assert image['status'] == 'active'
    sent = session.sent[0]
    assert sent.data == b'recorded image data\n'
    assert sent.headers['x-image-meta-size'] == '20'
    assert sent.headers['x-glance-registry-purge-props'] == 'false'


def test_v1_missing_image_is_none():
    session = RecordedSession('pike-v1', keys=['head_missing'])
    assert ImageDriverV1(client(session)).get(session.ids['missing image']) is None


def test_unrecorded_request_fails_the_test():
    session = RecordedSession('glance33-v2', keys=['get'])
    with pytest.raises(AssertionError, match='no recorded answer for DELETE'):
        session.request(session.root + '/v2/images/%s' % session.ids['image'], 'DELETE', raise_exc=False)


def test_request_outside_the_endpoint_fails_the_test():
    session = RecordedSession('glance33-v2', keys=['get'])
    with pytest.raises(AssertionError, match='outside the recorded endpoint'):
        session.get('http://elsewhere:9292/v2/images/%s' % session.ids['image'], raise_exc=False)


def test_query_must_match_in_any_order():
    session = RecordedSession('glance33-v2', keys=['list_by_name'])
    name = session.ids['name']
    response = session.get(session.root + '/v2/images', params=[('limit', '200'), ('name', name)], raise_exc=False)
    assert response.status_code == 200
    with pytest.raises(AssertionError):
        session.get(session.root + '/v2/images', params=[('name', name)], raise_exc=False)


def test_unknown_key_is_refused():
    with pytest.raises(KeyError):
        RecordedSession('pike-v1', keys=['tag_add'])


def test_same_request_answers_in_the_order_of_keys_and_the_last_repeats():
    session = RecordedSession('glance33-v2', keys=['get_deactivated', 'get'])
    url = session.root + '/v2/images/%s' % session.ids['image']
    statuses = [session.get(url).json()['status'] for _attempt in range(3)]
    assert statuses == ['deactivated', 'queued', 'queued']
    assert session.unanswered() == []


def test_error_answers_raise_as_keystoneauth_does_unless_told_not_to():
    session = RecordedSession('glance33-v2', keys=['get_missing'])
    url = session.root + '/v2/images/%s' % session.ids['missing image']
    assert session.get(url, raise_exc=False).status_code == 404
    with pytest.raises(ksa_exceptions.NotFound):
        session.get(url)


def test_a_lost_answer_reaches_the_server_and_not_the_client():
    session = RecordedSession('glance33-v2', keys=['member_add', 'member_add_again'], lost=['member_add'])
    url = session.root + '/v2/images/%s/members' % session.ids['image']
    with pytest.raises(ksa_exceptions.ConnectFailure) as info:
        session.post(url, json={'member': session.ids['member project']}, raise_exc=False)
    assert connection_failure_kind(info.value) == 'reset'
    # Sent again, the request meets what its first attempt did.
    assert session.post(url, raise_exc=False).status_code == 409
    assert [(sent.key, sent.lost) for sent in session.sent] == [('member_add', True), ('member_add_again', False)]


def test_lost_answer_of_an_exchange_that_cannot_answer_is_refused():
    with pytest.raises(KeyError):
        RecordedSession('glance33-v2', keys=['get'], lost=['patch'])


def test_reused_answer_answers_another_request():
    path = '/v2/images/%s/tags/rec-d' % load('glance33-v2')['ids']['image']
    extra = reused('glance33-v2', 'patch_too_many_tags', 'tag_add_over_limit', 'PUT', path)
    session = RecordedSession('glance33-v2', keys=['tag_add'], extra=[extra])
    response = session.put(session.root + path, raise_exc=False)
    assert response.status_code == 413
    assert session.exchange('tag_add_over_limit')['reused'] == 'patch_too_many_tags'
    assert response.headers['x-openstack-request-id'] == \
        session.exchange('patch_too_many_tags')['response']['headers']['x-openstack-request-id']
    assert session.unanswered() == ['tag_add']
