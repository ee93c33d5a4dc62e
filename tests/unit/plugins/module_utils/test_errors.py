# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import (
    CheckStringError, GlanceError, PolicyError, PolicyFileError, one_line,
)


def test_one_line():
    assert one_line('a\n  b\t c\r\n') == 'a b c'
    assert one_line(ValueError('x\ny')) == 'x y'


def test_a_failure_is_one_line_with_its_status_request_and_the_servers_words():
    error = GlanceError('add_member image x member y refused', status=403, request_id='req-1', action='add_member',
                        server_message='You are not\nauthorized')
    assert str(error) == ('add_member image x member y refused (HTTP 403, request req-1) - server said: You are not '
                          'authorized')
    assert str(GlanceError('plain')) == 'plain'
    assert str(GlanceError('said: busy', server_message='busy')) == 'said: busy'


def test_reworded_keeps_everything_but_the_message():
    error = GlanceError('x', status=503, request_id='req-2', action='upload_image', server_message='busy',
                        transient=True)
    again = error.reworded('member credentials: x')
    assert (again.message, again.status, again.request_id, again.action, again.server_message, again.transient) == (
        'member credentials: x', 503, 'req-2', 'upload_image', 'busy', True)


def test_what_a_failure_adds_to_the_result():
    assert GlanceError('x', status=404, request_id='r', action='get_image').fail_fields() == {
        'error': {'status': 404, 'request_id': 'r', 'action': 'get_image'}}
    assert PolicyError('x', problems=['a', 'b']).fail_fields() == {'problems': ['a', 'b']}
    assert PolicyError('x').fail_fields() == {}


def test_one_error_family():
    for kind in (PolicyError, CheckStringError, PolicyFileError):
        assert issubclass(kind, GlanceError)
    assert str(PolicyFileError('not UTF-8 text\n(byte 3)')) == 'not UTF-8 text (byte 3)'
