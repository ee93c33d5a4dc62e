# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The work of image_tag, image_member and image_members_replace.

Reads first, computes what differs (``members.plan``, ``tag_changes``), then
writes only that. In check mode nothing but reads is sent.
"""

from __future__ import annotations

import json
import re
import threading
import time

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.cloudimage.glance.plugins.module_utils import lost_updates, members as membership
from ansible_collections.cloudimage.glance.plugins.module_utils.client import GlanceClient
from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.diff import DifferenceTracker
from ansible_collections.cloudimage.glance.plugins.module_utils.image_diff import tag_target, validate_tags
from ansible_collections.cloudimage.glance.plugins.module_utils.lost_updates import WantedState

# Parallel member writes on v2. Small on purpose: Glance serializes member
# writes per image in its database anyway, and SQLite-backed servers answer
# bursts with retried 500s.
WORKERS = 4
QUOTA_MAXIMUM = re.compile(r'Maximum:\s*(\d+)')
SKIPPED = object()


# -- credentials ---------------------------------------------------------
def _access(client):
    try:
        session = client.conn.session
        return session.auth.get_access(session)
    except Exception:
        return None


def project_name(client):
    access = _access(client)
    return getattr(access, 'project_name', None) if access is not None else None


def is_admin(client):
    access = _access(client)
    roles = getattr(access, 'role_names', None) if access is not None else None
    return 'admin' in (roles or [])


class MemberClients:
    """Connections with a member project's own credentials, one per cloud given."""

    def __init__(self, params):
        self.params = params
        self._clients = {}

    def get(self, cloud):
        key = json.dumps(cloud, sort_keys=True, default=str)
        if key not in self._clients:
            try:
                self._clients[key] = GlanceClient(dict(self.params, cloud=cloud, auth=None))
            except GlanceError as exc:
                raise GlanceError('member credentials: %s' % exc.message, status=exc.status,
                                  request_id=exc.request_id, action=exc.action,
                                  server_message=exc.server_message) from exc
        return self._clients[key]


def resolve_member(client, reference, member_client=None):
    """Project ID of a member given by name or ID; with the member's own client, its project."""
    if member_client is not None:
        own = member_client.project_id
        if reference is None or reference in (own, project_name(member_client)):
            return own
        raise GlanceError('the member credentials authenticate to project %s (%s), not to %r'
                          % (project_name(member_client), own, reference))
    return client.resolve_project(reference)


def status_client(client, member_id, member_client=None):
    """The client allowed to set ``member_id``'s status: the member's own, or an admin's."""
    if member_client is not None:
        return member_client
    if member_id == client.project_id or is_admin(client):
        return client
    raise GlanceError('the status of member %s can only be set with its own credentials: run the task as that '
                      'project, give its credentials (member_cloud, or cloud in the member entry), or use an admin'
                      % member_id)


# -- images --------------------------------------------------------------
def find_image(client, reference):
    """The image by ID, else by name among the caller's own images, else among those shared with it."""
    image = client.find_image(name=reference, owner=client.project_id)
    return image if image is not None else client.require_image(reference)


def describe(image):
    return 'image %s (%s)' % (image.get('name'), image.get('id'))


def members_allowed(client, image):
    """v2 keeps members only on images with visibility ``shared``."""
    return client.version == '1' or image.get('visibility') == 'shared'


def not_shared_error(image):
    return GlanceError('%s has visibility %s: only images with visibility shared have members; '
                       'set visibility: shared first (this module never changes visibility)'
                       % (describe(image), image.get('visibility')))


# -- writes --------------------------------------------------------------
def quota_of(error):
    match = QUOTA_MAXIMUM.search(error.server_message or error.message or '')
    return int(match.group(1)) if match else None


def quota_error(error, image, wanted=None, added=0, undone=False):
    quota = quota_of(error)
    allowed = 'at most %d members per image' % quota if quota is not None else 'fewer members'
    message = 'the server allows %s on %s (image_member_quota)' % (allowed, describe(image))
    if wanted is not None:
        message += ' and the task asks for %d' % wanted
    if undone:
        message += '; %d member(s) were added before the server refused and were removed again, ' \
                   'so the member list is unchanged' % added
    elif added:
        message += '; %d member(s) were added before the server refused' % added
    else:
        message += '; nothing was changed'
    return GlanceError(message, status=error.status, request_id=error.request_id, action=error.action,
                       server_message=error.server_message)


