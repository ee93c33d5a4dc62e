# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one image look-up: by ID, or by a unique name within an explicit scope.

A name is looked up with one server-side filtered listing (two on v2, for
hidden images), never by reading the whole catalogue.
"""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import (
    looks_like_uuid, race_winner, replacements_of, settle_replacements,
)


class Scope:
    """Where a name is looked for: the images of ``owner`` (None: every image the listing shows),
    with ``include_shared_pending`` also those shared with the caller and not accepted yet;
    with ``member`` (a project ID) only images of other projects that have it as a member;
    when nothing is found there, in ``fallback``.

    The one rule for names: a name is looked up among the caller's own images, or
    the owner's when the task names one; another project's image is never changed
    by name alone. Member-side actions look among the images shared with the caller.
    """

    def __init__(self, owner=None, include_shared_pending=False, fallback=None, member=None):
        self.owner = owner
        self.include_shared_pending = include_shared_pending
        self.fallback = fallback
        self.member = member

    @classmethod
    def owned_by(cls, project_id):
        return cls(owner=project_id)

    @classmethod
    def visible(cls):
        """Every image the caller can see (read-only look-ups)."""
        return cls()

    @classmethod
    def own_then_shared_with(cls, project_id):
        """The caller's own images, then those other projects share with it (member-side actions)."""
        return cls(owner=project_id, fallback=cls(include_shared_pending=True, member=project_id))


class Found:
    """The image document a look-up found (or None), and the replacements in progress for it, oldest first
    (``replacement``: the oldest, or None)."""

    def __init__(self, image=None, replacements=()):
        self.image = image
        self.replacements = list(replacements)
        self.replacement = self.replacements[0] if self.replacements else None


def find_image(driver, scope, name=None, image_id=None, settle=None):
    """The image with ``image_id``, else the one named ``name`` in ``scope``; ``Found(None)`` when there is none.

    A name that looks like a UUID is tried as an ID first. Two images with the
    same name is an error that lists their IDs, except for an image and the
    replacement being made for it (see ``settle_replacements``). With
    ``settle`` (a pause, see ``image_race``), a name that may be in the middle
    of a race of creators (several images, or one without data yet) is listed
    again after the pause, and the race's winner is the image.
    """
    if image_id:
        return Found(driver.get(image_id))
    if looks_like_uuid(name):
        found = driver.get(name)
        if found is not None:
            return Found(found)
    while scope is not None:
        matches = named_in(driver, scope, name)
        images, _in_progress = settle_replacements(matches)
        if settle is not None and (len(images) > 1 or any(image['status'] == 'queued' for image in images)):
            settle()
            matches = named_in(driver, scope, name)
            images, _in_progress = settle_replacements(matches)
            winner = race_winner(images)
            images = [winner] if winner is not None else images
        if len(images) > 1:
            raise GlanceError('%d images are named %r (IDs: %s); give the image ID instead'
                              % (len(images), name, ', '.join(sorted(m['id'] for m in images))))
        if images:
            return Found(images[0], replacements_of(matches, images[0]['id']))
        scope = scope.fallback
    return Found()


def named_in(driver, scope, name):
    """The image documents named ``name`` in ``scope`` (one level of it, not its fallback)."""
    matches = driver.find_by_name(name, owner=scope.owner, include_shared_pending=scope.include_shared_pending)
    if scope.member is not None:
        matches = [image for image in matches if shared_with(driver, image, scope.member)]
    return matches


def shared_with(driver, raw, project_id):
    """Whether another project's image has ``project_id`` as a member (an admin's listing shows every image)."""
    image = driver.normalize(raw)
    if image.get('owner') == project_id or image.get('visibility') in ('public', 'community'):
        return False
    try:
        return any(member['member_id'] == project_id for member in driver.members(image['id']))
    except GlanceError as exc:
        if exc.status in (403, 404):
            return False
        raise


def require_image(driver, scope, reference):
    """The image named or identified by ``reference``, which must exist in ``scope``."""
    image = find_image(driver, scope, name=reference).image
    if image is None:
        raise GlanceError('image %r not found%s' % (reference, elsewhere(driver, reference)))
    return image


def elsewhere(driver, name):
    """'', else the end of a not-found message naming other projects' images of that name, which it never changes."""
    others = others_named(driver, name)
    if not others:
        return ''
    return ('; %s is not changed by its name: a name means an image of the project the task runs as (or of its '
            'owner option); give the ID to act on another project\'s image' % others)


def others_named(driver, name, owner=None):
    """'image <id> of project <owner>, ...' for the images named ``name`` the caller sees besides ``owner``'s."""
    images = [driver.normalize(raw) for raw in driver.find_by_name(name)]
    return ', '.join('image %s of project %s' % (image['id'], image.get('owner')) for image in images
                     if owner is None or image.get('owner') != owner)
