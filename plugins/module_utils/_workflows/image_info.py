# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_info: list images with server-side filters, every page read."""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._compat import openstack_cloud
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.base import Need
from ansible_collections.cloudimage.glance.plugins.module_utils._records.filters import (
    check_numeric_filters, filter_kind, page_size,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import looks_like_uuid
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import Workflow


class ImageInfoWorkflow(Workflow):
    """Filters named as openstack.cloud.image_info names them are taken too; results carry its keys as well."""

    def validate(self, params):
        filters = openstack_cloud.translate_info_filters(params['filters'], property_filter=str)
        # 'limit' sizes the pages; every page is read all the same.
        page_size(filters)
        check_numeric_filters(filters)
        return params

    def needs(self, params):
        # Every API matches properties given as a dictionary, each under its own filter name.
        given = {key: value for key, value in params['filters'].items()
                 if not openstack_cloud.is_properties_filter(key, value)}
        filters = openstack_cloud.translate_info_filters(given, property_filter=str)
        needs = [Need('filters', filter_kind(key), 'filter %s' % key)
                 for key, value in sorted(filters.items()) if key != 'limit' and value is not None]
        if filters.get('visibility') is not None:
            needs.append(Need('visibility_filters', filters['visibility'], "visibility '%s'" % filters['visibility']))
        return needs

    def run(self, context):
        params, driver = context.params, context.driver
        filters = openstack_cloud.translate_info_filters(params['filters'], driver.property_filter)
        size = page_size(filters)
        filters.pop('limit', None)
        if filters.get('owner'):
            filters['owner'] = context.session.resolve_project(filters['owner'])
        # ``image`` is a name or an ID: an ID that exists is that image, anything else a name.
        reference = params.get('image')
        name = params.get('name') if reference is None else reference
        query, owner = driver.list_query(filters, name)
        raw_images = self.read(driver, params, reference, query, owner, size)
        images = [driver.normalize(raw) for raw in raw_images]
        if params.get('include_members'):
            for image in images:
                # Asking for the members of an image that cannot have any is refused by the server.
                image['members'] = driver.members(image['id']) if driver.has_members(image) else []
        images = [openstack_cloud.openstack_cloud_view(image) for image in images]
        warning = openstack_cloud.pattern_warning(reference or params.get('name'), images)
        if warning:
            context.warn(warning)
        return dict(changed=False, images=images)

    @staticmethod
    def read(driver, params, reference, query, owner, size):
        if params.get('id'):
            found = driver.get(params['id'])
        else:
            found = driver.get(reference) if reference is not None and looks_like_uuid(reference) else None
        if params.get('id') or found is not None:
            return [found] if found is not None else []
        return [image for image in driver.list(query, page_size=size) if owner is None or image.get('owner') == owner]