class Writer:
    """Sends membership operations for one image and keeps count of what took effect."""

    def __init__(self, client, image, status_clients=None, workers=WORKERS):
        self.client = client
        self.api = client.api
        self.image = image
        self.image_id = image['id']
        self.status_clients = status_clients or {}
        self.workers = workers
        self.effective = []
        self.sent = 0
        self._lock = threading.Lock()

    def send(self, op):
        """Send one operation; True when it changed the server (False: another writer got there first)."""
        with self._lock:
            self.sent += 1
        if op.kind == membership.ADD:
            done = self.api.add_member(self.image_id, op.member_id,
                                       can_share=op.value if self.client.version == '1' else None)
        elif op.kind == membership.REMOVE:
            done = self.api.remove_member(self.image_id, op.member_id)
        elif op.kind == membership.CAN_SHARE:
            # v1: the add call on an existing member sets its can_share.
            done = self.api.add_member(self.image_id, op.member_id, can_share=op.value)
        else:
            client = self.status_clients.get(op.member_id, self.client)
            client.api.set_member_status(self.image_id, op.member_id, op.value)
            done = True
        if done:
            with self._lock:
                self.effective.append(op)
        return done

    def batch(self, operations):
        """Send ``operations`` (independent of each other), at most ``workers`` at a time.

        Once one fails, operations not started yet are skipped. Returns
        (operation, outcome, error) triples in the given order; outcome is
        SKIPPED for operations never sent.
        """
        stop = threading.Event()

        def guarded(op):
            if stop.is_set():
                return op, SKIPPED, None
            try:
                return op, self.send(op), None
            except GlanceError as exc:
                stop.set()
                return op, None, exc

        if len(operations) <= 1 or self.workers <= 1:
            return [guarded(op) for op in operations]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(operations))) as pool:
            return list(pool.map(guarded, operations))

    def failed(self, error, total):
        done = len(self.effective)
        return GlanceError('%s (%d of %d member change(s) were made before this failure)' % (error.message, done, total),
                           status=error.status, request_id=error.request_id, action=error.action,
                           server_message=error.server_message)

    def apply_v2(self, plan, wanted):
        """Adds, then removals, then status changes; independent calls in parallel.

        Adds go first so that a list the server cannot hold (HTTP 413, member
        quota) is refused before anything is removed; the adds already made are
        then taken back. When the list fits once removals are done, the refused
        adds are sent again after them.
        """
        total = len(plan)
        results = self.batch(plan.of_kind(membership.ADD))
        errors = [error for _op, _outcome, error in results if error is not None]
        over_quota = [error for error in errors if error.status == 413]
        if len(over_quota) < len(errors):
            raise self.failed(next(error for error in errors if error.status != 413), total)
        pending_adds = [op for op, outcome, error in results if outcome is SKIPPED or error is not None]
        if over_quota:
            quota = quota_of(over_quota[0])
            if quota is None or wanted > quota:
                added = [op for op, outcome, _error in results if outcome is True]
                undo = [membership.Operation(membership.REMOVE, op.member_id) for op in added]
                undone = self.batch(undo)
                undo_errors = [error for _op, _outcome, error in undone if error is not None]
                if undo_errors:
                    raise quota_error(over_quota[0], self.image, wanted, len(added))
                self.effective = []
                raise quota_error(over_quota[0], self.image, wanted, len(added), undone=bool(added))
        for phase in (plan.of_kind(membership.REMOVE), pending_adds, plan.of_kind(membership.STATUS)):
            errors = [error for _op, _outcome, error in self.batch(phase) if error is not None]
            if errors:
                if errors[0].status == 413:
                    raise quota_error(errors[0], self.image, wanted, len(self.effective))
                raise self.failed(errors[0], total)


# -- image_member ----------------------------------------------------------
def member_task(module, client):
    params = module.params
    version = client.version
    state = params['state']
    if version == '2' and params.get('can_share') is not None:
        raise GlanceError('can_share exists only in Image API v1; v2 members cannot share onward')
    if version == '1' and params.get('status') is not None:
        raise GlanceError('status (accepting or rejecting an image) exists only in Image API v2')
    if state == 'absent' and (params.get('status') is not None or params.get('can_share') is not None):
        raise GlanceError('status and can_share apply only with state present')
    if params.get('member') is None and params.get('member_cloud') is None and params.get('status') is None:
        raise GlanceError('member is required (it may be left out only with member_cloud, '
                          'or with status when the task runs as the member)')

    member_client = MemberClients(params).get(params['member_cloud']) if params.get('member_cloud') else None
    if params.get('member') is None and member_client is None:
        member_id = client.project_id
    else:
        member_id = resolve_member(client, params.get('member'), member_client)
    status_clients = {}
    if params.get('status') is not None:
        status_clients[member_id] = status_client(client, member_id, member_client)

    image = find_image(client, params['image'])
    if not members_allowed(client, image):
        if state == 'present':
            raise not_shared_error(image)
        return member_result(module, client, image, member_id, [], membership.Plan([]), status_clients)

    read = members_reader(module, client, image, member_id, member_client)
    current = read()
    if state == 'absent':
        plan = membership.plan_absent(current, member_id)
    else:
        listed = any(member['member_id'] == member_id for member in current)
        if not listed and version == '2' and member_id == client.project_id and image.get('owner') != member_id:
            raise GlanceError('%s is not shared with project %s: its owner must add the member first'
                              % (describe(image), member_id))
        desired = [{'member_id': member_id, 'can_share': params.get('can_share'), 'status': params.get('status')}]
        plan = membership.plan(current, desired, version, purge=False)
    return member_result(module, client, image, member_id, current, plan, status_clients, read)


