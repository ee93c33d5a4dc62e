# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cloudimage.glance.plugins.modules import image_policy

PIKE_STYLE = '{\n    "context_is_admin":  "role:admin",\n\n    "add_member": "",\n    "get_image": ""\n}\n'


def run(capsys, tmp_path, check_mode=False, diff=False, **args):
    args.setdefault('_ansible_tmpdir', str(tmp_path))
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff
    # warnings are collected process-wide; each run here stands for a separate module process
    module_warnings._global_warnings.clear()
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            image_policy.main()
    result = json.loads(capsys.readouterr().out)
    result['_rc'] = exc.value.code
    # ansible-core 2.19 sends warnings as structured events
    result['warnings'] = [
        warning['event']['msg'] if isinstance(warning, dict) else warning
        for warning in result.get('warnings', [])
    ]
    return result


@pytest.fixture
def policy(tmp_path):
    folder = tmp_path / 'etc'
    folder.mkdir()
    return folder / 'policy.yaml'


def test_create_then_idempotent(capsys, tmp_path, policy):
    rules = {'publicize_image': 'rule:context_is_admin', 'add_member': 'rule:context_is_admin'}
    result = run(capsys, tmp_path, path=str(policy), rules=rules)
    assert result['_rc'] == 0 and result['changed'] is True
    assert result['changed_rules'] == ['publicize_image', 'add_member']
    assert result['restart_required'] is False
    assert result['format'] == 'yaml'
    assert policy.read_text() == '"publicize_image": "rule:context_is_admin"\n"add_member": "rule:context_is_admin"\n'
    mtime = policy.stat().st_mtime_ns
    again = run(capsys, tmp_path, path=str(policy), rules=rules)
    assert again['changed'] is False and again['changed_rules'] == []
    assert policy.stat().st_mtime_ns == mtime


def test_check_mode_writes_nothing(capsys, tmp_path, policy):
    result = run(capsys, tmp_path, check_mode=True, diff=True, path=str(policy), rules={'get_image': 'role:reader'})
    assert result['changed'] is True
    assert result['rules'] == {'get_image': 'role:reader'}
    assert result['diff']['before'] == '' and result['diff']['after'] == '"get_image": "role:reader"\n'
    assert not policy.exists()
    assert os.listdir(policy.parent) == []

    policy.write_text(PIKE_STYLE)
    before = policy.read_bytes()
    result = run(capsys, tmp_path, check_mode=True, path=str(policy), rules={'add_member': '!'}, mode='0600', backup=True)
    assert result['changed'] is True
    assert policy.read_bytes() == before
    assert os.listdir(policy.parent) == ['policy.yaml']
    assert stat.S_IMODE(policy.stat().st_mode) != 0o600


def test_keeps_order_and_untouched_rules(capsys, tmp_path):
    path = tmp_path / 'policy.json'
    path.write_text(PIKE_STYLE)
    result = run(capsys, tmp_path, diff=True, path=str(path), rules={'add_member': 'rule:context_is_admin', 'delete_member': 'rule:context_is_admin'})
    assert result['changed'] is True
    assert result['format'] == 'json'
    assert list(json.loads(path.read_text())) == ['context_is_admin', 'add_member', 'get_image', 'delete_member']
    assert path.read_text() == (
        '{\n    "context_is_admin": "role:admin",\n    "add_member": "rule:context_is_admin",\n'
        '    "get_image": "",\n    "delete_member": "rule:context_is_admin"\n}\n'
    )
    assert result['diff']['before'] == '"context_is_admin": "role:admin"\n"add_member": ""\n"get_image": ""\n'


def test_same_rules_other_layout_not_rewritten(capsys, tmp_path):
    path = tmp_path / 'policy.json'
    path.write_text(PIKE_STYLE)
    result = run(capsys, tmp_path, path=str(path), rules={'get_image': ''}, allow_open_rules=True)
    assert result['changed'] is False
    assert path.read_text() == PIKE_STYLE


def test_absent_and_restart_required(capsys, tmp_path):
    path = tmp_path / 'policy.json'
    path.write_text(PIKE_STYLE)
    result = run(capsys, tmp_path, path=str(path), rules=['add_member', 'not_there'], state='absent')
    assert result['changed'] is True
    assert result['restart_required'] is True
    assert result['removed_rules'] == ['add_member']
    assert json.loads(path.read_text()) == {'context_is_admin': 'role:admin', 'get_image': ''}
    again = run(capsys, tmp_path, path=str(path), rules=['add_member'], state='absent')
    assert again['changed'] is False and again['restart_required'] is False


