from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils.client import GlanceClient
from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError

OWN = 'a' * 32
OTHER = 'b' * 32
TWIN_1, TWIN_2 = 'c' * 32, 'd' * 32


class Forbidden(Exception):
    status_code = 403


class FakeIdentity:
    def __init__(self, projects, may_list):
        self.listed = 0
        self._projects = projects
        self._may_list = may_list

    def projects(self):
        self.listed += 1
        if not self._may_list:
            raise Forbidden('forbidden')
        return [SimpleNamespace(id=pid, name=name) for pid, name in self._projects]

    def get(self, path, raise_exc=False):
        own = [{'id': pid, 'name': name} for pid, name in self._projects if pid == OWN]
        return SimpleNamespace(status_code=200, json=lambda: {'projects': own})


def client_with(may_list):
    identity = FakeIdentity([(OWN, 'producer'), (OTHER, 'consumer1'), (TWIN_1, 'twin'), (TWIN_2, 'twin')], may_list)
    client = GlanceClient.__new__(GlanceClient)
    client.conn = SimpleNamespace(identity=identity, current_project_id=OWN)
    client._projects, client._projects_read, client._own = None, False, None
    return client, identity


@pytest.mark.parametrize('may_list', [True, False])
def test_many_resolutions_read_keystone_once(may_list):
    client, identity = client_with(may_list)
    for _attempt in range(50):
        assert client.resolve_project(OTHER) == OTHER
        assert client.resolve_project('producer') == OWN
    assert identity.listed == 1


def test_admin_resolves_names_and_refuses_unknown_or_ambiguous():
    client, _identity = client_with(True)
    assert client.resolve_project('consumer1') == OTHER
    with pytest.raises(GlanceError, match="project 'nobody' does not exist"):
        client.resolve_project('nobody')
    with pytest.raises(GlanceError, match="project 'e{32}' does not exist"):
        client.resolve_project('e' * 32)
    with pytest.raises(GlanceError, match='2 projects are named .twin.'):
        client.resolve_project('twin')


def test_without_listing_rights_ids_are_trusted_and_names_must_be_own():
    client, _identity = client_with(False)
    assert client.resolve_project('e' * 32) == 'e' * 32
    with pytest.raises(GlanceError, match='give the project ID instead'):
        client.resolve_project('consumer1')