def members_reader(module, client, image, member_id, member_client):
    """How to read the member list: as the caller, plus the member's own view where the caller's misses it.

    On v1 a member that shares onward (can_share) sees only its own membership,
    not those it creates; the new member's credentials can read its own.
    """
    def read():
        return client.api.members(image['id'])

    onward = (client.version == '1' and member_id != client.project_id
              and image.get('owner') not in (None, client.project_id) and not is_admin(client))
    if not onward:
        return read
    if member_client is None:
        module.warn('on Image API v1 only the owner of %s can list its members, so whether project %s already is one '
                    'cannot be checked: the member is sent again and reported as changed; give member_cloud (the '
                    "member's credentials) to check it" % (describe(image), member_id))
        return read

    def read_with_member():
        seen = read()
        if not any(member['member_id'] == member_id for member in seen):
            try:
                own = member_client.api.members(image['id'])
            except GlanceError as exc:
                if exc.status != 404:
                    raise
                own = []  # not a member yet: the image is invisible to it
            seen += [member for member in own if member['member_id'] == member_id]
        return seen
    return read_with_member


def member_result(module, client, image, member_id, current, plan, status_clients, read=None):
    tracker, final, writer = converge(module, client, image, current, plan, status_clients, wanted=None, read=read)
    entry = next((member for member in final if member['member_id'] == member_id), None)
    result = dict(changed=tracker.changed, member=entry, members=final, api_version=client.version)
    if module._diff:
        result['diff'] = tracker.diff()
    return result


def converge(module, client, image, current, plan, status_clients, wanted, read=None):
    """Apply ``plan`` (or predict it in check mode); return the tracker, final members and writer."""
    version = client.version
    tracker = DifferenceTracker({'members': membership.summary(current, version)})
    writer = Writer(client, image, status_clients) if image is not None else None
    if not plan:
        return tracker, membership.sort_members(current), writer
    if module.check_mode:
        final = membership.apply(current, plan.operations, version)
        for op in plan.operations:
            tracker.record(describe_op(op))
        tracker.set_after({'members': membership.summary(final, version)})
        return tracker, final, writer
    if version == '1' and wanted is not None:
        writer.sent += 1
        try:
            client.api.replace_members(image['id'], [{'member_id': entry['member_id'], 'can_share': entry.get('can_share')}
                                                     for entry in wanted])
        except GlanceError as exc:
            if exc.status == 413:
                raise quota_error(exc, image, len(wanted)) from exc
            raise
        writer.effective = list(plan.operations)
    elif version == '2' and wanted is not None:
        writer.apply_v2(plan, len(wanted))
    else:
        for op in plan.operations:
            try:
                writer.send(op)
            except GlanceError as exc:
                if exc.status == 413:
                    raise quota_error(exc, image) from exc
                raise
    for op in writer.effective:
        tracker.record(describe_op(op))
    final = membership.sort_members(read() if read is not None else client.api.members(image['id']))
    after = membership.summary(final, version)
    if not tracker.changed and after != tracker.before['members']:
        tracker.record('member list changed meanwhile')
    tracker.set_after({'members': after})
    return tracker, final, writer


def describe_op(op):
    if op.kind == membership.ADD:
        return 'add member %s%s' % (op.member_id, '' if op.value is None else ' (can_share %s)' % op.value)
    if op.kind == membership.REMOVE:
        return 'remove member %s' % op.member_id
    return 'set %s of member %s to %s' % (op.kind, op.member_id, op.value)


# -- image_members_replace -----------------------------------------------
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


