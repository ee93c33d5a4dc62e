# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_policy: read the policy file, plan, validate, write atomically, set its attributes."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time

from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.module_utils.common.validation import check_type_dict

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import PolicyError, PolicyFileError
from ansible_collections.cloudimage.glance.plugins.module_utils._policy.document import (
    HAS_YAML, detect_format, load_rules, normalize_requested, open_rules, plan_rules, remote_check_rules,
    render_rules, rules_for_diff, unparsable_rules, validate_plan,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import Workflow


class ImagePolicyWorkflow(Workflow):
    """A local file: no cloud session (the connection options are accepted and ignored)."""

    connects = False

    def validate(self, params):
        if params['exclusive'] and params['state'] == 'absent':
            raise PolicyError('exclusive applies to state=present only')
        return params

    def run(self, context):
        params = context.params
        path = params['path']
        requested = normalize_requested(requested_rules(params['rules']), params['state'])
        target = _target(path)
        _check_path(target)
        document = PolicyDocument(path, target, params)
        plan = plan_rules(document.rules, requested, state=params['state'], exclusive=params['exclusive'])
        check_plan(context, path, plan, requested)
        # state=present makes sure the file exists; absent never creates it.
        must_write = plan.changed or document.unreadable is not None or (
            params['state'] == 'present' and not document.exists)
        result = dict(
            path=path,
            format=document.format,
            rules=plan.after,
            changed_rules=plan.changed_rules,
            removed_rules=list(plan.removed),
            restart_required=plan.restart_required or document.unreadable is not None,
        )
        if document.unreadable is not None:
            context.warn(f'{path}: {document.unreadable}; its content was replaced (force=true)')
        if must_write and not context.check_mode:
            if document.exists and params['backup']:
                result['backup_file'] = _backup(target)
            _write_atomically(context, target, render_rules(plan.after, document.format), new=not document.exists)
            document.exists = True
        diffs = [dict(before=rules_for_diff(plan.before), after=rules_for_diff(plan.after),
                      before_header=f'{path} (rules before)', after_header=f'{path} (rules after)')]
        result['changed'] = must_write
        if document.exists:
            result['changed'] = apply_attributes(context, path, target, must_write, diffs)
        result['diff'] = diffs if len(diffs) > 1 else diffs[0]
        return result


def requested_rules(rules):
    if isinstance(rules, str):
        # rules given as a string, as in ad-hoc key=value arguments: JSON or key=value pairs
        try:
            return check_type_dict(rules)
        except TypeError:
            raise PolicyError('rules must be a dictionary of rule names to check strings') from None
    return rules


class PolicyDocument:
    """The policy file as it is: whether it exists, its format and rules, or why they cannot be read."""

    def __init__(self, path, target, params):
        self.unreadable = None
        try:
            text = _read(target)
        except PolicyFileError as exc:
            if not params['force']:
                raise PolicyError(f'{path}: {exc}; the file was left untouched (force=true replaces its content)') from None
            text, self.unreadable = '', str(exc)
        self.exists = text is not None
        self.format = params['format'] or detect_format(path, text)
        if self.format == 'yaml' and not HAS_YAML:
            raise PolicyError('PyYAML is needed to read a YAML policy file; install it or use format=json')
        self.rules = {}
        if self.exists and self.unreadable is None:
            try:
                self.rules = load_rules(text, self.format)
            except PolicyFileError as exc:
                if not params['force']:
                    raise PolicyError(
                        f'{path}: {exc}; the file was left untouched (force=true replaces its content)') from None
                self.unreadable = str(exc)


def check_plan(context, path, plan, requested):
    """Refuse an invalid plan before anything is written; warn of unparsable and open rules."""
    params = context.params
    if params['validate']:
        errors = validate_plan(plan, requested, state=params['state'],
                               allow_unknown_rules=params['allow_unknown_rules'])
        if errors:
            more = f' (and {len(errors) - 1} more problem(s))' if len(errors) > 1 else ''
            raise PolicyError(f'{errors[0]}{more}; {path} was left untouched', problems=errors)
        broken = unparsable_rules(plan.after, skip=requested)
        if broken:
            context.warn(
                f"rule(s) {', '.join(broken)} of {path} have check strings Glance cannot parse"
                ' (it denies them to everyone); this task left them as they are')
    if params['state'] == 'present':
        check_remote_rules(context, path, plan, requested)
    if params['state'] == 'present' and not params['allow_open_rules']:
        opened = open_rules(plan, requested)
        if opened:
            context.warn(
                f"rule(s) {', '.join(opened)} let every authenticated user through"
                ' (set allow_open_rules=true if that is intended)')


def check_remote_rules(context, path, plan, requested):
    """Refuse http: and https: checks (Glance posts every caller's credentials to them) unless forced."""
    remote = remote_check_rules(plan, requested)
    if not remote:
        return
    if not context.params['force']:
        name, scheme = remote[0]
        raise PolicyError(
            f"rule '{name}' has an {scheme} check: Glance would post the credentials of every caller"
            f' to that URL each time the rule is checked; {path} was left untouched (force=true writes it anyway)')
    schemes = ' and '.join(sorted({scheme for dummy, scheme in remote}))
    context.warn(
        f"rule(s) {', '.join(name for name, dummy in remote)} of {path} have {schemes} checks: Glance posts"
        ' the credentials of every caller to their URL each time the rule is checked (written because force=true)')


def apply_attributes(context, path, target, changed, diffs):
    """Owner, group and mode as the task says; whether anything changed. Adds the attribute diff."""
    attr_diff = dict(before={}, after={})
    changed = context.files.apply_attributes(context.params, target, changed, attr_diff)
    if attr_diff['before'] or attr_diff['after']:
        attr_diff['before_header'] = attr_diff['after_header'] = f'{path} (attributes)'
        diffs.append(attr_diff)
    if not context.check_mode and os.stat(target).st_mode & stat.S_IWOTH:
        context.warn(f'{path} is world-writable: anyone on the host could rewrite the Glance policy')
    return changed


def _read(path):
    """The file's text, or None when it does not exist; PolicyFileError when it is no UTF-8 text."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PolicyError(f'cannot read {path}: {to_native(exc.strerror or exc)}') from None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise PolicyFileError(f'not UTF-8 text (byte {exc.start})') from None


def _target(path):
    """The file to read and write: a symbolic link (a shared or templated policy file) is
    written through to the file it points to, which must exist (never created as root
    wherever a link points)."""
    if not os.path.islink(path):
        return path
    target = os.path.realpath(path)
    if not os.path.exists(target):
        raise PolicyError(f'{path} is a symbolic link to {target}, which does not exist; nothing was written')
    return target


def _check_path(path):
    folder = os.path.dirname(path) or '.'
    if not os.path.isdir(folder):
        raise PolicyError(f'folder {folder} does not exist (the policy file {path} cannot be created there)')
    if os.path.isdir(path):
        raise PolicyError(f'{path} is a folder, not a policy file')
    if os.path.lexists(path) and not os.path.isfile(path):
        raise PolicyError(f'{path} exists but is not a regular file')


def _backup(path):
    """Copy ``path`` next to itself under a dot name: oslo.policy skips dot files in ``policy_dirs``.

    The copy is created private (0600) and only then given the file's mode and times, so it
    is never readable by more users than the file itself, not even while it is written.
    """
    folder, name = os.path.split(path)
    backup = os.path.join(folder, '.%s.%d.%s~' % (name, os.getpid(), time.strftime('%Y-%m-%d@%H:%M:%S')))
    try:
        fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        with os.fdopen(fd, 'wb') as copy, open(path, 'rb') as original:
            shutil.copyfileobj(original, copy)
        shutil.copystat(path, backup)
    except OSError as exc:
        raise PolicyError(f'cannot back up {path} to {backup}: {to_native(exc.strerror or exc)}') from None
    return backup


def _new_file_mode(context):
    """The mode a new file gets: the task's ``mode``, else what the umask allows."""
    umask = os.umask(0)
    os.umask(umask)
    default = 0o666 & ~umask
    mode = context.params.get('mode')
    if mode is None:
        return default
    if isinstance(mode, int):
        return mode
    if str(mode).isdigit():
        return int(str(mode), 8)
    return context.files.symbolic_mode(os.stat_result((default,) + (0,) * 9), str(mode))


def _write_atomically(context, path, content, new):
    """Write into a temporary file next to path, then rename it over path.

    A reader (Glance re-reads the file when its mtime changes) sees the old file or
    the new one, never half of one. atomic_move keeps an existing file's mode and
    owner; a new file has its final mode before it appears under its name.
    """
    folder = os.path.dirname(path) or '.'
    try:
        fd, tmp_path = tempfile.mkstemp(prefix=f'.{os.path.basename(path)}.', suffix='.tmp', dir=folder)
    except OSError as exc:
        raise PolicyError(f'cannot create a temporary file in {folder}: {to_native(exc.strerror or exc)}') from None
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(to_bytes(content))
            handle.flush()
            os.fsync(handle.fileno())
        if new:
            os.chmod(tmp_path, _new_file_mode(context))
            context.files.set_default_selinux_context(tmp_path)
            os.replace(tmp_path, path)
        else:
            context.files.atomic_move(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
