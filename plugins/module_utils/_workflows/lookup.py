# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one image look-up: by ID, or by a unique name within an explicit scope.

A name is looked up with one server-side filtered listing (two on v2, for
hidden images), never by reading the whole catalogue.
"""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import (
    looks_like_uuid, replaced_id, settle_replacements,
)


class Scope:
    """Where a name is looked for: the images of ``owner`` (None: every image the listing shows),
    with ``include_shared_pending`` also those shared with the caller and not accepted yet;
    when nothing is found there, in ``fallback``."""

    def __init__(self, owner=None, include_shared_pending=False, fallback=None):
        self.owner = owner
        self.include_shared_pending = include_shared_pending
        self.fallback = fallback

    @classmethod
    def owned_by(cls, project_id):
        return cls(owner=project_id)

    @classmethod
    def visible(cls):
        return cls()

    @classmethod
    def own_then_shared(cls, project_id):
        """The caller's own images first, then every image it can see, also shared ones not accepted yet."""
        return cls(owner=project_id, fallback=cls(include_shared_pending=True))


class Found:
    """The image document a look-up found (or None), and a replacement in progress for it (or None)."""

    def __init__(self, image=None, replacement=None):
        self.image = image
        self.replacement = replacement


def find_image(driver, scope, name=None, image_id=None):
    """The image with ``image_id``, else the one named ``name`` in ``scope``; ``Found(None)`` when there is none.

    A name that looks like a UUID is tried as an ID first. Two images with the
    same name is an error that lists their IDs, except for an image and the
    replacement being made for it (see ``settle_replacements``).
    """
    if image_id:
        return Found(driver.get(image_id))
    if looks_like_uuid(name):
        found = driver.get(name)
        if found is not None:
            return Found(found)
    while scope is not None:
        matches = driver.find_by_name(name, owner=scope.owner, include_shared_pending=scope.include_shared_pending)
        images, in_progress = settle_replacements(matches)
        if len(images) > 1:
            raise GlanceError('%d images are named %r (IDs: %s); give the image ID instead'
                              % (len(images), name, ', '.join(sorted(m['id'] for m in images))))
        if images:
            replacement = next((image for image in in_progress if replaced_id(image) == images[0]['id']), None)
            return Found(images[0], replacement)
        scope = scope.fallback
    return Found()


def require_image(driver, scope, reference):
    """The image named or identified by ``reference``, which must exist."""
    image = find_image(driver, scope, name=reference).image
    if image is None:
        raise GlanceError('image %r not found' % reference)
    return image
