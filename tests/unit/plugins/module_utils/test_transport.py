from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.transport import (
    choose_version, endpoint_root, error_from_response, parse_versions, server_message,
)

GLANCE_33_ROOT = {'versions': [
    {'id': 'v2.17', 'status': 'CURRENT'}, {'id': 'v2.16', 'status': 'SUPPORTED'}, {'id': 'v2.0', 'status': 'SUPPORTED'},
]}
PIKE_ROOT = {'versions': [
    {'id': 'v2.5', 'status': 'CURRENT'}, {'id': 'v2.0', 'status': 'SUPPORTED'},
    {'id': 'v1.1', 'status': 'DEPRECATED'}, {'id': 'v1.0', 'status': 'DEPRECATED'},
]}


@pytest.mark.parametrize('url, root', [
    ('http://127.0.0.1:9292', 'http://127.0.0.1:9292'),
    ('http://127.0.0.1:9292/', 'http://127.0.0.1:9292'),
    ('http://127.0.0.1:9292/v2', 'http://127.0.0.1:9292'),
    ('http://127.0.0.1:9292/v2/', 'http://127.0.0.1:9292'),
    ('https://cloud.example/image/v2.1', 'https://cloud.example/image'),
    ('https://cloud.example/image/v1', 'https://cloud.example/image'),
    ('https://cloud.example/v2images', 'https://cloud.example/v2images'),
])
def test_endpoint_root(url, root):
    assert endpoint_root(url) == root


@pytest.mark.parametrize('document, majors', [
    (GLANCE_33_ROOT, {'2'}),
    (PIKE_ROOT, {'1', '2'}),
    ({'versions': [{'id': 'v3.0', 'status': 'EXPERIMENTAL'}]}, set()),
    ({}, set()),
    (None, set()),
])
def test_parse_versions(document, majors):
    assert parse_versions(document) == majors


@pytest.mark.parametrize('requested, offered, chosen', [
    ('auto', {'1', '2'}, '2'),
    ('auto', {'1'}, '1'),
    ('1', {'1', '2'}, '1'),
    ('2', {'2'}, '2'),
])
def test_choose_version(requested, offered, chosen):
    assert choose_version(requested, offered, 'http://x') == chosen


@pytest.mark.parametrize('requested, offered, text', [
    ('1', {'2'}, 'does not offer Image API v1 (offered: v2)'),
    ('auto', set(), 'offers no Image API version'),
])
def test_choose_version_refuses(requested, offered, text):
    with pytest.raises(GlanceError, match=r'.*') as info:
        choose_version(requested, offered, 'http://x')
    assert text in str(info.value)
    assert '\n' not in str(info.value)


@pytest.mark.parametrize('body, message', [
    ('<html>\n <head>\n  <title>403 Forbidden</title>\n </head>\n <body>\n  <h1>403 Forbidden</h1>\n'
     '  You are not authorized to complete publicize_image action.<br /><br />\n\n\n\n </body>\n</html>',
     '403 Forbidden: You are not authorized to complete publicize_image action.'),
    ('{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}',
     'The request you have made requires authentication.'),
    ('{"message": "Image quota exceeded"}', 'Image quota exceeded'),
    ('', ''),
    ('plain\ntext', 'plain text'),
    ('<html><title>Bad Request</title><h1>Bad Request</h1>Invalid HTTP Header: &#x27;X&#x27;</html>',
     "Bad Request: Invalid HTTP Header: 'X'"),
])
def test_server_message(body, message):
    assert server_message(body) == message


class FakeResponse:
    def __init__(self, status_code, text, headers=None):
        self.status_code = status_code
        self.text = text
        self.headers = headers or {}


def test_error_from_response_is_one_line_with_action_status_and_request_id():
    response = FakeResponse(403, '<h1>403 Forbidden</h1>\nYou are not authorized to complete add_member action.',
                            {'x-openstack-request-id': 'req-1234'})
    error = error_from_response(response, 'add_member', 'image abc member def')
    text = str(error)
    assert text.startswith('add_member image abc member def refused (HTTP 403, request req-1234)')
    assert 'You are not authorized to complete add_member action.' in text
    assert '\n' not in text
    assert error.as_result() == {'status': 403, 'request_id': 'req-1234', 'action': 'add_member'}