def test_absent_never_creates_file(capsys, tmp_path, policy):
    result = run(capsys, tmp_path, path=str(policy), rules=['add_member'], state='absent')
    assert result['changed'] is False
    assert not policy.exists()


def test_exclusive_without_rules_writes_empty_mapping(capsys, tmp_path):
    path = tmp_path / 'policy.json'
    path.write_text(PIKE_STYLE)
    result = run(capsys, tmp_path, path=str(path), exclusive=True)
    assert result['changed'] is True and result['restart_required'] is True
    assert result['changed_rules'] == ['context_is_admin', 'add_member', 'get_image']
    assert path.exists() and path.read_text() == '{}\n'


def test_exclusive_keeps_file_order(capsys, tmp_path):
    path = tmp_path / 'policy.json'
    path.write_text(PIKE_STYLE)
    run(capsys, tmp_path, path=str(path), exclusive=True,
        rules={'get_image': 'role:reader', 'publicize_image': 'role:admin', 'context_is_admin': 'role:admin'})
    assert list(json.loads(path.read_text())) == ['context_is_admin', 'get_image', 'publicize_image']


def test_backup(capsys, tmp_path):
    path = tmp_path / 'policy.json'
    path.write_text(PIKE_STYLE)
    result = run(capsys, tmp_path, path=str(path), rules={'add_member': '!'}, backup=True)
    assert result['changed'] is True
    backup = result['backup_file']
    assert os.path.dirname(backup) == str(tmp_path)
    with open(backup) as handle:
        assert handle.read() == PIKE_STYLE
    again = run(capsys, tmp_path, path=str(path), rules={'add_member': '!'}, backup=True)
    assert 'backup_file' not in again


def test_mode_applied_and_kept(capsys, tmp_path, policy):
    run(capsys, tmp_path, path=str(policy), rules={'add_member': '!'}, mode='0640')
    assert stat.S_IMODE(policy.stat().st_mode) == 0o640
    # a later write without mode keeps the file's mode
    run(capsys, tmp_path, path=str(policy), rules={'add_member': 'role:admin'})
    assert stat.S_IMODE(policy.stat().st_mode) == 0o640
    result = run(capsys, tmp_path, diff=True, path=str(policy), rules={'add_member': 'role:admin'}, mode='0644')
    assert result['changed'] is True
    assert result['diff'][1]['before'] == {'mode': '0640'} and result['diff'][1]['after'] == {'mode': '0644'}


def test_open_rule_warning(capsys, tmp_path, policy):
    result = run(capsys, tmp_path, path=str(policy), rules={'publicize_image': '', 'add_member': '@'})
    assert any('publicize_image, add_member let every authenticated user through' in w for w in result['warnings'])
    result = run(capsys, tmp_path, path=str(policy), rules={'publicize_image': '!', 'add_member': '!'}, allow_open_rules=True)
    assert not result.get('warnings')
    result = run(capsys, tmp_path, path=str(policy), rules={'publicize_image': ''}, allow_open_rules=True)
    assert not result.get('warnings')


def test_warns_about_unparsable_rules_it_keeps(capsys, tmp_path):
    path = tmp_path / 'policy.json'
    path.write_text('{"get_image": "role:reader or", "add_member": "role:admin and"}')
    result = run(capsys, tmp_path, path=str(path), rules={'add_member': 'role:admin'})
    assert result['changed'] is True
    assert result['warnings'] == [
        f"rule(s) get_image of {path} have check strings Glance cannot parse (it denies them to everyone); this task left them as they are"
    ]
    assert json.loads(path.read_text()) == {'get_image': 'role:reader or', 'add_member': 'role:admin'}


def test_world_writable_warning(capsys, tmp_path, policy):
    result = run(capsys, tmp_path, path=str(policy), rules={'add_member': '!'}, mode='0666')
    assert any('world-writable' in w for w in result['warnings'])


