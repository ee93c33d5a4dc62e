# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.base import (
    ANY, Capabilities, ImageDriver, Need,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._records.image import RecordChanges
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2, ScriptedSession, http

ROW = dict(tags=True, hidden=False, deactivation=True, member_status=True, can_share=False,
           member_list_replacement=False, members_need_shared=True, stores=False, multihash=True,
           visibilities=('public', 'private'), visibility_filters=('public', 'private'), filters=ANY,
           import_methods=())


def test_a_row_takes_exactly_the_capabilities_of_the_table():
    with pytest.raises(ValueError) as info:
        Capabilities(**dict(ROW, teleport=True))
    assert "unknown ['teleport']" in str(info.value)
    row = dict(ROW)
    del row['stores']
    with pytest.raises(ValueError) as info:
        Capabilities(**row)
    assert "missing ['stores']" in str(info.value)


def test_offers_flags_value_sets_and_any():
    row = Capabilities(**ROW)
    assert row.offers('tags') and not row.offers('hidden')
    assert row.offers('visibilities', 'public') and not row.offers('visibilities', 'shared')
    assert row.offers('filters', 'anything') and not row.offers('import_methods', 'web-download')
    assert row.visibilities == frozenset(('public', 'private'))


def test_a_need_names_itself_unless_told_how():
    assert Need('tags').what == 'tags'
    assert Need('visibilities', 'shared').what == 'visibilities shared'
    assert Need('tags', what='option tags').what == 'option tags'


def test_a_driver_refuses_what_it_lacks_in_the_one_format():
    error = ImageDriverV1(None).lacks('deactivation', what='state inactive (deactivation)')
    assert isinstance(error, GlanceError)
    assert str(error) == 'state inactive (deactivation) needs Image API v2; this endpoint speaks Image API v1'


@pytest.mark.parametrize('driver, image, has', [
    (ImageDriverV2, {'visibility': 'shared'}, True),
    (ImageDriverV2, {'visibility': 'private'}, False),
    (ImageDriverV2, {'visibility': 'public'}, False),
    (ImageDriverV1, {'visibility': 'private'}, True),
    (ImageDriverV1, {'visibility': 'public'}, True),
])
def test_which_images_can_have_members(driver, image, has):
    assert driver(None).has_members(image) is has


def test_every_driver_implements_the_whole_interface():
    shared = ('lacks', 'created_by_earlier_attempt', 'reread', 'has_members')
    interface = [name for name, value in vars(ImageDriver).items()
                 if callable(value) and not name.startswith('_') and name not in shared]
    assert 'update' in interface and 'replace_members' in interface
    for driver in (ImageDriverV1, ImageDriverV2):
        assert [name for name in interface if getattr(driver, name) is getattr(ImageDriver, name)] == [], driver


def test_reread_refuses_an_image_that_disappeared():
    with pytest.raises(GlanceError) as info:
        ImageServiceV2().driver().reread('x')
    assert str(info.value) == 'image x disappeared while it was being changed'


# -- paths ------------------------------------------------------------------------------------
IMAGE_ID = '6a0b4f67-6b0e-4cf4-9d54-5d0c2b0a1f11'
RAW = {'id': IMAGE_ID, 'name': 'demo', 'status': 'active', 'tags': ['a'], 'properties': {}}


@pytest.mark.parametrize('driver_class, call', [
    (ImageDriverV2, lambda d: d.get('..')),
    (ImageDriverV2, lambda d: d.delete('.')),
    (ImageDriverV2, lambda d: d.delete('')),
    (ImageDriverV2, lambda d: d.update(RAW, RecordChanges(tags_removed=['..']))),
    (ImageDriverV2, lambda d: d.update(RAW, RecordChanges(tags_added=['.']))),
    (ImageDriverV2, lambda d: d.remove_member(IMAGE_ID, '..')),
    (ImageDriverV2, lambda d: d.set_member_status(IMAGE_ID, '', 'accepted')),
    (ImageDriverV1, lambda d: d.get('..')),
    (ImageDriverV1, lambda d: d.delete('.')),
    (ImageDriverV1, lambda d: d.add_member(IMAGE_ID, '..')),
    (ImageDriverV1, lambda d: d.remove_member(IMAGE_ID, '')),
])
def test_no_request_has_an_empty_or_dot_segment_in_its_path(driver_class, call):
    # requests drops dot segments: DELETE /v2/images/<id>/tags/.. would go out as DELETE /v2/images/<id>/.
    session = ScriptedSession()
    with pytest.raises(GlanceError) as info:
        call(driver_class(http(session)))
    assert 'cannot be part of a request path' in str(info.value)
    assert session.calls == []
