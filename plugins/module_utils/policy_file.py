# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The image_policy module's work: read the policy file, plan, validate, write atomically."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time

from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.module_utils.common.validation import check_type_dict

from ansible_collections.cloudimage.glance.plugins.module_utils.common import connection_argument_spec
from ansible_collections.cloudimage.glance.plugins.module_utils.policy import (
    HAS_YAML,
    PolicyError,
    PolicyFileError,
    detect_format,
    load_rules,
    normalize_requested,
    open_rules,
    plan_rules,
    unparsable_rules,
    render_rules,
    rules_for_diff,
    validate_plan,
)


def argument_spec():
    # The connection options are accepted (and ignored) so that module_defaults
    # set for the whole action group do not make this local-file module fail.
    return dict(
        connection_argument_spec(),
        path=dict(type='path', required=True, aliases=['dest']),
        rules=dict(type='raw', default={}),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        exclusive=dict(type='bool', default=False),
        format=dict(type='str', choices=['json', 'yaml']),
        validate=dict(type='bool', default=True),
        allow_unknown_rules=dict(type='bool', default=False),
        allow_open_rules=dict(type='bool', default=False),
        force=dict(type='bool', default=False),
        backup=dict(type='bool', default=False),
    )


class _Failure(Exception):
    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


def _read(path):
    """The file's text, or None when it does not exist; PolicyFileError when it is no UTF-8 text."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _Failure(f'cannot read {path}: {to_native(exc.strerror or exc)}') from None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise PolicyFileError(f'not UTF-8 text (byte {exc.start})') from None


def _check_path(path):
    folder = os.path.dirname(path) or '.'
    if not os.path.isdir(folder):
        raise _Failure(f'folder {folder} does not exist (the policy file {path} cannot be created there)')
    if os.path.isdir(path):
        raise _Failure(f'{path} is a folder, not a policy file')
    if os.path.lexists(path) and not os.path.isfile(path):
        raise _Failure(f'{path} exists but is not a regular file')


def _backup(path):
    """Copy ``path`` next to itself under a dot name: oslo.policy skips dot files in ``policy_dirs``."""
    folder, name = os.path.split(path)
    backup = os.path.join(folder, '.%s.%d.%s~' % (name, os.getpid(), time.strftime('%Y-%m-%d@%H:%M:%S')))
    try:
        shutil.copy2(path, backup)
    except OSError as exc:
        raise _Failure(f'cannot back up {path} to {backup}: {to_native(exc.strerror or exc)}') from None
    return backup


def _new_file_mode(module):
    """The mode a new file gets: the task's ``mode``, else what the umask allows."""
    umask = os.umask(0)
    os.umask(umask)
    default = 0o666 & ~umask
    mode = module.params.get('mode')
    if mode is None:
        return default
    if isinstance(mode, int):
        return mode
    if str(mode).isdigit():
        return int(str(mode), 8)
    return module._symbolic_mode_to_octal(os.stat_result((default,) + (0,) * 9), str(mode))


def _write_atomically(module, path, content, new):
    """Write into a temporary file next to path, then rename it over path.

    A reader (Glance re-reads the file when its mtime changes) sees the old file or
    the new one, never half of one. atomic_move keeps an existing file's mode and
    owner; a new file has its final mode before it appears under its name.
    """
    folder = os.path.dirname(path) or '.'
    try:
        fd, tmp_path = tempfile.mkstemp(prefix=f'.{os.path.basename(path)}.', suffix='.tmp', dir=folder)
    except OSError as exc:
        raise _Failure(f'cannot create a temporary file in {folder}: {to_native(exc.strerror or exc)}') from None
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(to_bytes(content))
            handle.flush()
            os.fsync(handle.fileno())
        if new:
            os.chmod(tmp_path, _new_file_mode(module))
            module.set_default_selinux_context(tmp_path, False)
            os.replace(tmp_path, path)
        else:
            module.atomic_move(tmp_path, path, unsafe_writes=module.params.get('unsafe_writes', False))
    finally:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)