@pytest.mark.parametrize('args, message', [
    ({'rules': {'publicise_image': 'role:admin'}}, "unknown rule name 'publicise_image' (did you mean 'publicize_image'?)"),
    ({'rules': {'add_member': 'role:admin or'}}, "rule 'add_member': invalid check string \"role:admin or\": a check is missing after 'or'"),
    ({'rules': {'add_member': '(role:admin'}}, "unbalanced '(': missing ')'"),
    ({'rules': {'add_member': 'rule:nowhere'}}, "'rule:nowhere' points to no rule"),
    ({'rules': {'add_member': 5}}, 'the check string must be a string'),
    ({'rules': ['add_member']}, 'a list of names is only accepted with state=absent'),
    ({'rules': {}, 'exclusive': True, 'state': 'absent'}, 'exclusive applies to state=present only'),
    ({'rules': ['context_is_admin_helper'], 'state': 'absent'}, "cannot remove rule 'context_is_admin_helper'"),
])
def test_invalid_input_leaves_file_untouched(capsys, tmp_path, args, message):
    path = tmp_path / 'policy.json'
    content = '{"context_is_admin_helper": "role:admin", "get_image": "rule:context_is_admin_helper"}'
    path.write_text(content)
    before = os.stat(path)
    result = run(capsys, tmp_path, path=str(path), **args)
    assert result['_rc'] == 1 and result['failed'] is True
    assert message in result['msg']
    assert '\n' not in result['msg']
    assert 'exception' not in result
    assert path.read_text() == content
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns
    assert os.listdir(tmp_path) == ['policy.json']


def test_validate_false_skips_checks(capsys, tmp_path, policy):
    result = run(capsys, tmp_path, path=str(policy), rules={'custom': 'whatever'}, validate=False)
    assert result['changed'] is True
    assert policy.read_text() == '"custom": "whatever"\n'


def test_allow_unknown_rules(capsys, tmp_path, policy):
    result = run(capsys, tmp_path, path=str(policy), rules={'new_in_next_release': 'role:admin'}, allow_unknown_rules=True)
    assert result['changed'] is True


