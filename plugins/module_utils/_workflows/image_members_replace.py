# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_members_replace: the whole member list of one image, made exactly the list given."""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.session import MemberSessions
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.base import Need
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records import members as membership
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import Workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.membership import (
    check_members_allowed, converge, resolve_member,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.lookup import Scope, require_image


class ImageMembersReplaceWorkflow(Workflow):

    def __init__(self):
        self.entries = []

    def validate(self, params):
        self.entries = parse_entries(params['members'])
        duplicates = membership.find_duplicates(entry['project'] for entry in self.entries
                                                if entry['project'] is not None)
        if duplicates:
            raise GlanceError('members lists the same project more than once: %s' % ', '.join(duplicates))
        for entry in self.entries:
            if entry['status'] is not None and entry['status'] not in membership.STATUSES:
                raise GlanceError('status of member %s must be one of %s, got %r'
                                  % (label(entry), ', '.join(membership.STATUSES), entry['status']))
        return params

    def needs(self, params):
        needs = []
        for entry in self.entries:
            if entry['can_share'] is not None:
                needs.append(Need('can_share', what='can_share (member %s)' % label(entry)))
            if entry['status'] is not None or entry['cloud'] is not None:
                needs.append(Need('member_status', what='status (and member credentials to set it) (member %s)'
                                  % label(entry)))
        return needs

    def run(self, context):
        session = context.session
        desired, status_drivers = self.desired_members(context)
        image = require_image(context.driver, Scope.owned_by(session.project_id), context.params['image'])
        if not context.driver.has_members(image):
            if desired:
                check_members_allowed(context.driver, image)
            current, plan = [], membership.Plan([])
        else:
            current = context.driver.members(image['id'])
            plan = membership.plan(current, desired, context.driver.capabilities, purge=True)
        tracker, final, writer = converge(context, image, current, plan, status_drivers, wanted=desired)
        effective = plan if context.check_mode or not plan else membership.Plan(writer.effective)
        return tracker.result(members=final, added=effective.added, removed=effective.removed,
                              updated=effective.updated)

    def desired_members(self, context):
        """(the wanted member list by project ID, {member ID: the driver that sets its status})."""
        session = context.session
        sessions = MemberSessions(context.params)
        desired, status_sessions = [], {}
        for entry in self.entries:
            member_session = sessions.get(entry['cloud']) if entry['cloud'] is not None else None
            member_id = resolve_member(session, entry['project'], member_session)
            desired.append({'member_id': member_id, 'can_share': entry['can_share'], 'status': entry['status']})
            if entry['status'] is not None:
                status_sessions[member_id] = member_session
        duplicates = membership.find_duplicates(entry['member_id'] for entry in desired)
        if duplicates:
            raise GlanceError('members names the same project more than once (by name and by ID): %s'
                              % ', '.join(duplicates))
        missing = sorted(member_id for member_id, member_session in status_sessions.items()
                         if member_session is None and member_id != session.project_id)
        if missing and not session.is_admin:
            raise GlanceError('the status of member(s) %s can only be set with their own credentials: give cloud '
                              '(the member credentials) in those entries, run as the member, or use an admin'
                              % ', '.join(missing))
        return desired, {member_id: (member_session or session).driver
                         for member_id, member_session in status_sessions.items()}


def label(entry):
    return entry['project'] or 'given by cloud'


def parse_entries(members):
    """The ``members`` option as dicts with project, can_share, status and cloud."""
    entries = []
    for item in members or []:
        if isinstance(item, dict):
            unknown = sorted(set(item) - {'project', 'can_share', 'status', 'cloud'})
            if unknown:
                raise GlanceError('unknown key(s) %s in a members entry; use project, can_share, status, cloud'
                                  % ', '.join(unknown))
            if item.get('project') in (None, '') and item.get('cloud') is None:
                raise GlanceError('each members entry needs project (or cloud, the member credentials)')
            if item.get('project') is not None and not isinstance(item['project'], (str, int)):
                kind = 'a list' if isinstance(item['project'], list) else 'a mapping' \
                    if isinstance(item['project'], dict) else type(item['project']).__name__
                raise GlanceError('members entry project must be a project name or ID, got %s' % kind)
            can_share = item.get('can_share')
            if can_share is not None and not isinstance(can_share, bool):
                can_share = _boolean(can_share)
            entries.append({'project': None if item.get('project') is None else str(item['project']),
                            'can_share': can_share, 'status': item.get('status'), 'cloud': item.get('cloud')})
        elif isinstance(item, (str, int)) and str(item):
            entries.append({'project': str(item), 'can_share': None, 'status': None, 'cloud': None})
        else:
            raise GlanceError('members entries must be project names or IDs, or dicts with project; got %r' % (item,))
    return entries


def _boolean(value):
    text = str(value).strip().lower()
    if text in ('true', 'yes', 'on', '1'):
        return True
    if text in ('false', 'no', 'off', '0'):
        return False
    raise GlanceError('can_share must be a boolean, got %r' % (value,))
