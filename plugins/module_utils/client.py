# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One object per task: the connection, the Image API adapter and name lookups."""

from __future__ import annotations

import re

try:
    from keystoneauth1.adapter import Adapter
except ImportError:  # reported by the runner as missing openstacksdk
    Adapter = None

from ansible_collections.cloudimage.glance.plugins.module_utils.api_v1 import ImageApiV1
from ansible_collections.cloudimage.glance.plugins.module_utils.api_v2 import ImageApiV2
from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError, connect, one_line
from ansible_collections.cloudimage.glance.plugins.module_utils.transport import (
    Http, choose_version, endpoint_root, parse_versions,
)
from ansible_collections.cloudimage.glance.plugins.module_utils.images import (
    looks_like_uuid, replaced_id, settle_replacements,
)

KEYSTONE_ID = re.compile(r'^[0-9a-f]{32}$')
ADAPTERS = {'1': ImageApiV1, '2': ImageApiV2}


class GlanceClient:
    """The connection of one set of credentials and the image API it speaks."""

    def __init__(self, params, conn=None):
        self.params = params
        self.conn = conn or connect(params)
        config = self.conn.config
        self.timeout = config.config.get('api_timeout')
        self.root = self._image_endpoint_root()
        self.http = Http(self.conn.session, self.root, timeout=self.timeout)
        self.version = choose_version(self._requested_version(), self._offered_versions(), self.root)
        self.api = ADAPTERS[self.version](self.http)
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
    def project_id(self):
        return self.conn.current_project_id

    # -- images ---------------------------------------------------------
    def find_image(self, name=None, image_id=None, owner=None, include_shared_pending=False):
        """Return the raw image document for ``image_id`` or a unique ``name``, or None."""
        return self.find_image_and_replacement(name, image_id, owner, include_shared_pending)[0]

    def find_image_and_replacement(self, name=None, image_id=None, owner=None, include_shared_pending=False):
        """(raw image document or None, its replacement in progress or None), by ID or unique name.

        A name lookup is one server-side filtered list request; two images with
        the same name is an error that lists their IDs, except for an image
        and the replacement being made for it (see ``settle_replacements``).
        """
        if image_id:
            return self.api.get(image_id), None
        if looks_like_uuid(name):
            found = self.api.get(name)
            if found is not None:
                return found, None
        matches = self.api.find_by_name(name, owner=owner, include_shared_pending=include_shared_pending)
        images, in_progress = settle_replacements(matches)
        if len(images) > 1:
            raise GlanceError('%d images are named %r (IDs: %s); give the image ID instead'
                              % (len(images), name, ', '.join(sorted(m['id'] for m in images))))
        if not images:
            return None, None
        replacement = next((image for image in in_progress if replaced_id(image) == images[0]['id']), None)
        return images[0], replacement

    def require_image(self, reference, include_shared_pending=True):
        """Image given by name or ID that must exist (modules that act on an existing image)."""
        image = self.find_image(name=reference, include_shared_pending=include_shared_pending)
        if image is None:
            raise GlanceError('image %r not found' % reference)
        return image

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
