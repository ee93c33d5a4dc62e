# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Glance policy files as data: check-string parser, validation, rule diff, rendering.

Everything here is a pure function of its arguments and importable without Ansible
running; the module glue (file access, atomic write, attributes) is in policy_file.py.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field

try:
    import yaml
    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - ansible-core depends on PyYAML
    yaml = None
    HAS_YAML = False
    YAML_IMPORT_ERROR = exc

from ansible_collections.cloudimage.glance.plugins.module_utils.policy_rules import (
    GLANCE_CURRENT_DEFAULTS,
    KNOWN_RULE_NAMES,
)

FORMATS = ('json', 'yaml')


class PolicyError(Exception):
    """A problem with the request or the file; the message is one line."""


class CheckStringError(PolicyError):
    """A check string that oslo.policy would not understand."""


class PolicyFileError(PolicyError):
    """A policy file whose content cannot be read as a rule mapping."""


# ---------------------------------------------------------------------------
# Check-string parser (oslo.policy grammar)
#
# A parsed check string is a small tree of tuples:
#   ('true',)                 "" or "@": everyone
#   ('false',)                "!": no one
#   ('check', kind, match)    role:admin, rule:x, project_id:%(owner)s, 'public':%(visibility)s
#   ('and', [nodes]) / ('or', [nodes]) / ('not', node)
# 'and' binds tighter than 'or'; 'not' applies to the check or group right after it.
# ---------------------------------------------------------------------------

TRUE = ('true',)
FALSE = ('false',)

_KEYWORDS = ('and', 'or', 'not')
_ATTRIBUTE_RE = re.compile(r'^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$')
_NUMBER_RE = re.compile(r'^[+-]?\d+(\.\d+)?$')
_SUBSTITUTION_RE = re.compile(r'%(\([^()]*\)s|%)')
_RULE_NAME_RE = re.compile(r'^[^\s%()]+$')


def _tokenize(text):
    """Split like oslo.policy: on whitespace, with parentheses peeled off each word."""
    tokens = []
    for word in text.split():
        stripped = word.lstrip('(')
        tokens.extend([('(', '(')] * (len(word) - len(stripped)))
        if not stripped:
            continue
        core = stripped.rstrip(')')
        trailing = len(stripped) - len(core)
        if core.lower() in _KEYWORDS:
            tokens.append((core.lower(), core))
        elif core:
            if len(core) >= 2 and core[0] == core[-1] and core[0] in '\'"':
                tokens.append(('string', core))
            else:
                tokens.append(('check', core))
        tokens.extend([(')', ')')] * trailing)
    return tokens


def _check_substitutions(match, token):
    rest = _SUBSTITUTION_RE.sub('', match)
    if '%' in rest:
        raise CheckStringError(
            f"'{token}': a '%' must start a substitution like %(project_id)s (or be doubled as %%)"
        )


def _parse_literal_kind(kind, token):
    if kind[0] in '\'"':
        if len(kind) < 2 or kind[-1] != kind[0] or kind[0] in kind[1:-1]:
            raise CheckStringError(f"'{token}': unterminated quoted literal {kind}")
        return
    if kind in ('True', 'False', 'None') or _NUMBER_RE.match(kind):
        return
    if not _ATTRIBUTE_RE.match(kind):
        raise CheckStringError(
            f"'{token}': '{kind}' is neither an attribute name (like project_id) nor a quoted literal"
        )


