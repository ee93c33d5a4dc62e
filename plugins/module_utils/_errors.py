# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one error family: every failure a task can meet, each fit for a one-line ``msg``.

The runner catches ``GlanceError`` and nothing else; ``fail_fields()`` says what a
failure adds to the task result besides ``msg``.
"""

from __future__ import annotations


def one_line(value):
    """Collapse any text (exception, HTML error page) into one line."""
    return ' '.join(str(value).split())


class GlanceError(Exception):
    """One failure talking to the cloud or validating input.

    ``status`` is the HTTP status (None when no request was answered),
    ``request_id`` the server's request id, ``action`` the operation that
    failed in Glance's own words (the policy rule name where there is one).
    ``transient`` is true when the failure may pass by itself (a gateway
    answer, a reset connection, a timeout): what the request asked for may or
    may not have happened. ``str()`` is a single line fit for a module's ``msg``.
    """

    def __init__(self, message, status=None, request_id=None, action=None, server_message=None, transient=False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.action = action
        self.server_message = server_message
        self.transient = transient

    def __str__(self):
        parts = [self.message]
        if self.status is not None:
            detail = 'HTTP %s' % self.status
            if self.request_id:
                detail += ', request %s' % self.request_id
            parts.append('(%s)' % detail)
        if self.server_message and self.server_message not in self.message:
            parts.append('- server said: %s' % self.server_message)
        return one_line(' '.join(parts))

    def reworded(self, message):
        """The same failure (status, request, server message) told with ``message``."""
        return GlanceError(message, status=self.status, request_id=self.request_id, action=self.action,
                           server_message=self.server_message, transient=self.transient)

    def as_result(self):
        return {
            'status': self.status,
            'request_id': self.request_id,
            'action': self.action,
        }

    def fail_fields(self):
        """What the failed task returns besides ``msg``."""
        return {'error': self.as_result()}


class PolicyError(GlanceError):
    """A policy file or a rule request that cannot be written; ``problems`` lists every one found."""

    def __init__(self, message, problems=None):
        super().__init__(message)
        self.problems = problems

    def fail_fields(self):
        return {'problems': self.problems} if self.problems else {}


class CheckStringError(PolicyError):
    """A check string that oslo.policy would not understand."""


class PolicyFileError(PolicyError):
    """A policy file whose content cannot be read as a rule mapping."""
