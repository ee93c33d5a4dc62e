# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import io
import random

import pytest
from keystoneauth1 import exceptions as ksa_exceptions

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import (
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, MAX_PAGES, Http, Pages, RetryPolicy, endpoint_root,
    error_from_response, parse_versions, retry_window, server_message,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.tests.unit.doubles import (
    Response, ScriptedSession, http, refused_failure, reset_failure,
)

GENERIC_500 = ('<html><head><title>500 Internal Server Error</title></head><body><h1>500 Internal Server Error</h1>'
               'The server has either erred or is incapable of performing the requested operation.<br /><br />'
               '</body></html>')
IMAGE_ID = '6a0b4f67-6b0e-4cf4-9d54-5d0c2b0a1f11'
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


def test_error_from_response_is_one_line_with_action_status_and_request_id():
    response = Response(403, text='<h1>403 Forbidden</h1>\nYou are not authorized to complete add_member action.',
                        headers={'x-openstack-request-id': 'req-1234'})
    error = error_from_response(response, 'add_member', 'image abc member def')
    text = str(error)
    assert text.startswith('add_member image abc member def refused (HTTP 403, request req-1234)')
    assert 'You are not authorized to complete add_member action.' in text
    assert '\n' not in text
    assert error.as_result() == {'status': 403, 'request_id': 'req-1234', 'action': 'add_member'}


# -- which requests are retried ------------------------------------------------------
@pytest.mark.parametrize('method', ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'])
@pytest.mark.parametrize('status', [502, 503, 504])
def test_idempotent_methods_are_retried_on_gateway_answers(method, status):
    assert RetryPolicy().retriable(method, status=status)


@pytest.mark.parametrize('status', [500, 502, 503, 504])
def test_plain_post_is_never_retried(status):
    assert not RetryPolicy().retriable('POST', status=status, body=GENERIC_500)
    assert not RetryPolicy().retriable('POST', failure=reset_failure())


def test_post_made_idempotent_by_its_caller_is_retried():
    assert RetryPolicy().retriable('POST', idempotent=True, status=504)
    assert RetryPolicy().retriable('POST', idempotent=True, failure=reset_failure())


def test_streamed_put_is_not_retried_when_its_caller_says_so():
    assert not RetryPolicy().retriable('PUT', idempotent=False, status=503)


@pytest.mark.parametrize('body, retried', [
    (GENERIC_500, True),
    ('', True),
    ('{"message": "Failed to parse the image checksum", "code": 500}', False),
])
def test_only_glance_generic_500_is_transient(body, retried):
    assert RetryPolicy().retriable('GET', status=500, body=body) is retried


@pytest.mark.parametrize('status', [400, 401, 403, 404, 409, 413, 501])
def test_client_errors_are_final(status):
    assert not RetryPolicy().retriable('GET', status=status)


def test_connection_refused_is_final_reset_and_timeout_are_not():
    policy = RetryPolicy()
    assert not policy.retriable('GET', failure=refused_failure())
    assert policy.retriable('GET', failure=reset_failure())
    assert policy.retriable('GET', failure=ksa_exceptions.ConnectTimeout('Request to http://glance/ timed out'))


def test_pauses_grow_exponentially_with_jitter_and_a_ceiling():
    policy = RetryPolicy(first_pause=0.25, longest_pause=4.0, rng=random.Random(1))
    for attempt, ceiling in [(1, 0.25), (2, 0.5), (3, 1.0), (4, 2.0), (5, 4.0), (6, 4.0), (9, 4.0)]:
        pauses = [policy.pause(attempt) for _draw in range(200)]
        assert ceiling / 2 <= min(pauses) and max(pauses) <= ceiling
        assert len(set(pauses)) > 100  # jittered, not one fixed value


def test_no_attempt_beyond_the_count_or_the_window():
    policy = RetryPolicy(attempts=3, window=10.0, rng=random.Random(1))
    assert policy.next_pause(1, started=0.0, now=0.0) is not None
    assert policy.next_pause(3, started=0.0, now=0.0) is None
    assert policy.next_pause(1, started=0.0, now=9.99) is None


# -- the transport loop -----------------------------------------------------------------
def test_get_is_retried_until_it_succeeds():
    session = ScriptedSession(Response(503, text='busy'), reset_failure(), Response(200, {'images': []}))
    client = http(session)
    response = client.request('GET', '/v2/images', 'get_images')
    assert response.status_code == 200 and response.retried
    assert len(session.calls) == 3 and len(client.pauses) == 2
    assert all(kwargs['connect_retries'] == 0 and kwargs['status_code_retries'] == 0
               for _m, _u, kwargs in session.calls)


def test_post_is_sent_once():
    session = ScriptedSession(Response(503, text='busy'))
    with pytest.raises(GlanceError) as info:
        http(session).request('POST', '/v2/images', 'add_image', 'image x', ok=(201,))
    assert len(session.calls) == 1
    assert str(info.value).startswith('add_image image x failed (HTTP 503)')


def test_retries_stop_after_the_last_attempt_with_one_line():
    session = ScriptedSession(*[Response(504, text='<h1>Gateway Timeout</h1>')] * 3)
    with pytest.raises(GlanceError) as info:
        http(session, attempts=3).request('DELETE', '/v2/images/x', 'delete_image', 'image x', ok=(204,))
    assert len(session.calls) == 3
    assert info.value.status == 504 and info.value.transient
    assert '\n' not in str(info.value)


def test_a_refused_connection_fails_at_once_naming_the_endpoint():
    session = ScriptedSession(refused_failure('http://glance/v2/images'))
    with pytest.raises(GlanceError) as info:
        http(session).request('GET', '/v2/images', 'get_images')
    assert len(session.calls) == 1
    assert str(info.value) == 'get_images: connection refused by http://glance/v2/images'
    assert not info.value.transient


def test_first_success_is_not_marked_retried():
    response = http(ScriptedSession(Response(200, {}))).request('GET', '/', 'discover')
    assert response.retried is False


def test_a_2xx_answer_that_is_not_json_is_one_line():
    session = ScriptedSession(Response(200, text='<html>captive portal</html>', headers={'Content-Type': 'text/html'}))
    with pytest.raises(GlanceError) as info:
        http(session).request('GET', '/v2/images/%s' % IMAGE_ID, 'get_image', 'image %s' % IMAGE_ID).json()
    assert str(info.value) == ('get_image image %s: the image endpoint answered HTTP 200 with a body that is not '
                               'JSON (text/html)' % IMAGE_ID)


# -- bounded time ------------------------------------------------------------------------
class SilentEndpoint:
    """An endpoint that accepts and never answers: each attempt ends in a timeout after ``seconds``."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.now = 0.0
        self.calls = []

    def clock(self):
        return self.now

    def request(self, url, method, **kwargs):
        self.calls.append((method, url, kwargs))
        self.now += self.seconds
        raise ksa_exceptions.ConnectTimeout('Request to %s timed out' % url)

    def sleep(self, seconds):
        self.now += seconds


def silent_http(endpoint, timeout):
    return Http(endpoint, 'http://ci:pw@glance', timeout=timeout, sleep=endpoint.sleep, clock=endpoint.clock)


def test_without_api_timeout_every_request_has_a_connect_and_a_read_timeout():
    session = ScriptedSession(Response(200, {'images': []}))
    Http(session, 'http://glance').request('GET', '/v2/images', 'get_images')
    assert session.calls[0][2]['timeout'] == (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)


def test_a_streamed_body_is_bounded_by_progress_not_by_its_length():
    # The connect timeout also limits each write of the body: a streamed body waits as long as for an answer.
    session = ScriptedSession(Response(204))
    Http(session, 'http://glance').request('PUT', '/v2/images/x/file', 'upload_image', data=io.BytesIO(b'data'),
                                           ok=(204,), idempotent=False)
    assert session.calls[0][2]['timeout'] == (DEFAULT_READ_TIMEOUT, DEFAULT_READ_TIMEOUT)


def test_api_timeout_is_the_timeout_of_each_attempt():
    session = ScriptedSession(Response(200, {'images': []}))
    Http(session, 'http://glance', timeout=7).request('GET', '/v2/images', 'get_images')
    assert session.calls[0][2]['timeout'] == 7.0


@pytest.mark.parametrize('api_timeout', [2, 30, None])
def test_a_timed_out_read_is_retried_within_the_window(api_timeout):
    endpoint = SilentEndpoint(api_timeout or DEFAULT_READ_TIMEOUT)
    with pytest.raises(GlanceError) as info:
        silent_http(endpoint, api_timeout).request('GET', '/v2/images', 'get_images')
    assert len(endpoint.calls) > 1
    # No attempt starts after the window: the whole request ends within it and one more attempt.
    assert endpoint.now <= retry_window(api_timeout) + (api_timeout or DEFAULT_READ_TIMEOUT)
    assert info.value.transient


def test_a_silent_endpoint_fails_in_one_line_naming_it_without_secrets():
    endpoint = SilentEndpoint(2)
    with pytest.raises(GlanceError) as info:
        silent_http(endpoint, 2).request('GET', '/v2/images', 'get_images')
    assert str(info.value) == ('get_images: timed out after 2 s waiting for http://********@glance/v2/images '
                               '(%d attempts)' % len(endpoint.calls))


def test_without_api_timeout_a_silent_endpoint_names_the_default_timeouts():
    endpoint = SilentEndpoint(DEFAULT_READ_TIMEOUT)
    with pytest.raises(GlanceError) as info:
        silent_http(endpoint, None).request('GET', '/', 'discover versions')
    assert str(info.value).startswith('discover versions: timed out waiting for http://********@glance/ '
                                      '(no connection within 10 s or no answer within 60 s; see api_timeout)')


def test_the_retry_window_is_apart_from_the_timeout_of_one_attempt():
    assert retry_window(None) == retry_window(DEFAULT_READ_TIMEOUT) >= 2 * DEFAULT_READ_TIMEOUT
    assert retry_window(2) >= 60
    assert retry_window(100) >= 200


def test_glance_generic_500_gets_a_few_attempts_not_the_whole_window():
    session = ScriptedSession(*[Response(500, text=GENERIC_500)] * 6)
    client = http(session)
    with pytest.raises(GlanceError) as info:
        client.request('PUT', '/v1/images/x/members/y', 'modify_member', 'image x member y')
    assert len(session.calls) == RetryPolicy().server_error_attempts == 3
    assert info.value.status == 500 and info.value.transient


@pytest.mark.parametrize('failure', [lambda: Response(503, text='busy'), reset_failure])
def test_gateway_answers_and_resets_keep_every_attempt(failure):
    session = ScriptedSession(*[failure() for _attempt in range(6)])
    with pytest.raises(GlanceError):
        http(session).request('GET', '/v2/images', 'get_images')
    assert len(session.calls) == 6


# -- bounded paging ------------------------------------------------------------------------
def test_pages_that_repeat_fail_in_one_line_naming_the_endpoint():
    pages = Pages('http://ci:pw@glance', '/v2/images', 'get_images')
    pages.visit('/v2/images', [('limit', '2')])
    pages.visit('/v2/images', [('limit', '2'), ('marker', 'a')])
    with pytest.raises(GlanceError) as info:
        pages.visit('/v2/images', [('marker', 'a'), ('limit', '2')])
    assert str(info.value) == ('get_images: pages repeat at http://********@glance/v2/images (page 3 would be '
                               'page 2 again); the endpoint or a proxy in front of it does not page correctly')


def test_pages_are_bounded():
    pages = Pages('http://glance', '/v2/images', 'get_images')
    for number in range(MAX_PAGES):
        pages.visit('/v2/images', [('marker', str(number))])
    with pytest.raises(GlanceError) as info:
        pages.visit('/v2/images', [('marker', 'last')])
    assert str(info.value) == ('get_images: more than %d pages at http://glance/v2/images; stopped, as pages repeat '
                               'or never end' % MAX_PAGES)