def replace_task(module, client):
    version = client.version
    entries = parse_entries(module.params['members'])
    duplicates = membership.find_duplicates(entry['project'] for entry in entries if entry['project'] is not None)
    if duplicates:
        raise GlanceError('members lists the same project more than once: %s' % ', '.join(duplicates))
    for entry in entries:
        label = entry['project'] or 'given by cloud'
        if version == '2' and entry['can_share'] is not None:
            raise GlanceError('can_share exists only in Image API v1 (member %s); v2 members cannot share onward' % label)
        if version == '1' and (entry['status'] is not None or entry['cloud'] is not None):
            raise GlanceError('status (and member credentials to set it) exist only in Image API v2 (member %s)' % label)
        if entry['status'] is not None and entry['status'] not in membership.STATUSES:
            raise GlanceError('status of member %s must be one of %s, got %r'
                              % (label, ', '.join(membership.STATUSES), entry['status']))

    clients = MemberClients(module.params)
    desired, status_clients = [], {}
    for entry in entries:
        member_client = clients.get(entry['cloud']) if entry['cloud'] is not None else None
        member_id = resolve_member(client, entry['project'], member_client)
        desired.append({'member_id': member_id, 'can_share': entry['can_share'], 'status': entry['status']})
        if entry['status'] is not None:
            status_clients[member_id] = member_client
    duplicates = membership.find_duplicates(entry['member_id'] for entry in desired)
    if duplicates:
        raise GlanceError('members names the same project more than once (by name and by ID): %s'
                          % ', '.join(duplicates))
    missing = sorted(member_id for member_id, member_client in status_clients.items()
                     if member_client is None and member_id != client.project_id)
    if missing and not is_admin(client):
        raise GlanceError('the status of member(s) %s can only be set with their own credentials: give cloud '
                          '(the member credentials) in those entries, run as the member, or use an admin'
                          % ', '.join(missing))
    status_clients = {member_id: member_client or client for member_id, member_client in status_clients.items()}

    image = find_image(client, module.params['image'])
    if not members_allowed(client, image):
        if desired:
            raise not_shared_error(image)
        current, plan = [], membership.Plan([])
    else:
        current = client.api.members(image['id'])
        plan = membership.plan(current, desired, version, purge=True)
    tracker, final, writer = converge(module, client, image, current, plan, status_clients, wanted=desired)
    if module.check_mode or not plan:
        effective = plan
    else:
        effective = membership.Plan(writer.effective)
    result = dict(changed=tracker.changed, members=final, added=effective.added, removed=effective.removed,
                  updated=effective.updated, api_version=version)
    if module._diff:
        result['diff'] = tracker.diff()
    return result


# -- image_tag -------------------------------------------------------------
def tag_changes(current, tags, state, purge):
    """Tags to add and to remove (each sorted) so that ``current`` matches the task."""
    current = set(current or [])
    if state == 'absent':
        target = current - set(tags)
    else:
        target = tag_target(current, tags, purge)
        target = current if target is None else set(target)
    return sorted(target - current), sorted(current - target)


def send_tags(api, image_id, wanted):
    """Remove, then add tags one call each; a tag limit refusal takes back the tags this call added.

    One at a time: Glance saves an image's whole tag list on each call, so
    parallel calls on one image can undo each other.
    """
    for tag in sorted(wanted.tags_removed):
        api.remove_tag(image_id, tag)
    added = []
    for tag in sorted(wanted.tags_added):
        try:
            api.add_tag(image_id, tag)
        except GlanceError as exc:
            if exc.status != 413:
                raise
            for undo in added:
                api.remove_tag(image_id, undo)
            raise GlanceError('the server allows no more tags on image %s (image_tag_quota); the %d tag(s) added '
                              'before it refused were removed again' % (image_id, len(added)),
                              status=exc.status, request_id=exc.request_id, action=exc.action,
                              server_message=exc.server_message) from exc
        added.append(tag)


def read_image(client, image):
    raw = client.api.get(image['id'])
    if raw is None:
        raise GlanceError('%s disappeared while its tags were being changed' % describe(image))
    return raw


def tag_task(module, client):
    params = module.params
    if client.version == '1':
        raise GlanceError('tags do not exist in Image API v1; image_tag needs the Image API v2')
    tags = params['tags']
    validate_tags(tags)
    if params['state'] == 'absent' and params['purge']:
        raise GlanceError('purge applies only with state present (state absent removes the listed tags)')

    image = find_image(client, params['image'])
    current = sorted(set(image.get('tags') or []))
    to_add, to_remove = tag_changes(current, tags, params['state'], params['purge'])
    tracker = DifferenceTracker({'tags': current})
    for tag in to_remove:
        tracker.record('remove tag %s' % tag)
    for tag in to_add:
        tracker.record('add tag %s' % tag)
    final = sorted((set(current) - set(to_remove)) | set(to_add))
    if (to_add or to_remove) and not module.check_mode:
        wanted = WantedState(tags_added=to_add, tags_removed=to_remove)
        started = time.monotonic()
        send_tags(client.api, image['id'], wanted)
        reread = lost_updates.keep(describe(image), wanted, lambda: read_image(client, image),
                                   lambda _document, undone: send_tags(client.api, image['id'], undone),
                                   time.monotonic() - started)
        final = sorted(set(reread.get('tags') or []))
    tracker.set_after({'tags': final})
    result = dict(changed=tracker.changed, tags=final, added=to_add, removed=to_remove,
                  image_id=image['id'], api_version=client.version)
    if module._diff:
        result['diff'] = tracker.diff()
    return result
