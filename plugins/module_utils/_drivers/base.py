# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The interface every image service driver implements, and the capability table it declares.

A driver owns everything about one image API: its paths, how a request is
encoded and how an answer is decoded into the normalized records of
``_records.image`` and ``_records.members``. Workflows never ask which API they
speak; they ask the driver, or its ``capabilities`` (checked once, before any
image request, by ``registry.check_needs``).
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.transport import error_from_response
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError

# Marks a capability that takes any value (v2 filters on any property by name).
ANY = 'any'


def request_path(root, *segments):
    """``<root>/<segment>/...`` with every segment quoted.

    A segment that is empty, ``.`` or ``..`` would send the request to another
    resource (HTTP clients drop dot segments: removing tag ``..`` would go out as
    ``DELETE /v2/images/<id>/``), so it is refused before anything is sent.
    """
    for segment in segments:
        if segment in ('', '.', '..'):
            raise GlanceError('%r cannot be part of a request path (%s/%s): it is empty or a dot segment, which '
                              'would send the request elsewhere; nothing was sent'
                              % (segment, root, '/'.join(str(part) for part in segments)))
    return '/'.join([root] + [quote(str(segment), safe='') for segment in segments])


class Capabilities:
    """One row of the capability table: what an image API can do.

    Flags: ``tags``, ``hidden`` (os_hidden), ``deactivation``, ``member_status``
    (members accept or reject), ``can_share`` (members share onward),
    ``member_list_replacement`` (one call sets the whole member list),
    ``members_need_shared`` (only images with visibility shared have members),
    ``stores`` (multiple stores), ``multihash`` (a hash besides md5).
    Value sets (or ANY, when the server decides): ``visibilities`` (of an image),
    ``visibility_filters`` (what a listing's visibility filter takes), ``filters`` (names)
    and ``import_methods``.
    """

    FLAGS = ('tags', 'hidden', 'deactivation', 'member_status', 'can_share', 'member_list_replacement',
             'members_need_shared', 'stores', 'multihash')
    VALUES = ('visibilities', 'visibility_filters', 'filters', 'import_methods')

    def __init__(self, **table):
        expected = set(self.FLAGS) | set(self.VALUES)
        if set(table) != expected:
            raise ValueError('capability table: unknown %s, missing %s'
                             % (sorted(set(table) - expected), sorted(expected - set(table))))
        for name, value in table.items():
            setattr(self, name, value if name in self.FLAGS or value == ANY else frozenset(value))

    def offers(self, name, value=None):
        """Whether the API has capability ``name`` (with ``value``, for the value sets)."""
        have = getattr(self, name)
        if name in self.FLAGS:
            return bool(have)
        return have == ANY or value in have


class Need:
    """What a task asks of the API: a capability, a value of it, and how the task calls it (for the message)."""

    def __init__(self, capability, value=None, what=None):
        self.capability = capability
        self.value = value
        self.what = what or (capability if value is None else '%s %s' % (capability, value))


class ImageDriver:
    """One image API. Subclasses implement every method; what their API lacks raises ``self.lacks(...)``.

    Images go in and out as the API's own documents (``raw``) and as normalized
    records (``normalize(raw)``); members always come out normalized.
    """

    version = None          # the major version the endpoint's version document lists
    label = None            # how messages name the API
    capabilities = None     # a Capabilities row
    strongest_digest = None  # the digest to compare data by when an image shows none
    page_size = 200

    def __init__(self, http):
        self.http = http

    def lacks(self, capability, value=None, what=None):
        """The error for a capability this API does not have, in the message format of every such refusal."""
        # The registry knows every driver (to say which API has it) and imports this module.
        from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.registry import unavailable
        return unavailable(self, Need(capability, value, what))

    def created_by_earlier_attempt(self, response, image_id, name):
        """The image a create answered 409 for, when an earlier attempt of the same request made it.

        The image ID is chosen before the first attempt, so the image found under
        it with the requested name is this task's own; a 409 on the first
        attempt is a real conflict.
        """
        target = 'image %s' % (name or '')
        if not response.retried:
            raise error_from_response(response, 'add_image', target)
        raw = self.get(image_id)
        if raw is None or self.normalize(raw).get('name') != name:
            raise error_from_response(response, 'add_image', target)
        return raw

    def reread(self, image_id):
        """The image document, which must still exist (it is being changed)."""
        raw = self.get(image_id)
        if raw is None:
            raise GlanceError('image %s disappeared while it was being changed' % image_id)
        return raw

    def has_members(self, image):
        """Whether the normalized ``image`` can have members at all (asking for others is refused)."""
        return not self.capabilities.members_need_shared or image.get('visibility') == 'shared'

    # -- the interface ----------------------------------------------------
    # Decoding and input checks (no request).
    def normalize(self, raw):
        raise NotImplementedError

    def check_record(self, name=None, properties=None):
        """Refuse a name or properties this API cannot carry."""
        raise NotImplementedError

    def canonical_properties(self, properties):
        """Property names as the server will store them."""
        raise NotImplementedError

    def list_query(self, filters, name=None):
        """(query pairs, owner to filter on here or None) for a listing with image_info's filters."""
        raise NotImplementedError

    def property_filter(self, name):
        """The filter name that matches custom property ``name``."""
        raise NotImplementedError

    def can_hide(self, raw):
        raise NotImplementedError

    # Images.
    def get(self, image_id):
        raise NotImplementedError

    def list(self, query=None, page_size=None):
        raise NotImplementedError

    def find_by_name(self, name, owner=None, include_shared_pending=False):
        raise NotImplementedError

    def create(self, fields, properties=None, tags=()):
        """Create the record; ``fields`` are image module option names and carry the new ``id``."""
        raise NotImplementedError

    def update(self, raw, changes, keep=False):
        """Send a ``_records.image.RecordChanges``; ``keep`` also makes them outlast concurrent writers."""
        raise NotImplementedError

    def upload(self, image_id, body, size):
        raise NotImplementedError

    def download(self, image_id, chunk_size=1024 * 1024):
        raise NotImplementedError

    def delete(self, image_id):
        raise NotImplementedError

    def deactivate(self, image_id):
        raise NotImplementedError

    def reactivate(self, image_id):
        raise NotImplementedError

    def import_methods(self):
        raise NotImplementedError

    def import_from_url(self, image_id, url):
        raise NotImplementedError

    def data_algorithms(self, image):
        """The digests the server computes of data sent into the normalized ``image``."""
        raise NotImplementedError

    # Members.
    def members(self, image_id):
        raise NotImplementedError

    def add_member(self, image_id, member_id, can_share=None):
        """Add a member; False when it was already there (another writer won the race)."""
        raise NotImplementedError

    def remove_member(self, image_id, member_id):
        """Remove a member; False when it was already gone."""
        raise NotImplementedError

    def set_member_status(self, image_id, member_id, status):
        raise NotImplementedError

    def replace_members(self, image_id, memberships):
        """Set the whole member list in one call (dicts with member_id and optional can_share)."""
        raise NotImplementedError
