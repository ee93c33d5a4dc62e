# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.lookup import (
    Scope, find_image, require_image,
)
from ansible_collections.cloudimage.glance.tests.unit.doubles import ImageServiceV2

ID_1 = '11111111-1111-4111-8111-111111111111'
ID_2 = '22222222-2222-4222-8222-222222222222'


def image(image_id, name, owner='p', **fields):
    return dict(dict(id=image_id, name=name, status='active', visibility='private', owner=owner, os_hidden=False,
                     tags=[]), **fields)


def test_by_id_is_one_read():
    server = ImageServiceV2([image(ID_1, 'ci')])
    assert find_image(server.driver(), Scope.owned_by('p'), name='other', image_id=ID_1).image['id'] == ID_1
    assert find_image(server.driver(), Scope.owned_by('p'), image_id=ID_2).image is None
    assert server.calls == [('get', ID_1), ('get', ID_2)]


def test_a_name_that_looks_like_an_id_is_tried_as_one_first():
    server = ImageServiceV2([image(ID_1, 'ci'), image(ID_2, ID_1)])
    assert find_image(server.driver(), Scope.visible(), name=ID_1).image['id'] == ID_1
    server.images.pop(ID_1)
    assert find_image(server.driver(), Scope.visible(), name=ID_1).image['id'] == ID_2


def test_a_name_is_looked_up_within_its_scope_with_hidden_images_too():
    server = ImageServiceV2([image(ID_1, 'ci', os_hidden=True), image(ID_2, 'ci', owner='q')])
    assert find_image(server.driver(), Scope.owned_by('p'), name='ci').image['id'] == ID_1
    assert server.calls == [('list', [('name', 'ci'), ('owner', 'p')]),
                            ('list', [('name', 'ci'), ('owner', 'p'), ('os_hidden', 'true')])]


def test_two_images_of_one_name_is_an_error_naming_both():
    server = ImageServiceV2([image(ID_1, 'ci'), image(ID_2, 'ci', owner='q')])
    with pytest.raises(GlanceError) as info:
        find_image(server.driver(), Scope.visible(), name='ci')
    assert str(info.value) == "2 images are named 'ci' (IDs: %s, %s); give the image ID instead" % (ID_1, ID_2)


def test_a_replacement_in_progress_comes_with_its_image():
    replacement = image(ID_2, 'ci', os_hidden=True, cloudimage_replaces=ID_1)
    server = ImageServiceV2([image(ID_1, 'ci'), replacement])
    found = find_image(server.driver(), Scope.owned_by('p'), name='ci')
    assert found.image['id'] == ID_1 and found.replacement['id'] == ID_2


def test_own_images_first_then_those_shared_with_the_caller():
    server = ImageServiceV2([image(ID_1, 'ci', owner='q', visibility='shared')])
    server.add_members(ID_1, ['p'])
    assert find_image(server.driver(), Scope.own_then_shared_with('p'), name='ci').image['id'] == ID_1
    assert [query for kind, query in server.calls if kind == 'list'][-2:] == [
        [('name', 'ci'), ('visibility', 'all'), ('member_status', 'all')],
        [('name', 'ci'), ('visibility', 'all'), ('member_status', 'all'), ('os_hidden', 'true')]]


def test_an_admin_finds_by_name_only_images_shared_with_it():
    # An admin's listing shows every project's images: a name must not reach them.
    server = ImageServiceV2([image(ID_1, 'ci', owner='q', visibility='shared'),
                             image(ID_2, 'ci', owner='r', visibility='public')])
    admin = server.driver('admins', admin=True)
    assert find_image(admin, Scope.own_then_shared_with('admins'), name='ci').image is None
    server.add_members(ID_1, ['admins'])
    assert find_image(admin, Scope.own_then_shared_with('admins'), name='ci').image['id'] == ID_1


def test_require_image():
    server = ImageServiceV2([image(ID_1, 'ci')])
    assert require_image(server.driver(), Scope.visible(), 'ci')['id'] == ID_1
    with pytest.raises(GlanceError) as info:
        require_image(server.driver(), Scope.visible(), 'nowhere')
    assert str(info.value) == "image 'nowhere' not found"


def test_own_image_wins_over_one_shared_with_the_caller_under_the_same_name():
    server = ImageServiceV2([image(ID_1, 'ci', owner='q', visibility='shared'), image(ID_2, 'ci', owner='p')])
    server.add_members(ID_1, ['p'])
    assert require_image(server.driver(), Scope.own_then_shared_with('p'), 'ci')['id'] == ID_2
    with pytest.raises(GlanceError) as info:
        require_image(server.driver(), Scope.own_then_shared_with('p'), 'nowhere')
    assert str(info.value) == "image 'nowhere' not found"


def test_another_projects_image_is_named_but_never_found_by_name():
    server = ImageServiceV2([image(ID_1, 'ubuntu', owner='producer')])
    with pytest.raises(GlanceError) as info:
        require_image(server.driver('admins', admin=True), Scope.owned_by('admins'), 'ubuntu')
    assert str(info.value) == ("image 'ubuntu' not found; image %s of project producer is not changed by its name: "
                               "a name means an image of the project the task runs as (or of its owner option); "
                               "give the ID to act on another project's image" % ID_1)
