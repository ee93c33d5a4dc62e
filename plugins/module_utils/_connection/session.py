# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One session per set of credentials: the connection, the image endpoint, its driver, projects."""

from __future__ import annotations

import json
import re

try:
    from keystoneauth1.adapter import Adapter
except ImportError:  # reported by the runner as missing openstacksdk
    Adapter = None

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.options import connect
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import Http, endpoint_root, parse_versions
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.registry import choose_driver
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError, one_line

KEYSTONE_ID = re.compile(r'^[0-9a-f]{32}$')


class GlanceSession:
    """The connection of one set of credentials and the driver of the image API it speaks."""

    def __init__(self, params, conn=None):
        self.params = params
        self.conn = conn or connect(params)
        config = self.conn.config
        self.timeout = config.config.get('api_timeout')
        self.root = self._image_endpoint_root()
        self.http = Http(self.conn.session, self.root, timeout=self.timeout)
        self.driver = choose_driver(self._requested_version(), self._offered_versions(), self.root)(self.http)
        self._projects = None
        self._projects_read = False
        self._own = None

    # -- discovery ------------------------------------------------------
    def _image_endpoint_root(self):
        """The image endpoint as openstacksdk resolves it: ``image_endpoint_override``, else the catalog.

        The catalog entry is chosen by the service name, interface and region
        that clouds.yaml and the options give for the image service.
        """
        config = self.conn.config
        url = config.get_endpoint('image')
        if not url:
            adapter = Adapter(session=self.conn.session, service_type=config.get_service_type('image'),
                              service_name=config.get_service_name('image'),
                              interface=config.get_interface('image'), region_name=config.get_region_name('image'))
            try:
                url = adapter.get_endpoint()
            except Exception as exc:
                raise GlanceError('no image endpoint in the service catalog: %s' % one_line(exc)) from exc
        if not url:
            raise GlanceError('no image endpoint in the service catalog for region %r and interface %r'
                              % (config.get_region_name('image'), config.get_interface('image')))
        return endpoint_root(url)

    def _requested_version(self):
        """``api_version``; with auto, an ``image_api_version: 1`` from clouds.yaml is honoured."""
        requested = self.params.get('api_version') or 'auto'
        if requested == 'auto' and str(self.conn.config.get_api_version('image') or '').split('.', 1)[0] == '1':
            return '1'
        return requested

    def _offered_versions(self):
        response = self.http.request('GET', '/', 'discover versions', ok=(200, 300), authenticated=False)
        try:
            return parse_versions(response.json())
        except ValueError as exc:
            raise GlanceError('the image endpoint %s did not answer version discovery with JSON' % self.root) from exc

    @property
    def version(self):
        return self.driver.version

    @property
    def project_id(self):
        return self.conn.current_project_id

    # -- the credentials ------------------------------------------------
    def _access(self):
        try:
            return self.conn.session.auth.get_access(self.conn.session)
        except Exception:
            return None

    @property
    def project_name(self):
        return getattr(self._access(), 'project_name', None)

    @property
    def is_admin(self):
        return 'admin' in (getattr(self._access(), 'role_names', None) or [])

    # -- projects -------------------------------------------------------
    def resolve_project(self, reference):
        """Project ID for a project name or ID.

        Projects are read from Keystone once per task, however many are resolved.
        IDs are accepted as given when Keystone does not let these credentials
        list projects; names must then be among the caller's own projects.
        """
        reference = str(reference)
        if reference == self.project_id:
            return reference
        directory = self._project_directory()
        if directory is None:
            if KEYSTONE_ID.match(reference):
                # Not allowed to read other projects: trust the ID (Glance does too).
                return reference
            matches = [project['id'] for project in self._own_projects() if project.get('name') == reference]
            if not matches:
                raise GlanceError('project %r not found among the projects these credentials may list; '
                                  'give the project ID instead' % reference)
        elif reference in directory:
            return reference
        elif KEYSTONE_ID.match(reference) and not any(name == reference for name in directory.values()):
            raise GlanceError('project %r does not exist' % reference)
        else:
            matches = [project_id for project_id, name in directory.items() if name == reference]
        if not matches:
            raise GlanceError('project %r does not exist' % reference)
        if len(matches) > 1:
            raise GlanceError('%d projects are named %r (IDs: %s); give the project ID instead'
                              % (len(matches), reference, ', '.join(sorted(matches))))
        return matches[0]

    def _project_directory(self):
        """{project ID: name} of every project these credentials may list, or None when Keystone refuses."""
        if not self._projects_read:
            self._projects_read = True
            try:
                self._projects = {project.id: project.name for project in self.conn.identity.projects()}
            except Exception as exc:
                if getattr(exc, 'status_code', None) not in (401, 403):
                    raise GlanceError('cannot list projects in Keystone: %s' % one_line(exc)) from exc
                self._projects = None
        return self._projects

    def _own_projects(self):
        """Projects the current user has a role on (allowed to every user), read once."""
        if self._own is None:
            try:
                response = self.conn.identity.get('/auth/projects', raise_exc=False)
                self._own = response.json().get('projects', []) if response.status_code == 200 else []
            except Exception:
                self._own = []
        return self._own


class MemberSessions:
    """Sessions with a member project's own credentials, one per cloud given; other options as the task's."""

    def __init__(self, params):
        self.params = params
        self._sessions = {}

    def get(self, cloud):
        key = json.dumps(cloud, sort_keys=True, default=str)
        if key not in self._sessions:
            try:
                self._sessions[key] = GlanceSession(dict(self.params, cloud=cloud, auth=None))
            except GlanceError as exc:
                raise exc.reworded('member credentials: %s' % exc.message) from exc
        return self._sessions[key]