def parse_check(token):
    """Parse one check token (no spaces) into a tree node, or raise CheckStringError."""
    if token == '@':
        return TRUE
    if token == '!':
        return FALSE
    if ':' not in token:
        raise CheckStringError(f"'{token}' is not a check (expected kind:value, '@' or '!')")
    kind, match = token.split(':', 1)
    if not kind:
        raise CheckStringError(f"'{token}' has nothing before ':'")
    if not match:
        raise CheckStringError(f"'{token}' has nothing after ':'")
    if kind == 'rule':
        if not _RULE_NAME_RE.match(match):
            raise CheckStringError(f"'{token}': '{match}' is not a rule name")
    elif kind in ('role', 'http', 'https'):
        _check_substitutions(match, token)
    else:
        _parse_literal_kind(kind, token)
        _check_substitutions(match, token)
    if any(char in '()' for char in kind + _SUBSTITUTION_RE.sub('', match)):
        raise CheckStringError(f"'{token}': parentheses must be separated from the check")
    return ('check', kind, match)


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self):
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self):
        node = self.parse_or(None)
        if self.pos < len(self.tokens):
            raise self.trailing_error()
        return node

    def trailing_error(self):
        kind, value = self.tokens[self.pos]
        if kind == ')':
            return CheckStringError("unbalanced ')'")
        return CheckStringError(f"'{value}' follows a complete expression: 'and' or 'or' missing before it")

    def parse_or(self, after):
        items = [self.parse_and(after)]
        while self.peek() == 'or':
            self.take()
            items.append(self.parse_and("'or'"))
        return items[0] if len(items) == 1 else ('or', items)

    def parse_and(self, after):
        items = [self.parse_unary(after)]
        while self.peek() == 'and':
            self.take()
            items.append(self.parse_unary("'and'"))
        return items[0] if len(items) == 1 else ('and', items)

    def parse_unary(self, after):
        kind = self.peek()
        if kind == 'not':
            self.take()
            return ('not', self.parse_unary("'not'"))
        if kind == '(':
            self.take()
            if self.peek() == ')':
                raise CheckStringError("empty parentheses '()'")
            node = self.parse_or("'('")
            if self.peek() is None:
                raise CheckStringError("unbalanced '(': missing ')'")
            if self.peek() != ')':
                raise self.trailing_error()
            self.take()
            return node
        if kind == 'check':
            return parse_check(self.take()[1])
        if kind == 'string':
            value = self.take()[1]
            raise CheckStringError(f"quoted literal {value} needs a ':' and a value to compare, like {value}:%(visibility)s")
        where = f'after {after}' if after else 'at the start'
        if kind is None:
            raise CheckStringError(f'a check is missing {where}')
        if kind == ')':
            raise CheckStringError(f"unexpected ')' {where}")
        raise CheckStringError(f"unexpected '{self.tokens[self.pos][1]}' {where}")


def parse_check_string(text):
    """Parse a check string into a tree; raise CheckStringError when oslo.policy would not understand it.

    The empty string allows everyone. A string of only blanks is refused: oslo.policy
    reads it as a failed parse and denies everyone, which is never what was meant.
    """
    if not isinstance(text, str):
        raise CheckStringError(f'a check string must be a string, not {type(text).__name__}')
    if text == '':
        return TRUE
    tokens = _tokenize(text)
    if not tokens:
        raise CheckStringError('blank check string (use "" to allow everyone or "!" to deny everyone)')
    return _Parser(tokens).parse()


def referenced_rules(node):
    """Names referenced through rule:NAME anywhere in a parsed check string, in order."""
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current[0] == 'check':
            if current[1] == 'rule' and current[2] not in found:
                found.append(current[2])
        elif current[0] in ('and', 'or'):
            stack.extend(reversed(current[1]))
        elif current[0] == 'not':
            stack.append(current[1])
    return found


def _always(node, value, resolve, seen):
    """True when the node evaluates to ``value`` whatever the credentials and target."""
    tag = node[0]
    if tag == 'true':
        return value
    if tag == 'false':
        return not value
    if tag == 'not':
        return _always(node[1], not value, resolve, seen)
    if tag in ('and', 'or'):
        # and: always true when all are; always false when any is. or: the reverse.
        combine = all if (tag == 'and') == value else any
        return combine(_always(item, value, resolve, seen) for item in node[1])
    if tag == 'check' and node[1] == 'rule' and node[2] not in seen:
        target = resolve(node[2])
        if target is not None:
            return _always(target, value, resolve, seen | {node[2]})
    return False


def is_open(node, resolve=None):
    """True when the check lets every authenticated user through ("" , "@", or equivalent)."""
    return _always(node, True, resolve or (lambda name: None), frozenset())


# ---------------------------------------------------------------------------
# Reading and rendering files
# ---------------------------------------------------------------------------

def detect_format(path, text=None):
    """json or yaml: from the file suffix, else from the content, else yaml (what Glance reads by default)."""
    lowered = path.lower()
    if lowered.endswith('.json'):
        return 'json'
    if lowered.endswith(('.yaml', '.yml')):
        return 'yaml'
    if text is not None and text.lstrip().startswith('{'):
        return 'json'
    return 'yaml'


