# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import PolicyError, PolicyFileError
from ansible_collections.cloudimage.glance.plugins.module_utils._policy.check_strings import MAX_CHECK_DEPTH
from ansible_collections.cloudimage.glance.plugins.module_utils._policy.document import (
    MAX_FILE_DEPTH,
    MAX_REFERENCE_DEPTH,
    detect_format,
    load_rules,
    normalize_requested,
    open_rules,
    plan_rules,
    remote_check_rules,
    render_rules,
    rules_for_diff,
    unparsable_rules,
    validate_plan,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._policy.rules import (
    GLANCE_CURRENT_DEFAULTS,
    GLANCE_PIKE_POLICY,
)

from .test_rules import SEED_NAMES


# --- formats -------------------------------------------------------------------

@pytest.mark.parametrize('path, text, expected', [
    ('/etc/glance/policy.json', None, 'json'),
    ('/etc/glance/POLICY.JSON', None, 'json'),
    ('/etc/glance/policy.yaml', '{"a": "b"}', 'yaml'),
    ('/etc/glance/policy.yml', None, 'yaml'),
    ('/etc/glance/policy', None, 'yaml'),
    ('/etc/glance/policy', '  {\n "a": ""}', 'json'),
    ('/etc/glance/policy', '"a": ""', 'yaml'),
])
def test_detect_format(path, text, expected):
    assert detect_format(path, text) == expected


AWKWARD = {
    'context_is_admin': 'role:admin',
    'z_last': "'public':%(visibility)s",
    'a_after': 'role:a # not a comment',
    'quote"s': 'x:"y"',
    'back\\slash': 'role:\\n',
    'unicode': 'role:ädmin',
    'empty': '',
    'on': 'yes',
}


@pytest.mark.parametrize('fmt', ['json', 'yaml'])
def test_render_round_trip_keeps_order(fmt):
    text = render_rules(AWKWARD, fmt)
    assert text.endswith('\n')
    loaded = load_rules(text, fmt)
    assert loaded == AWKWARD
    assert list(loaded) == list(AWKWARD)
    # oslo.policy reads every file as YAML: what we write must read back the same way
    assert list(yaml.safe_load(text).items()) == list(AWKWARD.items())
    assert render_rules(loaded, fmt) == text


def test_render_json_pretty_and_stable():
    assert render_rules({'b': '', 'a': 'role:admin'}, 'json') == '{\n    "b": "",\n    "a": "role:admin"\n}\n'


def test_render_yaml_layout():
    assert render_rules({'b': '', 'a': 'role:admin'}, 'yaml') == '"b": ""\n"a": "role:admin"\n'


@pytest.mark.parametrize('fmt', ['json', 'yaml'])
def test_render_empty_mapping(fmt):
    assert render_rules({}, fmt) == '{}\n'
    assert load_rules('{}\n', fmt) == {}


@pytest.mark.parametrize('text, fmt', [
    ('', 'json'), ('  \n', 'json'), ('', 'yaml'), ('# only a comment\n', 'yaml'), ('---\n', 'yaml'),
])
def test_load_empty(text, fmt):
    assert load_rules(text, fmt) == {}


def test_load_yaml_reads_json_and_comments():
    assert load_rules('{"a": "role:admin"}', 'yaml') == {'a': 'role:admin'}
    sample = '# generated\n#"get_image": "rule:default"\n"add_image": "role:admin"\nget_images: role:reader\n'
    assert load_rules(sample, 'yaml') == {'add_image': 'role:admin', 'get_images': 'role:reader'}


@pytest.mark.parametrize('text, fmt, message', [
    ('{"a": "b",}', 'json', 'not valid JSON'),
    ('{"a": "b"', 'json', 'not valid JSON'),
    ('a: b\n', 'json', 'not valid JSON'),
    ('a: [b\n', 'yaml', 'not valid YAML'),
    ('a: "b\n', 'yaml', 'not valid YAML'),
    ('a: b\n  c: d\n', 'yaml', 'not valid YAML'),
    ('["a"]', 'json', 'expected a mapping'),
    ('- a\n', 'yaml', 'expected a mapping'),
    ('just text', 'yaml', 'expected a mapping'),
    ('{"a": 1}', 'json', "rule 'a' has a int value"),
    ('a:\n', 'yaml', "rule 'a' has a NoneType value"),
    ('a: [[role:admin]]\n', 'yaml', "rule 'a' has a list value"),
    ('1: role:admin\n', 'yaml', 'is not a string'),
    ('{"a": "", "a": "!"}', 'json', "rule 'a' is defined twice"),
    ('a: ""\na: "!"\n', 'yaml', "rule 'a' is defined twice"),
])
def test_load_invalid(text, fmt, message):
    with pytest.raises(PolicyFileError) as exc:
        load_rules(text, fmt)
    assert message in str(exc.value)
    assert '\n' not in str(exc.value)


def test_unknown_format():
    with pytest.raises(PolicyError):
        render_rules({}, 'ini')
    with pytest.raises(PolicyError):
        load_rules('', 'ini')


# --- rule diff -----------------------------------------------------------------

CURRENT = {'context_is_admin': 'role:admin', 'get_image': '', 'add_member': ''}


@pytest.mark.parametrize('requested, state, exclusive, after, added, updated, removed', [
    # set one existing rule: position kept
    ({'get_image': 'role:reader'}, 'present', False,
     {'context_is_admin': 'role:admin', 'get_image': 'role:reader', 'add_member': ''}, [], ['get_image'], []),
    # new rules are appended in the task's order
    ({'z': '!', 'delete_image': 'role:admin'}, 'present', False,
     {**CURRENT, 'z': '!', 'delete_image': 'role:admin'}, ['z', 'delete_image'], [], []),
    # same values: nothing changes
    ({'get_image': ''}, 'present', False, CURRENT, [], [], []),
    ({}, 'present', False, CURRENT, [], [], []),
    # exclusive keeps the file order of the rules that stay
    ({'add_member': 'role:admin', 'context_is_admin': 'role:admin', 'new': ''}, 'present', True,
     {'context_is_admin': 'role:admin', 'add_member': 'role:admin', 'new': ''}, ['new'], ['add_member'], ['get_image']),
    ({}, 'present', True, {}, [], [], ['context_is_admin', 'get_image', 'add_member']),
    # absent
    ({'get_image': None, 'nope': None}, 'absent', False,
     {'context_is_admin': 'role:admin', 'add_member': ''}, [], [], ['get_image']),
    ({'nope': None}, 'absent', False, CURRENT, [], [], []),
])
def test_plan_rules(requested, state, exclusive, after, added, updated, removed):
    plan = plan_rules(CURRENT, requested, state=state, exclusive=exclusive)
    assert plan.after == after
    assert list(plan.after) == list(after)
    assert plan.added == added
    assert plan.updated == updated
    assert plan.removed == removed
    assert plan.changed is bool(added or updated or removed)
    assert plan.restart_required is bool(removed)
    assert plan.before == CURRENT


def test_plan_changed_rules_order():
    plan = plan_rules(CURRENT, {'add_member': 'role:admin', 'new': '', 'context_is_admin': 'role:admin'}, exclusive=True)
    assert plan.changed_rules == ['add_member', 'new', 'get_image']


def test_plan_does_not_mutate_inputs():
    current = dict(CURRENT)
    requested = {'get_image': '!'}
    plan_rules(current, requested)
    assert current == CURRENT and requested == {'get_image': '!'}


def test_plan_unknown_state():
    with pytest.raises(PolicyError):
        plan_rules({}, {}, state='gone')


def test_rules_for_diff():
    assert rules_for_diff({'a': 'role:x', 'b': ''}) == '"a": "role:x"\n"b": ""\n'
    assert rules_for_diff({}) == ''


@pytest.mark.parametrize('rules, state, expected', [
    (None, 'present', {}),
    ({'a': 'b'}, 'present', {'a': 'b'}),
    (['a', 'b'], 'absent', {'a': None, 'b': None}),
    ({'a': 'x'}, 'absent', {'a': 'x'}),
])
def test_normalize_requested(rules, state, expected):
    assert normalize_requested(rules, state) == expected


@pytest.mark.parametrize('rules, state', [(['a'], 'present'), ('a', 'present'), (3, 'absent')])
def test_normalize_requested_invalid(rules, state):
    with pytest.raises(PolicyError):
        normalize_requested(rules, state)


# --- validation ----------------------------------------------------------------

def problems(current, requested, state='present', exclusive=False, **kwargs):
    plan = plan_rules(current, requested, state=state, exclusive=exclusive)
    return validate_plan(plan, requested, state=state, **kwargs)


@pytest.mark.parametrize('requested', [
    {'publicize_image': 'rule:context_is_admin'},
    {'copy_from': 'role:admin'},
    {'add_member': 'rule:context_is_admin or (role:member and project_id:%(project_id)s)'},
    {'get_image': "role:reader and ('public':%(visibility)s or project_id:%(owner)s)"},
    # rule: pointing at a Glance in-code default that is not in the file
    {'add_image': 'rule:service_api or rule:metadef_admin'},
    # rule: pointing at a rule the task itself adds
    {'default': 'role:admin', 'add_image': 'rule:default'},
    # helper rule referenced by another rule of the result
    {'admin_or_owner': 'is_admin:True or project_id:%(project_id)s', 'modify_image': 'rule:admin_or_owner'},
    {name: 'role:admin' for name in SEED_NAMES},
    dict(GLANCE_PIKE_POLICY),
    dict(GLANCE_CURRENT_DEFAULTS),
])
def test_validate_ok(requested):
    assert problems({}, requested) == []


def test_validate_rule_defined_in_file():
    assert problems({'my_helper': 'role:x', 'get_image': 'rule:my_helper'}, {'add_image': 'rule:my_helper'}) == []


@pytest.mark.parametrize('current, requested, message', [
    ({}, {'publicise_image': 'role:admin'},
     "unknown rule name 'publicise_image' (did you mean 'publicize_image'?); set allow_unknown_rules=true"),
    ({}, {'frobnicate': 'role:admin'}, "unknown rule name 'frobnicate'; set allow_unknown_rules=true"),
    ({}, {'add_image': 'role:admin and'}, "rule 'add_image': invalid check string \"role:admin and\": a check is missing after 'and'"),
    ({}, {'add_image': 'rule:nowhere'}, "rule 'add_image': 'rule:nowhere' points to no rule"),
    ({}, {'add_image': None}, "rule 'add_image': the check string must be a string, got nothing"),
    ({}, {'add_image': 5}, "rule 'add_image': the check string must be a string, got a int"),
    ({}, {'': 'role:admin'}, 'rule names must be non-empty strings'),
    ({}, {'add image': 'role:admin'}, "rule name 'add image' contains blanks"),
    ({}, {'add_image': 'rule:add_image'}, "rule 'add_image': rule references loop back: add_image -> add_image"),
    ({'h1': 'rule:h2'}, {'h2': 'rule:h1', 'add_image': 'rule:h2'}, 'loop back: h2 -> h1 -> h2'),
    # exclusive drops the helper rule the requested rule needs
    ({'my_helper': 'role:x'}, {'add_image': 'rule:my_helper'}, "'rule:my_helper' points to no rule"),
])
def test_validate_problems(current, requested, message):
    found = problems(current, requested, exclusive=current == {'my_helper': 'role:x'})
    assert found, 'expected a problem'
    assert any(message in problem for problem in found), found
    assert all('\n' not in problem for problem in found)


def test_validate_allow_unknown():
    assert problems({}, {'frobnicate': 'role:admin'}, allow_unknown_rules=True) == []
    # syntax is still checked
    assert problems({}, {'frobnicate': 'role:admin or'}, allow_unknown_rules=True)


def test_validate_absent_still_referenced():
    current = {'my_helper': 'role:x', 'add_image': 'rule:my_helper'}
    found = problems(current, {'my_helper': None}, state='absent')
    assert found == ["cannot remove rule 'my_helper': rule 'add_image' still references it"]
    # a rule Glance has a default for may go: the default takes over
    assert problems({'context_is_admin': 'role:admin', 'add_image': 'rule:context_is_admin'},
                    {'context_is_admin': None}, state='absent') == []
    # unknown names may be removed
    assert problems({'junk': ''}, {'junk': None}, state='absent') == []


@pytest.mark.parametrize('current, requested, expected', [
    ({}, {'add_image': ''}, ['add_image']),
    ({}, {'add_image': '@'}, ['add_image']),
    ({}, {'add_image': 'role:admin or @'}, ['add_image']),
    ({}, {'add_image': 'rule:default'}, ['add_image']),  # default is "" on current Glance
    ({}, {'default': 'role:admin', 'add_image': 'rule:default'}, []),
    ({}, {'add_image': 'role:admin', 'add_member': '!'}, []),
    ({'add_image': ''}, {'add_image': ''}, []),  # unchanged: no warning again
])
def test_open_rules(current, requested, expected):
    plan = plan_rules(current, requested)
    assert open_rules(plan, requested) == expected


def test_pike_profile_json_matches_shipped_layout():
    rendered = json.loads(render_rules(GLANCE_PIKE_POLICY, 'json'))
    assert list(rendered) == list(GLANCE_PIKE_POLICY)


def test_unparsable_rules():
    rules = {'a': '', 'b': 'role:x or', 'c': 'admin', 'd': 'role:x'}
    assert unparsable_rules(rules) == ['b', 'c']
    assert unparsable_rules(rules, skip={'b': None}) == ['c']


# --- depth and remote checks -----------------------------------------------------

@pytest.mark.parametrize('text, fmt', [
    ('{"a": ' + '[' * 5000 + ']' * 5000 + '}', 'json'),
    ('{"a": ' + '{"b": ' * 5000 + '""' + '}' * 5000 + '}', 'json'),
    ('a: ' + '[' * 5000 + ']' * 5000 + '\n', 'yaml'),
    ('a: ' + '{b: ' * 5000 + 'c' + '}' * 5000 + '\n', 'yaml'),
    (''.join(' ' * level + f'k{level}:\n' for level in range(3000)), 'yaml'),
])
def test_load_refuses_deep_nesting_in_one_line(text, fmt):
    with pytest.raises(PolicyFileError) as exc:
        load_rules(text, fmt)
    assert str(exc.value) == f'nests deeper than {MAX_FILE_DEPTH} levels (a policy file is one mapping of rule names to check strings)'


@pytest.mark.parametrize('text, fmt', [
    ('{"a": "[[[[{{{{", "b": "\\"[[[["}', 'json'),
    ('a: "[[[[{{{{"\nb: \'[[[[\'\n', 'yaml'),
])
def test_brackets_inside_strings_are_no_nesting(text, fmt):
    assert len(load_rules(text, fmt)) == 2


def test_deep_check_string_is_one_short_problem():
    text = '(' * 3000 + 'role:admin' + ')' * 3000
    found = problems({}, {'add_image': text})
    assert len(found) == 1
    assert found[0].startswith("rule 'add_image': invalid check string \"((((")
    assert found[0].endswith(f'nests deeper than {MAX_CHECK_DEPTH} levels')
    assert len(found[0]) < 200


def test_long_rule_reference_chain_is_one_problem():
    chain = {f'h{index}': f'rule:h{index + 1}' for index in range(3000)}
    chain['h3000'] = 'role:admin'
    requested = {'add_image': 'rule:h0'}
    found = problems(chain, requested, allow_unknown_rules=True)
    assert found == [f"rule 'add_image': rule references nest deeper than {MAX_REFERENCE_DEPTH} levels"]
    assert open_rules(plan_rules(chain, requested), requested) == []


@pytest.mark.parametrize('requested, expected', [
    ({'add_image': 'role:admin'}, []),
    ({'add_image': 'http://policy.example/check'}, [('add_image', 'http')]),
    ({'add_image': 'role:admin or https://policy.example/%(project_id)s', 'get_image': 'http://x'},
     [('add_image', 'https'), ('get_image', 'http')]),
    ({'add_image': 'not https://x'}, [('add_image', 'https')]),
])
def test_remote_check_rules(requested, expected):
    assert remote_check_rules(plan_rules({}, requested), requested) == expected


def test_remote_check_rules_only_sees_what_the_task_writes():
    current = {'get_image': 'http://x', 'add_image': 'https://y'}
    requested = {'add_image': 'https://y', 'delete_image': 'rule:get_image'}
    assert remote_check_rules(plan_rules(current, requested), requested) == []


@pytest.mark.parametrize('text', ["'a':a", 'True:True', '1:1', "role:admin or 'x':x"])
def test_open_rules_sees_constant_literal_checks(text):
    requested = {'add_image': text}
    assert open_rules(plan_rules({}, requested), requested) == ['add_image']
