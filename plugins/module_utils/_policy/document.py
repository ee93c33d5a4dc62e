# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Glance policy files as data, pure: reading and rendering, the rule plan, validation.

File access, the atomic write and file attributes are the workflow's
(``_workflows.image_policy``); check strings are parsed in ``check_strings``.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    yaml = None
    HAS_YAML = False

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import CheckStringError, PolicyError, PolicyFileError, one_line
from ansible_collections.cloudimage.glance.plugins.module_utils._policy.check_strings import (
    is_open, parse_check_string, referenced_rules, remote_checks,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._policy.rules import GLANCE_CURRENT_DEFAULTS, KNOWN_RULE_NAMES

FORMATS = ('json', 'yaml')

# A policy file is one mapping of strings (depth 2); anything deeper is refused before the
# parsers, which recurse, run out of stack on thousands of levels.
MAX_FILE_DEPTH = 32
_TOO_DEEP = f'nests deeper than {MAX_FILE_DEPTH} levels (a policy file is one mapping of rule names to check strings)'
# A longer chain of rule:NAME references is refused: oslo.policy follows it recursively.
MAX_REFERENCE_DEPTH = 32
# How much of a long check string a message quotes.
_QUOTE_LIMIT = 60

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


# A JSON string, or a bracket: what the depth scan of a JSON text looks at.
_JSON_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def _json_too_deep(text):
    depth = 0
    for token in _JSON_TOKEN_RE.finditer(text):
        char = token.group()
        if char in '[{':
            depth += 1
            if depth > MAX_FILE_DEPTH:
                return True
        elif char in ']}':
            depth -= 1
    return False


if HAS_YAML:
    class _UniqueKeySafeLoader(yaml.SafeLoader):
        """SafeLoader that refuses a mapping with the same key twice, and deep nesting."""

        nesting = 0

        def compose_node(self, parent, index):
            self.nesting += 1
            if self.nesting > MAX_FILE_DEPTH:
                raise PolicyFileError(_TOO_DEEP)
            node = super().compose_node(parent, index)
            self.nesting -= 1
            return node

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


def load_rules(text, fmt):
    """Parse the file content into an ordered {name: check string}; raise PolicyFileError.

    An empty file (or one holding only comments, in YAML) is an empty mapping, as for Glance.
    """
    if fmt not in FORMATS:
        raise PolicyError(f"unknown format '{fmt}' (json or yaml)")
    if fmt == 'json':
        if not text.strip():
            return {}
        if _json_too_deep(text):
            raise PolicyFileError(_TOO_DEEP)
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
            raise PolicyFileError(f'not valid YAML: {one_line(exc.problem or exc.context)}{where}') from None
        except yaml.YAMLError as exc:
            raise PolicyFileError(f'not valid YAML: {one_line(exc)}') from None
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


def _reference_problem(start, resolve):
    """Why the rule:NAME references from start cannot stand: a loop, or a chain too deep; else None."""
    path = [start]
    pending = [iter(_references(start, resolve))]
    done = set()
    while pending:
        ref = next(pending[-1], None)
        if ref is None:
            pending.pop()
            done.add(path.pop())
        elif ref in path:
            return f"rule references loop back: {' -> '.join(path[path.index(ref):] + [ref])}"
        elif ref not in done:
            if len(path) > MAX_REFERENCE_DEPTH:
                return f'rule references nest deeper than {MAX_REFERENCE_DEPTH} levels'
            path.append(ref)
            pending.append(iter(_references(ref, resolve)))
    return None


def _references(name, resolve):
    node = resolve(name)
    return referenced_rules(node) if node is not None else []


def _quote(text):
    """The check string for a message, its start only when it is long."""
    if len(text) > _QUOTE_LIMIT:
        return json.dumps(text[:_QUOTE_LIMIT]) + '…'
    return json.dumps(text)


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
    referenced_by = _referenced_by(plan.after)
    if state == 'absent':
        errors = []
        for name in plan.removed:
            users = [user for user in referenced_by.get(name, []) if user != name]
            if users and name not in defaults:
                errors.append(f"cannot remove rule '{name}': rule '{users[0]}' still references it")
        return errors
    resolve = _resolver(plan.after, defaults)
    errors = []
    for name, text in requested.items():
        errors += _rule_problems(name, text, plan.after, defaults, resolve,
                                 None if allow_unknown_rules else known_names, referenced_by)
    return errors


def _referenced_by(rules):
    """{rule name: the rules whose check strings reference it}."""
    referenced_by = {}
    for name, text in rules.items():
        try:
            tree = parse_check_string(text)
        except CheckStringError:
            continue
        for ref in referenced_rules(tree):
            referenced_by.setdefault(ref, []).append(name)
    return referenced_by


def _rule_problems(name, text, after, defaults, resolve, known_names, referenced_by):
    """The problems of one requested rule; ``known_names`` None accepts any name."""
    if not isinstance(name, str) or not name.strip():
        return [f'rule names must be non-empty strings, got {name!r}']
    if name != name.strip() or any(char.isspace() for char in name):
        return [f"rule name '{name}' contains blanks"]
    errors = []
    if known_names is not None and name not in known_names and name not in referenced_by:
        errors.append(
            f"unknown rule name '{name}'{_suggest(name, known_names)}; set allow_unknown_rules=true to write it anyway"
        )
    if text is None or not isinstance(text, str):
        kind = 'nothing' if text is None else f'a {type(text).__name__}'
        return errors + [f"rule '{name}': the check string must be a string, got {kind} (use \"\" to allow everyone)"]
    try:
        tree = parse_check_string(text)
    except CheckStringError as exc:
        return errors + [f"rule '{name}': invalid check string {_quote(text)}: {exc}"]
    for ref in referenced_rules(tree):
        if ref not in after and ref not in defaults:
            errors.append(
                f"rule '{name}': 'rule:{ref}' points to no rule (not in the file, not in rules, and Glance has no default for it)"
            )
    problem = _reference_problem(name, resolve)
    if problem:
        errors.append(f"rule '{name}': {problem}")
    return errors


def open_rules(plan, requested, defaults=None):
    """Requested rules that this change opens to every authenticated user."""
    resolve = _resolver(plan.after, GLANCE_CURRENT_DEFAULTS if defaults is None else defaults)
    found = []
    for name in _touched(plan, requested):
        try:
            tree = parse_check_string(plan.after[name])
        except (CheckStringError, KeyError):
            continue
        if is_open(tree, resolve):
            found.append(name)
    return found


def remote_check_rules(plan, requested):
    """(rule, 'http' or 'https') for each requested rule this change gives a remote check.

    oslo.policy posts the credentials of every caller to the URL of such a check.
    """
    found = []
    for name in _touched(plan, requested):
        try:
            urls = remote_checks(parse_check_string(plan.after[name]))
        except CheckStringError:
            continue  # Glance cannot parse it, so never calls the URL; validation reports it
        if urls:
            found.append((name, urls[0].split(':', 1)[0]))
    return found


def _touched(plan, requested):
    """The requested rules this change adds or changes, in request order."""
    touched = set(plan.added) | set(plan.updated)
    return [name for name in requested if name in touched]


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
