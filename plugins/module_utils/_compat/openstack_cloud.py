# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options and results of ``openstack.cloud.image`` and ``image_info``, in this collection's terms.

Everything a task written for ``openstack.cloud`` says is turned here into the
options the image workflows know, so those workflows keep a single meaning per
option. What needs no server is checked first (``translate_image_params``); the
name lookups it leaves (kernel, ramdisk, a project within a domain) are one
filtered request each (``resolve_image_references``).
"""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.session import KEYSTONE_ID
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError, one_line
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.lookup import Scope, find_image

# kernel / ramdisk option -> the property that holds the image ID.
REFERENCE_PROPERTIES = {'kernel': 'kernel_id', 'ramdisk': 'ramdisk_id'}

# Attribute names openstacksdk (so openstack.cloud) gives an image, where ours differ.
SDK_ATTRIBUTES = {'protected': 'is_protected', 'hidden': 'is_hidden', 'owner': 'owner_id',
                  'os_hash_algo': 'hash_algo', 'os_hash_value': 'hash_value'}
# Properties openstacksdk renames.
SDK_PROPERTIES = {'img_config_drive': 'needs_config_drive', 'os_secure_boot': 'needs_secure_boot',
                  'auto_disk_config': 'has_auto_disk_config',
                  'hw_vif_multiqueue_enabled': 'is_hw_vif_multiqueue_enabled',
                  'hw_boot_menu': 'is_hw_boot_menu_enabled'}
# openstacksdk name -> the name image_info filters on.
SDK_FILTERS = dict({sdk: ours for ours, sdk in SDK_ATTRIBUTES.items()},
                   **{sdk: ours for ours, sdk in SDK_PROPERTIES.items()})

PATTERN_CHARACTERS = frozenset('*?[')


def _given(value):
    return value is not None and value != ''


# -- image: options ----------------------------------------------------------------
def translate_image_params(params):
    """The image module's options with those of openstack.cloud expressed in this collection's.

    Pure: no server is asked. Returns ``(params, references)``: a new dictionary
    of options, and ``{'kernel' or 'ramdisk': image name or ID}`` for the images
    still to be looked up. Options that contradict each other, or that
    this collection cannot honour, fail here, before anything is sent.
    """
    params = dict(params)
    if params.get('volume'):
        raise GlanceError('option volume (an image made from a block storage volume) is not supported; '
                          'make the image with the block storage service, then manage it by name or id')

    is_public = params.get('is_public')
    if is_public is not None:
        wanted = 'public' if is_public else 'private'
        if params.get('visibility') not in (None, wanted):
            raise GlanceError('is_public: %s and visibility: %s disagree; give one of them'
                              % (str(is_public).lower(), params['visibility']))
        params['visibility'] = wanted

    is_protected = params.get('is_protected')
    if is_protected is not None:
        if params.get('protected') not in (None, is_protected):
            raise GlanceError('is_protected: %s and protected: %s disagree; give one of them'
                              % (str(is_protected).lower(), str(params['protected']).lower()))
        params['protected'] = is_protected

    method = params.get('import_method')
    if method == 'glance-download':
        raise GlanceError('import_method glance-download (an import from another region) is not supported; '
                          'use url (web-download) or filename')
    if method == 'web-download' and not params.get('url'):
        raise GlanceError('import_method web-download needs uri (or url): the address the image service '
                          'downloads the data from')
    if params.get('use_import') and params.get('filename'):
        raise GlanceError('use_import (the glance-direct import) is not supported; leave it out to upload '
                          'filename directly (the data is verified against its hash), or use url (web-download)')

    if _given(params.get('owner_domain')) and not _given(params.get('owner')):
        raise GlanceError('owner_domain (project_domain) needs owner (project): the project to find in that domain')

    references = {}
    properties = dict(params.get('properties') or {})
    for option, key in REFERENCE_PROPERTIES.items():
        reference = params.get(option)
        if not _given(reference):
            continue
        if key in properties and str(properties[key]) != str(reference):
            raise GlanceError('%s and properties.%s disagree; give one of them' % (option, key))
        references[option] = str(reference)
    return params, references


def resolve_image_references(params, references, session):
    """Fill in what ``translate_image_params`` left to look up; returns the final options.

    Each kernel or ramdisk image is found by one server-side filtered lookup
    (by ID, else by name), never by listing every image. A project name given
    with a domain is looked up in that domain.
    """
    params = dict(params)
    if references:
        properties = dict(params.get('properties') or {})
        for option, reference in references.items():
            properties[REFERENCE_PROPERTIES[option]] = image_id(session.driver, option, reference)
        params['properties'] = properties
    if _given(params.get('owner_domain')):
        params['owner'] = project_in_domain(session.conn, params['owner'], params['owner_domain'])
    return params


def image_id(driver, role, reference):
    """ID of the image ``reference`` (name or ID) that must exist and be unique."""
    try:
        found = find_image(driver, Scope.visible(), name=reference).image
    except GlanceError as exc:
        raise exc.reworded('%s: %s' % (role, exc.message)) from exc
    if found is None:
        raise GlanceError('%s image %r not found' % (role, reference))
    return found['id']


def _denied(exc):
    return getattr(exc, 'status_code', None) in (401, 403)


def domain_id(conn, reference):
    """ID of the domain ``reference`` (name or ID); as given when Keystone does not let us look."""
    try:
        domain = conn.identity.find_domain(reference, ignore_missing=True)
    except Exception as exc:
        if _denied(exc):
            return reference
        raise GlanceError('cannot look up domain %r in Keystone: %s' % (reference, one_line(exc))) from exc
    if domain is None:
        raise GlanceError('domain %r does not exist' % reference)
    return domain.id


def project_in_domain(conn, project, domain):
    """ID of the project named ``project`` in ``domain``; a project ID is returned as it is.

    When Keystone does not let these credentials list projects, the name is
    returned as it is, to be found among the caller's own projects.
    """
    project = str(project)
    if KEYSTONE_ID.match(project):
        return project
    domain = domain_id(conn, str(domain))
    try:
        matches = [found.id for found in conn.identity.projects(name=project, domain_id=domain)]
    except Exception as exc:
        if _denied(exc):
            return project
        raise GlanceError('cannot look up project %r in Keystone: %s' % (project, one_line(exc))) from exc
    if not matches:
        raise GlanceError('project %r not found in domain %r' % (project, domain))
    if len(matches) > 1:
        raise GlanceError('%d projects are named %r in domain %r (IDs: %s); give the project ID instead'
                          % (len(matches), project, domain, ', '.join(sorted(matches))))
    return matches[0]


# -- image_info: options -------------------------------------------------------------
def translate_info_filters(filters, property_filter):
    """image_info ``filters`` written with openstacksdk's names, as the server's filters.

    ``is_protected`` becomes ``protected``, ``owner_id`` ``owner`` and so on; a
    nested ``properties`` dictionary becomes one filter per property, named by
    the driver's ``property_filter`` (``property-<name>`` on v1). The same
    filter given twice with different values is an error.
    """
    translated = {}
    origin = {}

    def put(key, value, given_as):
        if key in translated and translated[key] != value:
            raise GlanceError('filters %s and %s disagree; give one of them' % (origin[key], given_as))
        translated[key] = value
        origin[key] = given_as

    for key, value in (filters or {}).items():
        if is_properties_filter(key, value):
            for name, wanted in value.items():
                name = SDK_FILTERS.get(name, name)
                put(property_filter(name), wanted, 'properties.%s' % name)
        else:
            put(SDK_FILTERS.get(key, key), value, key)
    return translated


def is_properties_filter(key, value):
    """Whether a filter is the dictionary of properties to match."""
    return key == 'properties' and isinstance(value, dict)


def pattern_warning(reference, images):
    """A warning when a name with wildcards matched nothing: names are matched exactly here."""
    if reference and not images and PATTERN_CHARACTERS & set(str(reference)):
        return ('no image is named exactly %r: names are matched exactly by the server, wildcards are not '
                'expanded (openstack.cloud.image_info expands them by listing every image)' % reference)
    return None


# -- results -------------------------------------------------------------------------
def openstack_cloud_view(image):
    """A normalized image, plus the keys openstack.cloud returns for the same values.

    The attributes openstacksdk names differently (``is_protected``,
    ``owner_id``, ...) and each custom property at the top level, as
    openstacksdk puts those it knows; no existing key is replaced.
    """
    if image is None:
        return None
    view = dict(image)
    for ours, sdk in SDK_ATTRIBUTES.items():
        view.setdefault(sdk, image.get(ours))
    for key, value in (image.get('properties') or {}).items():
        view.setdefault(SDK_PROPERTIES.get(key, key), value)
    return view
