# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_member: one member of one image, from the owner's side, the member's, or both in one task."""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.session import MemberSessions
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.base import Need
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records import members as membership
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import describe
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import Workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.membership import (
    check_members_allowed, converge, resolve_member,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.lookup import Scope, require_image


class ImageMemberWorkflow(Workflow):

    def validate(self, params):
        if params['state'] == 'absent' and (params.get('status') is not None or params.get('can_share') is not None):
            raise GlanceError('status and can_share apply only with state present')
        if params.get('member') is None and params.get('member_cloud') is None and params.get('status') is None:
            raise GlanceError('member is required (it may be left out only with member_cloud, '
                              'or with status when the task runs as the member)')
        return params

    def needs(self, params):
        needs = []
        if params.get('can_share') is not None:
            needs.append(Need('can_share', what='can_share (members sharing onward)'))
        if params.get('status') is not None:
            needs.append(Need('member_status', what='status (accepting or rejecting an image)'))
        return needs

    def run(self, context):
        params, session = context.params, context.session
        member_session = MemberSessions(params).get(params['member_cloud']) if params.get('member_cloud') else None
        if params.get('member') is None and member_session is None:
            member_id = session.project_id
        else:
            member_id = resolve_member(session, params.get('member'), member_session)
        status_drivers = {}
        if params.get('status') is not None:
            status_drivers[member_id] = status_session(session, member_id, member_session).driver

        image = require_image(context.driver, Scope.own_then_shared_with(session.project_id), params['image'])
        if not context.driver.has_members(image):
            if params['state'] == 'present':
                check_members_allowed(context.driver, image)
            return member_result(context, image, member_id, [], membership.Plan([]), status_drivers)
        read = members_reader(context, image, member_id, member_session)
        current = read()
        if params['state'] == 'absent':
            plan = membership.plan_absent(current, member_id)
        else:
            check_listed_or_owner(context, image, member_id, current)
            desired = [{'member_id': member_id, 'can_share': params.get('can_share'), 'status': params.get('status')}]
            plan = membership.plan(current, desired, context.driver.capabilities, purge=False)
        return member_result(context, image, member_id, current, plan, status_drivers, read)


def status_session(session, member_id, member_session=None):
    """The session allowed to set ``member_id``'s status: the member's own, or an admin's."""
    if member_session is not None:
        return member_session
    if member_id == session.project_id or session.is_admin:
        return session
    raise GlanceError('the status of member %s can only be set with its own credentials: run the task as that '
                      'project, give its credentials (member_cloud, or cloud in the member entry), or use an admin'
                      % member_id)


def check_listed_or_owner(context, image, member_id, current):
    """Where members answer for themselves, a project cannot make itself a member of another's image."""
    listed = any(member['member_id'] == member_id for member in current)
    if (not listed and context.driver.capabilities.member_status and member_id == context.session.project_id
            and image.get('owner') != member_id):
        raise GlanceError('%s is not shared with project %s: its owner must add the member first'
                          % (describe(image), member_id))


def members_reader(context, image, member_id, member_session):
    """How to read the member list: as the caller, plus the member's own view where the caller's misses it.

    Where members share onward (can_share), a member sees only its own
    membership, not those it creates; the new member's credentials can read its own.
    """
    driver, session = context.driver, context.session

    def read():
        return driver.members(image['id'])

    onward = (driver.capabilities.can_share and member_id != session.project_id
              and image.get('owner') not in (None, session.project_id) and not session.is_admin)
    if not onward:
        return read
    if member_session is None:
        context.warn('on %s only the owner of %s can list its members, so whether project %s already is one '
                     'cannot be checked: the member is sent again and reported as changed; give member_cloud (the '
                     "member's credentials) to check it" % (driver.label, describe(image), member_id))
        return read

    def read_with_member():
        seen = read()
        if not any(member['member_id'] == member_id for member in seen):
            try:
                own = member_session.driver.members(image['id'])
            except GlanceError as exc:
                if exc.status != 404:
                    raise
                own = []  # not a member yet: the image is invisible to it
            seen += [member for member in own if member['member_id'] == member_id]
        return seen
    return read_with_member


def member_result(context, image, member_id, current, plan, status_drivers, read=None):
    tracker, final, _writer = converge(context, image, current, plan, status_drivers, wanted=None, read=read)
    entry = next((member for member in final if member['member_id'] == member_id), None)
    return tracker.result(member=entry, members=final)