def _json_pairs(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise PolicyFileError(f"rule '{key}' is defined twice")
        result[key] = value
    return result


if HAS_YAML:
    class _UniqueKeySafeLoader(yaml.SafeLoader):
        """SafeLoader that refuses a mapping with the same key twice."""

    def _construct_unique_mapping(loader, node, deep=False):
        loader.flatten_mapping(node)
        seen = set()
        for key_node, dummy in node.value:
            key = loader.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                duplicate = False
            if duplicate:
                raise PolicyFileError(f"rule '{key}' is defined twice (line {key_node.start_mark.line + 1})")
            try:
                seen.add(key)
            except TypeError:
                pass
        return loader.construct_mapping(node, deep=deep)

    _UniqueKeySafeLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _one_line(text):
    return ' '.join(str(text).split())


def load_rules(text, fmt):
    """Parse the file content into an ordered {name: check string}; raise PolicyFileError.

    An empty file (or one holding only comments, in YAML) is an empty mapping, as for Glance.
    """
    if fmt not in FORMATS:
        raise PolicyError(f"unknown format '{fmt}' (json or yaml)")
    if fmt == 'json':
        if not text.strip():
            return {}
        try:
            data = json.loads(text, object_pairs_hook=_json_pairs)
        except json.JSONDecodeError as exc:
            raise PolicyFileError(f'not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}') from None
    else:
        if not HAS_YAML:
            raise PolicyError('PyYAML is needed to read a YAML policy file')
        try:
            data = yaml.load(text, Loader=_UniqueKeySafeLoader)  # a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f' at line {mark.line + 1}, column {mark.column + 1}' if mark else ''
            raise PolicyFileError(f'not valid YAML: {_one_line(exc.problem or exc.context)}{where}') from None
        except yaml.YAMLError as exc:
            raise PolicyFileError(f'not valid YAML: {_one_line(exc)}') from None
        if data is None:
            return {}
    if not isinstance(data, dict):
        raise PolicyFileError(f'expected a mapping of rule names to check strings, found a {type(data).__name__}')
    for name, check in data.items():
        if not isinstance(name, str):
            raise PolicyFileError(f'rule name {name!r} is not a string')
        if not isinstance(check, str):
            raise PolicyFileError(f"rule '{name}' has a {type(check).__name__} value, not a check string")
    return data


def render_rules(rules, fmt):
    """The file content for these rules, in their order; stable and pretty.

    JSON: 4-space indented object. YAML: one '"name": "check"' line per rule, the
    layout oslopolicy-sample-generator uses; both end with a newline.
    """
    if fmt not in FORMATS:
        raise PolicyError(f"unknown format '{fmt}' (json or yaml)")
    if not rules:
        return '{}\n'
    if fmt == 'json':
        return json.dumps(rules, indent=4) + '\n'
    return ''.join(f'{json.dumps(name)}: {json.dumps(check)}\n' for name, check in rules.items())


def rules_for_diff(rules):
    """One line per rule, for a rule-level before/after diff."""
    return ''.join(f'{json.dumps(name)}: {json.dumps(check)}\n' for name, check in rules.items())


# ---------------------------------------------------------------------------
# Rule diff
# ---------------------------------------------------------------------------

@dataclass
class RulePlan:
    before: dict
    after: dict
    added: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    removed: list = field(default_factory=list)

    @property
    def changed(self):
        return bool(self.added or self.updated or self.removed)

    @property
    def changed_rules(self):
        """Names added, updated or removed: those of the result in file order, then the removed ones."""
        touched = set(self.added) | set(self.updated)
        return [name for name in self.after if name in touched] + list(self.removed)

    @property
    def restart_required(self):
        """A running Glance keeps enforcing a rule removed from its file until it restarts."""
        return bool(self.removed)


def normalize_requested(rules, state):
    """The task's rules as an ordered dict (names only matter for state=absent)."""
    if rules is None:
        return {}
    if isinstance(rules, dict):
        for name, check in rules.items():
            if not isinstance(name, str) or not name.strip():
                raise PolicyError(f'rule names must be non-empty strings, got {name!r}')
            # oslo.policy reads a null or empty rule as "allow everyone": never write one by accident.
            if state == 'present' and not isinstance(check, str):
                kind = 'null' if check is None else type(check).__name__
                raise PolicyError(f'rule {name}: the check string must be a string, not {kind}'
                                  ' ("" opens a rule to everyone, "!" denies it)')
        return dict(rules)
    if isinstance(rules, (list, tuple)):
        if state != 'absent':
            raise PolicyError('rules must be a dictionary of rule names to check strings (a list of names is only accepted with state=absent)')
        for name in rules:
            if not isinstance(name, str) or not name.strip():
                raise PolicyError(f'rules to remove must be rule names (strings), got a {type(name).__name__}: {name!r}')
        return {name: None for name in rules}
    raise PolicyError(f'rules must be a dictionary of rule names to check strings, not {type(rules).__name__}')


def plan_rules(current, requested, state='present', exclusive=False):
    """Compute the resulting rules. Rules kept from the file keep their order; new ones are appended."""
    if state == 'present':
        if exclusive:
            after = {name: requested[name] for name in current if name in requested}
            after.update((name, check) for name, check in requested.items() if name not in after)
        else:
            after = dict(current)
            after.update(requested)
    elif state == 'absent':
        after = {name: check for name, check in current.items() if name not in requested}
    else:
        raise PolicyError(f"unknown state '{state}' (present or absent)")
    return RulePlan(
        before=dict(current),
        after=after,
        added=[name for name in after if name not in current],
        updated=[name for name in after if name in current and current[name] != after[name]],
        removed=[name for name in current if name not in after],
    )


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

def _resolver(rules, defaults):
    cache = {}

    def resolve(name):
        if name not in cache:
            text = rules.get(name, defaults.get(name))
            try:
                cache[name] = parse_check_string(text) if text is not None else None
            except CheckStringError:
                cache[name] = None
        return cache[name]
    return resolve


def _find_cycle(start, resolve):
    """A reference path from start back to itself, or None."""
    path = [start]
    on_path = {start}
    done = set()

    def visit(name):
        node = resolve(name)
        for ref in referenced_rules(node) if node is not None else ():
            if ref in on_path:
                return path[path.index(ref):] + [ref]
            if ref in done:
                continue
            path.append(ref)
            on_path.add(ref)
            found = visit(ref)
            if found:
                return found
            on_path.discard(path.pop())
            done.add(ref)
        return None
    return visit(start)


def _suggest(name, known):
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ''


def validate_plan(plan, requested, state='present', allow_unknown_rules=False,
                  known_names=KNOWN_RULE_NAMES, defaults=None):
    """Problems that must stop the write, each one line; an empty list means valid.

    - every requested rule name is known to Glance (current or Pike), or is a helper
      rule that another rule of the result references through rule:NAME;
    - every requested check string parses as oslo.policy would parse it;
    - every rule:NAME in a requested check string names a rule of the result, of the task,
      or a Glance in-code default;
    - no rule still referenced by the result is removed unless Glance has a default for it;
    - no reference loop goes through a requested rule.
    """
    if defaults is None:
        defaults = GLANCE_CURRENT_DEFAULTS
    errors = []
    after = plan.after
    resolve = _resolver(after, defaults)

    referenced_by = {}
    for name, text in after.items():
        try:
            tree = parse_check_string(text)
        except CheckStringError:
            continue
        for ref in referenced_rules(tree):
            referenced_by.setdefault(ref, []).append(name)

    if state == 'absent':
        for name in plan.removed:
            users = [user for user in referenced_by.get(name, []) if user != name]
            if users and name not in defaults:
                errors.append(f"cannot remove rule '{name}': rule '{users[0]}' still references it")
        return errors

    for name, text in requested.items():
        if not isinstance(name, str) or not name.strip():
            errors.append(f'rule names must be non-empty strings, got {name!r}')
            continue
        if name != name.strip() or any(char.isspace() for char in name):
            errors.append(f"rule name '{name}' contains blanks")
            continue
        if not allow_unknown_rules and name not in known_names and name not in referenced_by:
            errors.append(
                f"unknown rule name '{name}'{_suggest(name, known_names)}; set allow_unknown_rules=true to write it anyway"
            )
        if text is None or not isinstance(text, str):
            kind = 'nothing' if text is None else f'a {type(text).__name__}'
            errors.append(f"rule '{name}': the check string must be a string, got {kind} (use \"\" to allow everyone)")
            continue
        try:
            tree = parse_check_string(text)
        except CheckStringError as exc:
            errors.append(f"rule '{name}': invalid check string {json.dumps(text)}: {exc}")
            continue
        for ref in referenced_rules(tree):
            if ref not in after and ref not in defaults:
                errors.append(
                    f"rule '{name}': 'rule:{ref}' points to no rule (not in the file, not in rules, and Glance has no default for it)"
                )
        cycle = _find_cycle(name, resolve)
        if cycle:
            errors.append(f"rule '{name}': rule references loop back: {' -> '.join(cycle)}")
    return errors


def open_rules(plan, requested, defaults=None):
    """Requested rules that this change opens to every authenticated user."""
    resolve = _resolver(plan.after, GLANCE_CURRENT_DEFAULTS if defaults is None else defaults)
    touched = set(plan.added) | set(plan.updated)
    found = []
    for name in requested:
        if name not in touched:
            continue
        try:
            tree = parse_check_string(plan.after[name])
        except (CheckStringError, KeyError):
            continue
        if is_open(tree, resolve):
            found.append(name)
    return found


def unparsable_rules(rules, skip=()):
    """Names of rules whose check string oslo.policy would not understand (Glance then denies everyone)."""
    found = []
    for name, text in rules.items():
        if name in skip:
            continue
        try:
            parse_check_string(text)
        except CheckStringError:
            found.append(name)
    return found
