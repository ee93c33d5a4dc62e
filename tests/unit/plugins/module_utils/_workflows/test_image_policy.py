# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import PolicyError
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext, run_workflow
from ansible_collections.cloudimage.glance.plugins.module_utils._workflows.image_policy import (
    ImagePolicyWorkflow, requested_rules,
)

# The module's own runs (files, attributes, warnings in the result) are in tests/unit/plugins/modules.


def test_a_local_file_needs_no_cloud_and_nothing_of_an_api():
    workflow = ImagePolicyWorkflow()
    assert workflow.connects is False
    assert workflow.needs({'state': 'present'}) == []


def test_exclusive_with_absent_fails_before_anything():
    with pytest.raises(PolicyError) as info:
        run_workflow(ImagePolicyWorkflow(), TaskContext({'exclusive': True, 'state': 'absent'}),
                     session_factory=lambda _params: pytest.fail('a policy file needs no session'))
    assert str(info.value) == 'exclusive applies to state=present only'


def test_rules_given_as_text():
    assert requested_rules('{"add_member": "role:admin"}') == {'add_member': 'role:admin'}
    assert requested_rules('add_member=role:admin') == {'add_member': 'role:admin'}
    with pytest.raises(PolicyError):
        requested_rules('[not, a, mapping')