def run(module):
    """Return the result dictionary, or raise _Failure / PolicyError."""
    params = module.params
    path = params['path']
    state = params['state']
    exclusive = params['exclusive']
    if exclusive and state == 'absent':
        raise _Failure('exclusive applies to state=present only')

    rules = params['rules']
    if isinstance(rules, str):
        # rules given as a string, as in ad-hoc key=value arguments: JSON or key=value pairs
        try:
            rules = check_type_dict(rules)
        except TypeError:
            raise _Failure('rules must be a dictionary of rule names to check strings') from None
    requested = normalize_requested(rules, state)
    # A symlinked policy file (a shared or templated one) is written through to its target.
    target = os.path.realpath(path) if os.path.islink(path) else path
    _check_path(target)

    unreadable = None
    try:
        text = _read(target)
    except PolicyFileError as exc:
        if not params['force']:
            raise _Failure(f'{path}: {exc}; the file was left untouched (force=true replaces its content)') from None
        text, unreadable = '', str(exc)
    exists = text is not None
    fmt = params['format'] or detect_format(path, text)
    if fmt == 'yaml' and not HAS_YAML:
        raise _Failure('PyYAML is needed to read a YAML policy file; install it or use format=json')

    current = {}
    if exists and unreadable is None:
        try:
            current = load_rules(text, fmt)
        except PolicyFileError as exc:
            if not params['force']:
                raise _Failure(
                    f'{path}: {exc}; the file was left untouched (force=true replaces its content)'
                ) from None
            unreadable = str(exc)

    plan = plan_rules(current, requested, state=state, exclusive=exclusive)
    if params['validate']:
        errors = validate_plan(
            plan, requested, state=state, allow_unknown_rules=params['allow_unknown_rules'])
        if errors:
            more = f' (and {len(errors) - 1} more problem(s))' if len(errors) > 1 else ''
            raise _Failure(f'{errors[0]}{more}; {path} was left untouched', problems=errors)

    if params['validate']:
        broken = unparsable_rules(plan.after, skip=requested)
        if broken:
            module.warn(
                f"rule(s) {', '.join(broken)} of {path} have check strings Glance cannot parse"
                ' (it denies them to everyone); this task left them as they are')

    if state == 'present' and not params['allow_open_rules']:
        opened = open_rules(plan, requested)
        if opened:
            module.warn(
                f"rule(s) {', '.join(opened)} let every authenticated user through"
                ' (set allow_open_rules=true if that is intended)')

    # state=present makes sure the file exists; absent never creates it.
    must_write = plan.changed or unreadable is not None or (state == 'present' and not exists)
    changed = must_write
    result = dict(
        path=path,
        format=fmt,
        rules=plan.after,
        changed_rules=plan.changed_rules,
        removed_rules=list(plan.removed),
        restart_required=plan.restart_required or unreadable is not None,
    )
    if unreadable is not None:
        module.warn(f'{path}: {unreadable}; its content was replaced (force=true)')

    if must_write and not module.check_mode:
        if exists and params['backup']:
            result['backup_file'] = _backup(target)
        _write_atomically(module, target, render_rules(plan.after, fmt), new=not exists)
        exists = True

    diffs = []
    if module._diff:
        diffs.append(dict(
            before=rules_for_diff(plan.before),
            after=rules_for_diff(plan.after),
            before_header=f'{path} (rules before)',
            after_header=f'{path} (rules after)',
        ))

    if exists:
        attr_diff = dict(before={}, after={})
        file_args = module.load_file_common_arguments(params, path=target)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=attr_diff)
        if module._diff and (attr_diff['before'] or attr_diff['after']):
            attr_diff['before_header'] = attr_diff['after_header'] = f'{path} (attributes)'
            diffs.append(attr_diff)
        if not module.check_mode and os.stat(target).st_mode & stat.S_IWOTH:
            module.warn(f'{path} is world-writable: anyone on the host could rewrite the Glance policy')

    result['changed'] = changed
    if diffs:
        result['diff'] = diffs if len(diffs) > 1 else diffs[0]
    return result


def main(module):
    try:
        result = run(module)
    except _Failure as exc:
        module.fail_json(msg=exc.msg, **exc.extra)
    except PolicyError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)
