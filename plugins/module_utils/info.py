# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_info: list images with server-side filters, on v1 or v2."""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils.images import looks_like_uuid

PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000

# Filters a user may give, and how each is sent. Anything else is passed to
# the server as given (v2 filters on any property by name).
V2_FILTER_NAMES = {'hidden': 'os_hidden'}
V1_FILTER_NAMES = {
    'name': 'name', 'status': 'status', 'disk_format': 'disk_format', 'container_format': 'container_format',
    'min_ram': 'min_ram', 'min_disk': 'min_disk', 'size_min': 'size_min', 'size_max': 'size_max',
    'protected': 'protected', 'changes_since': 'changes-since', 'changes-since': 'changes-since',
}
V1_UNSUPPORTED = ('tag', 'tags', 'hidden', 'member_status', 'os_hidden')


def _text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def v2_query(filters, name=None):
    """Query parameters (a list of pairs) for a v2 image listing."""
    params = []
    filters = dict(filters or {})
    if name is not None:
        params.append(('name', name))
    tags = filters.pop('tags', None)
    if tags is None:
        tags = filters.pop('tag', None)
    else:
        filters.pop('tag', None)
    if isinstance(tags, str):
        tags = [tags]
    for tag in tags or []:
        params.append(('tag', str(tag)))
    # A consumer's pending or rejected images are only listed with an explicit
    # visibility, so asking for a member status implies looking at all of them.
    if 'member_status' in filters and 'visibility' not in filters:
        filters['visibility'] = 'all'
    for key, value in filters.items():
        if value is None:
            continue
        params.append((V2_FILTER_NAMES.get(key, key), _text(value)))
    return params


def v1_query(filters, name=None):
    """Query parameters for a v1 listing; returns (params, owner to filter on locally or None)."""
    params = []
    filters = dict(filters or {})
    unsupported = sorted(key for key in filters if key in V1_UNSUPPORTED and filters[key] is not None)
    if unsupported:
        raise GlanceError('filter %s does not exist in Image API v1' % ', '.join(unsupported))
    if name is not None:
        params.append(('name', name))
    owner = filters.pop('owner', None)
    visibility = filters.pop('visibility', None)
    if visibility is not None:
        if visibility not in ('public', 'private'):
            raise GlanceError('visibility %r does not exist in Image API v1 (public or private)' % visibility)
        params.append(('is_public', 'true' if visibility == 'public' else 'false'))
    for key, value in filters.items():
        if value is None:
            continue
        if key.startswith('property-') or key.startswith('property_'):
            params.append(('property-' + key[len('property-'):], _text(value)))
        elif key in V1_FILTER_NAMES:
            params.append((V1_FILTER_NAMES[key], _text(value)))
        else:
            raise GlanceError('filter %s does not exist in Image API v1' % key)
    return params, owner


# Filters Glance compares as numbers: a value that is not one is refused before any request.
NUMERIC_FILTERS = {'size_min': 'a whole number of bytes', 'size_max': 'a whole number of bytes',
                   'min_ram': 'a whole number of MiB', 'min_disk': 'a whole number of GiB'}


def check_numeric_filters(filters):
    for key, meaning in NUMERIC_FILTERS.items():
        value = filters.get(key)
        if value is not None and (isinstance(value, bool) or not str(value).strip().isdigit()):
            raise GlanceError('filters.%s must be %s, got %r' % (key, meaning, value))


def page_size(filters):
    """The page size a ``limit`` filter asks for (Glance takes 1 to 1000), else the default."""
    limit = filters.get('limit')
    if limit is None:
        return PAGE_SIZE
    text = str(limit).strip()
    if isinstance(limit, bool) or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise GlanceError('filters.limit must be a whole number from 1 to %d, got %r' % (MAX_PAGE_SIZE, limit))
    return int(text)


def run(module, client):
    params = module.params
    api = client.api
    filters = dict(params.get('filters') or {})
    # 'limit' sizes the pages; every page is read all the same.
    size = page_size(filters)
    check_numeric_filters(filters)
    filters.pop('limit', None)
    if filters.get('owner'):
        filters['owner'] = client.resolve_project(filters['owner'])

    # ``image`` is a name or an ID: an ID that exists is that image, anything else a name.
    reference = params.get('image')
    name = params.get('name') if reference is None else reference
    if params.get('id'):
        found = api.get(params['id'])
    else:
        found = api.get(reference) if reference is not None and looks_like_uuid(reference) else None
    if params.get('id') or found is not None:
        raw_images = [found] if found is not None else []
    elif client.version == '2':
        raw_images = list(api.list(v2_query(filters, name), page_size=size))
    else:
        query, owner = v1_query(filters, name)
        raw_images = [image for image in api.list(query, page_size=size) if owner is None or image.get('owner') == owner]

    images = [api.normalize(raw) for raw in raw_images]
    if params.get('include_members'):
        for image in images:
            # v2 keeps members only on shared images; asking others answers 403.
            has_members = client.version == '1' or image['visibility'] == 'shared'
            image['members'] = api.members(image['id']) if has_members else []
    return dict(changed=False, images=images, api_version=client.version)
