# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.cloudimage.glance.plugins.module_utils._policy.rules import (
    GLANCE_CURRENT_DEFAULTS,
    GLANCE_PIKE_POLICY,
    KNOWN_RULE_NAMES,
)

COLLECTION_ROOT = Path(__file__).resolve().parents[5]

SEED_NAMES = [
    'get_images', 'get_image', 'download_image', 'upload_image', 'copy_from', 'add_image',
    'modify_image', 'publicize_image', 'communitize_image', 'delete_image', 'add_member',
    'get_members', 'get_member', 'delete_member', 'modify_member', 'manage_image_cache',
]


# --- rule-name knowledge -------------------------------------------------------

@pytest.mark.parametrize('name', SEED_NAMES)
def test_seed_names_known(name):
    assert name in KNOWN_RULE_NAMES


def test_pike_file_names_are_known_and_default_admin():
    assert set(GLANCE_PIKE_POLICY) <= KNOWN_RULE_NAMES
    assert GLANCE_PIKE_POLICY['default'] == 'role:admin'
    assert 'copy_from' in GLANCE_PIKE_POLICY and 'copy_from' not in GLANCE_CURRENT_DEFAULTS


def test_role_pike_profile_matches_module_knowledge():
    data = yaml.safe_load((COLLECTION_ROOT / 'roles/glance_policy/vars/main.yml').read_text())
    profile = data['__glance_policy_profiles']['pike']
    assert list(profile.items()) == list(GLANCE_PIKE_POLICY.items())