@pytest.mark.parametrize('name, content, message', [
    ('policy.json', '{"a": "b",}', 'not valid JSON'),
    ('policy.yaml', 'a: [b\n', 'not valid YAML'),
    ('policy.yaml', '- a\n', 'expected a mapping'),
    ('policy.yaml', 'a: ""\na: "!"\n', "rule 'a' is defined twice"),
])
def test_unreadable_file_refused_unless_force(capsys, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    result = run(capsys, tmp_path, path=str(path), rules={'add_member': '!'})
    assert result['failed'] is True
    assert message in result['msg'] and 'force=true' in result['msg']
    assert '\n' not in result['msg']
    assert path.read_text() == content

    result = run(capsys, tmp_path, path=str(path), rules={'add_member': '!'}, force=True, backup=True)
    assert result['changed'] is True and result['restart_required'] is True
    with open(result['backup_file']) as handle:
        assert handle.read() == content
    assert any('replaced' in w for w in result['warnings'])


def test_missing_folder(capsys, tmp_path):
    path = tmp_path / 'nope' / 'policy.yaml'
    result = run(capsys, tmp_path, path=str(path), rules={'add_member': '!'})
    assert result['failed'] is True
    assert result['msg'] == f'folder {tmp_path / "nope"} does not exist (the policy file {path} cannot be created there)'
    assert not path.parent.exists()


def test_path_is_a_folder(capsys, tmp_path):
    result = run(capsys, tmp_path, path=str(tmp_path), rules={'add_member': '!'})
    assert result['failed'] is True and 'is a folder' in result['msg']


def test_format_override_and_detection(capsys, tmp_path):
    path = tmp_path / 'policy'
    run(capsys, tmp_path, path=str(path), rules={'add_member': '!'}, format='json')
    assert json.loads(path.read_text()) == {'add_member': '!'}
    # without format, the content tells it is JSON
    result = run(capsys, tmp_path, path=str(path), rules={'get_image': 'role:reader'})
    assert result['format'] == 'json'
    assert json.loads(path.read_text()) == {'add_member': '!', 'get_image': 'role:reader'}


def test_rules_as_json_string(capsys, tmp_path, policy):
    result = run(capsys, tmp_path, path=str(policy), rules='{"add_member": "!"}')
    assert result['changed'] is True and result['rules'] == {'add_member': '!'}


def test_no_temporary_files_left(capsys, tmp_path, policy):
    for check in ('!', 'role:admin', '!'):
        run(capsys, tmp_path, path=str(policy), rules={'add_member': check})
    assert sorted(os.listdir(policy.parent)) == ['policy.yaml']


# -- file safety ----------------------------------------------------------------------------
def test_symlinked_policy_file_is_written_through_to_its_target(capsys, tmp_path, policy):
    target = tmp_path / 'shared-policy.yaml'
    target.write_text('"get_image": ""\n')
    policy.symlink_to(target)
    result = run(capsys, tmp_path, path=str(policy), rules={'add_member': 'role:admin'})
    assert result['_rc'] == 0 and result['changed'] is True
    assert policy.is_symlink() and os.readlink(policy) == str(target)
    assert target.read_text() == '"get_image": ""\n"add_member": "role:admin"\n'


@pytest.mark.parametrize('rules, words', [
    ({'add_member': None}, "rule add_member: the check string must be a string"),
    ({'add_member': ['role:admin']}, "rule add_member: the check string must be a string"),
    ({'add_member': {'role': 'admin'}}, "rule add_member: the check string must be a string"),
    ({'add_member': 1}, "rule add_member: the check string must be a string"),
])
def test_non_string_rules_are_refused_even_without_validation(capsys, tmp_path, policy, rules, words):
    policy.write_text('{}\n')
    result = run(capsys, tmp_path, path=str(policy), rules=rules, validate=False)
    assert result['_rc'] == 1 and words in result['msg']
    assert policy.read_text() == '{}\n'


def test_a_list_of_dicts_as_rule_names_to_remove_is_one_line(capsys, tmp_path, policy):
    policy.write_text('{}\n')
    result = run(capsys, tmp_path, path=str(policy), rules=[{'add_member': 'role:admin'}], state='absent')
    assert result['_rc'] == 1 and result['msg'].startswith('rules to remove must be rule names')
    assert '\n' not in result['msg']


def test_new_file_never_has_a_wider_mode_than_asked(capsys, tmp_path, policy, monkeypatch):
    seen = []
    real_replace = os.replace

    def watching_replace(source, destination):
        seen.append(stat.S_IMODE(os.stat(source).st_mode))
        return real_replace(source, destination)

    monkeypatch.setattr(os, 'replace', watching_replace)
    old_umask = os.umask(0o022)
    try:
        result = run(capsys, tmp_path, path=str(policy), rules={'add_member': 'role:admin'}, mode='0640')
    finally:
        os.umask(old_umask)
    assert result['_rc'] == 0
    assert seen == [0o640]
    assert stat.S_IMODE(policy.stat().st_mode) == 0o640


def test_backups_are_hidden_from_oslo_policy_dirs(capsys, tmp_path, policy):
    policy.write_text('"get_image": ""\n')
    result = run(capsys, tmp_path, path=str(policy), rules={'add_member': 'role:admin'}, backup=True)
    backup = result['backup_file']
    assert os.path.basename(backup).startswith('.')  # oslo.policy skips dot files in policy_dirs
    assert os.path.dirname(backup) == str(policy.parent)
    with open(backup) as handle:
        assert handle.read() == '"get_image": ""\n'


def test_non_utf8_file_is_reported_with_its_path(capsys, tmp_path, policy):
    policy.write_bytes(b'"get_image": "\xff"\n')
    result = run(capsys, tmp_path, path=str(policy), rules={'add_member': 'role:admin'})
    assert result['_rc'] == 1
    assert result['msg'].startswith('%s: not UTF-8 text' % policy)
    assert policy.read_bytes() == b'"get_image": "\xff"\n'


# -- deep nesting, remote checks, backups, links ---------------------------------------------
@pytest.mark.parametrize('name, content', [
    ('policy.json', '{"a": ' + '[' * 100000 + ']' * 100000 + '}'),
    ('policy.yaml', 'a: ' + '[' * 100000 + ']' * 100000 + '\n'),
])
def test_deeply_nested_file_is_one_line_and_force_replaces_it(capsys, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    result = run(capsys, tmp_path, path=str(path), rules={'add_member': '!'})
    assert result['_rc'] == 1 and 'exception' not in result
    assert result['msg'] == (
        f'{path}: nests deeper than 32 levels (a policy file is one mapping of rule names to check strings);'
        ' the file was left untouched (force=true replaces its content)')
    assert path.read_text() == content

    result = run(capsys, tmp_path, path=str(path), rules={'add_member': '!'}, force=True)
    assert result['_rc'] == 0 and result['changed'] is True and result['restart_required'] is True
    assert path.read_text().count('add_member') == 1


def test_deeply_nested_check_string_is_one_line_even_with_force(capsys, tmp_path, policy):
    policy.write_text('{}\n')
    text = '(' * 5000 + 'role:admin' + ')' * 5000
    for force in (False, True):
        result = run(capsys, tmp_path, path=str(policy), rules={'add_member': text}, force=force)
        assert result['_rc'] == 1 and 'exception' not in result
        assert result['msg'].startswith("rule 'add_member': invalid check string \"((((")
        assert result['msg'].endswith(f'nests deeper than 32 levels; {policy} was left untouched')
        assert policy.read_text() == '{}\n'


def test_deeply_nested_check_string_in_the_file_is_kept_with_a_warning(capsys, tmp_path, policy):
    deep = '(' * 5000 + 'role:admin' + ')' * 5000
    policy.write_text(json.dumps({'get_image': deep}))
    result = run(capsys, tmp_path, path=str(policy), rules={'add_member': 'role:admin'})
    assert result['_rc'] == 0 and result['changed'] is True
    assert any('rule(s) get_image' in warning for warning in result['warnings'])


@pytest.mark.parametrize('check', ['http://policy.example/check', 'role:admin or https://policy.example/%(project_id)s'])
def test_remote_checks_are_refused_unless_force(capsys, tmp_path, policy, check):
    policy.write_text('{}\n')
    scheme = 'https' if 'https:' in check else 'http'
    result = run(capsys, tmp_path, path=str(policy), rules={'add_member': check})
    assert result['_rc'] == 1
    assert result['msg'] == (
        f"rule 'add_member' has an {scheme} check: Glance would post the credentials of every caller"
        f' to that URL each time the rule is checked; {policy} was left untouched (force=true writes it anyway)')
    assert policy.read_text() == '{}\n'

    for validate in (True, False):
        result = run(capsys, tmp_path, path=str(policy), rules={'add_member': check}, validate=validate)
        assert result['_rc'] == 1 and policy.read_text() == '{}\n'

    result = run(capsys, tmp_path, path=str(policy), rules={'add_member': check}, force=True)
    assert result['_rc'] == 0 and result['changed'] is True
    assert result['warnings'] == [
        f"rule(s) add_member of {policy} have {scheme} checks: Glance posts the credentials of every caller"
        ' to their URL each time the rule is checked (written because force=true)']


@pytest.mark.parametrize('check', ["'a':a", 'True:True', '1:1', "role:admin or 'x':x"])
def test_open_rule_warning_sees_constant_literal_checks(capsys, tmp_path, policy, check):
    result = run(capsys, tmp_path, path=str(policy), rules={'add_member': check})
    assert result['_rc'] == 0
    assert any('add_member let every authenticated user through' in w for w in result['warnings'])


@pytest.mark.parametrize('source_mode', [0o600, 0o640, 0o644])
def test_backup_is_never_more_readable_than_its_source(capsys, tmp_path, policy, monkeypatch, source_mode):
    policy.write_text('"get_image": ""\n')
    policy.chmod(source_mode)
    first_modes = {}
    real_copystat = shutil.copystat

    def watching_copystat(source, destination, **kwargs):
        # the mode the backup was created with, before the source's mode is copied over
        first_modes.setdefault(os.fsdecode(destination), stat.S_IMODE(os.stat(destination).st_mode))
        return real_copystat(source, destination, **kwargs)

    monkeypatch.setattr(shutil, 'copystat', watching_copystat)
    old_umask = os.umask(0o022)
    try:
        result = run(capsys, tmp_path, path=str(policy), rules={'add_member': 'role:admin'}, backup=True)
    finally:
        os.umask(old_umask)
    assert result['_rc'] == 0
    assert first_modes[result['backup_file']] == 0o600
    assert stat.S_IMODE(os.stat(result['backup_file']).st_mode) == source_mode


@pytest.mark.parametrize('state, rules', [('present', {'add_member': 'role:admin'}), ('absent', ['add_member'])])
def test_dangling_symlink_is_refused(capsys, tmp_path, policy, state, rules):
    target = tmp_path / 'elsewhere' / 'policy.yaml'
    policy.symlink_to(target)
    result = run(capsys, tmp_path, path=str(policy), rules=rules, state=state)
    assert result['_rc'] == 1
    assert result['msg'] == f'{policy} is a symbolic link to {target}, which does not exist; nothing was written'
    assert not target.exists() and not (tmp_path / 'elsewhere').exists()
    assert policy.is_symlink()
    (tmp_path / 'elsewhere').mkdir()
    result = run(capsys, tmp_path, path=str(policy), rules=rules, state=state)
    assert result['_rc'] == 1 and not target.exists()
