# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""oslo.policy check strings, pure: the parser, the rules a check references, and whether it lets everyone in."""

from __future__ import annotations

import ast
import re

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import CheckStringError

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

# Deeper nesting of parentheses and 'not's is refused: it is never needed, and Python (here
# and in oslo.policy, which evaluates the tree recursively) runs out of stack on thousands of levels.
MAX_CHECK_DEPTH = 32
# How deep the open-rule guard follows nesting and rule:NAME references together before it
# gives up (and does not call the rule open).
_MAX_GUARD_DEPTH = 256

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
        self.depth = 0

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
        if kind in ('not', '('):
            self.depth += 1
            if self.depth > MAX_CHECK_DEPTH:
                raise CheckStringError(f'nests deeper than {MAX_CHECK_DEPTH} levels')
            node = self.parse_not() if kind == 'not' else self.parse_group()
            self.depth -= 1
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

    def parse_not(self):
        self.take()
        return ('not', self.parse_unary("'not'"))

    def parse_group(self):
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


def remote_checks(node):
    """The URLs of the http: and https: checks anywhere in a parsed check string, in order.

    oslo.policy posts the caller's credentials and the target to such a URL whenever it
    evaluates the check.
    """
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current[0] == 'check' and current[1] in ('http', 'https'):
            found.append(f'{current[1]}:{current[2]}')
        elif current[0] in ('and', 'or'):
            stack.extend(reversed(current[1]))
        elif current[0] == 'not':
            stack.append(current[1])
    return found


def _constant(kind, match):
    """True or False when a generic check gives that answer whatever the call, else None.

    oslo.policy's GenericCheck compares ``str(ast.literal_eval(kind))`` with the match after
    '%' substitution; a literal kind and a match without %(name)s substitutions never vary.
    """
    if kind in ('rule', 'role', 'http', 'https') or '%(' in match.replace('%%', ''):
        return None
    try:
        literal = ast.literal_eval(kind)
    except (ValueError, SyntaxError):
        return None  # an attribute of the credentials, like project_id
    return str(literal) == match.replace('%%', '%')


def _always(node, value, resolve, seen, depth=0):
    """True when the node evaluates to ``value`` whatever the credentials and target."""
    if depth > _MAX_GUARD_DEPTH:
        return False
    tag = node[0]
    if tag == 'true':
        return value
    if tag == 'false':
        return not value
    if tag == 'not':
        return _always(node[1], not value, resolve, seen, depth + 1)
    if tag in ('and', 'or'):
        # and: always true when all are; always false when any is. or: the reverse.
        combine = all if (tag == 'and') == value else any
        return combine(_always(item, value, resolve, seen, depth + 1) for item in node[1])
    if tag == 'check' and node[1] == 'rule' and node[2] not in seen:
        target = resolve(node[2])
        if target is not None:
            return _always(target, value, resolve, seen | {node[2]}, depth + 1)
    if tag == 'check':
        return _constant(node[1], node[2]) is value
    return False


def is_open(node, resolve=None):
    """True when the check lets every authenticated user through ("", "@", 'a':a, or equivalent)."""
    return _always(node, True, resolve or (lambda name: None), frozenset())
