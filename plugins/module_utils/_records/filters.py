# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_info's filters, pure: values checked before any request, and how a value travels in a query."""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError

PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000
# Filter names both drivers read as a custom property (v1: property-<name>).
PROPERTY_FILTER_PREFIXES = ('property-', 'property_')


def query_text(value):
    """A filter value as a query parameter (booleans as the servers spell them)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def filter_kind(key):
    """The name a filter has in the capability table: property filters are all one kind."""
    return 'property-*' if key.startswith(PROPERTY_FILTER_PREFIXES) else key


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
