# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._errors import CheckStringError
from ansible_collections.cloudimage.glance.plugins.module_utils._policy.check_strings import (
    FALSE,
    MAX_CHECK_DEPTH,
    TRUE,
    is_open,
    parse_check_string,
    referenced_rules,
    remote_checks,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._policy.rules import (
    GLANCE_CURRENT_DEFAULTS,
    GLANCE_PIKE_POLICY,
)


def show(node):
    """Render a tree the way oslo.policy's str() renders its check objects."""
    tag = node[0]
    if tag == 'true':
        return '@'
    if tag == 'false':
        return '!'
    if tag == 'check':
        return f'{node[1]}:{node[2]}'
    if tag == 'not':
        return 'not ' + show(node[1])
    return '(' + f' {tag} '.join(show(item) for item in node[1]) + ')'


@pytest.mark.parametrize('text, expected', [
    ('', '@'),
    ('@', '@'),
    ('!', '!'),
    ('role:admin', 'role:admin'),
    ('rule:context_is_admin', 'rule:context_is_admin'),
    ('project_id:%(project_id)s', 'project_id:%(project_id)s'),
    ('project_id:%(owner)s', 'project_id:%(owner)s'),
    ("'public':%(visibility)s", "'public':%(visibility)s"),
    ('"shared":%(visibility)s', '"shared":%(visibility)s'),
    ('is_admin:True', 'is_admin:True'),
    ('True:%(user.enabled)s', 'True:%(user.enabled)s'),
    ('target.image.owner:%(project_id)s', 'target.image.owner:%(project_id)s'),
    ('role:compute:admin', 'role:compute:admin'),
    ('http://example.invalid/check:%(name)s', 'http://example.invalid/check:%(name)s'),
    ('role:admin or role:member', '(role:admin or role:member)'),
    ('role:admin and role:member', '(role:admin and role:member)'),
    ('role:a or role:b and role:c', '(role:a or (role:b and role:c))'),
    ('role:a and role:b or role:c and role:d', '((role:a and role:b) or (role:c and role:d))'),
    ('role:a and role:b and role:c', '(role:a and role:b and role:c)'),
    ('(role:a or role:b) and role:c', '((role:a or role:b) and role:c)'),
    ('not role:a', 'not role:a'),
    ('not not role:a', 'not not role:a'),
    ('role:a and not (role:b or role:c)', '(role:a and not (role:b or role:c))'),
    ('((role:a))', 'role:a'),
    ('( role:a )', 'role:a'),
    ('role:a AND role:b OR NOT role:c', '((role:a and role:b) or not role:c)'),
    ('@ or !', '(@ or !)'),
    ('role:a  \t and\n role:b', '(role:a and role:b)'),
    ('project_id:100%%', 'project_id:100%%'),
    ('quota:42', 'quota:42'),
    ('42:%(count)s', '42:%(count)s'),
])
def test_parse_valid(text, expected):
    assert show(parse_check_string(text)) == expected


@pytest.mark.parametrize('text', sorted(set(GLANCE_CURRENT_DEFAULTS.values()) | set(GLANCE_PIKE_POLICY.values())))
def test_every_shipped_default_parses(text):
    parse_check_string(text)


@pytest.mark.parametrize('text, message', [
    ('   ', 'blank check string'),
    ('role:admin and', "a check is missing after 'and'"),
    ('or role:admin', "unexpected 'or' at the start"),
    ('and', "unexpected 'and' at the start"),
    ('role:a or', "a check is missing after 'or'"),
    ('not', "a check is missing after 'not'"),
    ('role:a not role:b', "'not' follows a complete expression"),
    ('role:a role:b', "'role:b' follows a complete expression"),
    ('(role:a', "unbalanced '(': missing ')'"),
    ('role:a)', "unbalanced ')'"),
    ('()', "empty parentheses"),
    ('(role:a) (role:b)', "follows a complete expression"),
    ('role:a and ()', "empty parentheses"),
    ('admin', "'admin' is not a check"),
    ('role:admin or admin', "'admin' is not a check"),
    ('role:', "nothing after ':'"),
    (':admin', "nothing before ':'"),
    ('rule:', "nothing after ':'"),
    ("'public'", 'quoted literal'),
    ("'public' :%(visibility)s", 'quoted literal'),
    ("'public:%(visibility)s", 'unterminated quoted literal'),
    ("'pub'lic':%(visibility)s", 'unterminated quoted literal'),
    ('project id:%(owner)s', "'project' is not a check"),
    ('project-id!:%(owner)s', 'neither an attribute name'),
    ('project_id:%(owner)', "a '%' must start a substitution"),
    ('project_id:100%', "a '%' must start a substitution"),
    ('role:%s', "a '%' must start a substitution"),
    ('role:admin(', 'parentheses must be separated'),
    ('rule:a%(b)s', 'is not a rule name'),
])
def test_parse_invalid(text, message):
    with pytest.raises(CheckStringError) as exc:
        parse_check_string(text)
    assert message in str(exc.value)
    assert '\n' not in str(exc.value)


@pytest.mark.parametrize('value', [None, 1, True, ['role:admin'], {'a': 'b'}])
def test_parse_refuses_non_strings(value):
    with pytest.raises(CheckStringError, match='must be a string'):
        parse_check_string(value)


@pytest.mark.parametrize('text, expected', [
    ('role:admin', []),
    ('rule:a', ['a']),
    ('rule:a or (role:x and rule:b) or not rule:a', ['a', 'b']),
    ('not (rule:c and rule:d)', ['c', 'd']),
])
def test_referenced_rules(text, expected):
    assert referenced_rules(parse_check_string(text)) == expected


@pytest.mark.parametrize('text, expected', [
    ('', True),
    ('@', True),
    ('@ or role:admin', True),
    ('role:admin or @', True),
    ('@ and @', True),
    ('not !', True),
    ('!', False),
    ('role:admin', False),
    ('@ and role:admin', False),
    ('not @', False),
    ('not (role:a and !)', True),
    ('rule:open', True),
    ('rule:admin_only', False),
    ('rule:loop', False),
    ('rule:missing', False),
])
def test_is_open(text, expected):
    rules = {
        'open': parse_check_string(''),
        'admin_only': parse_check_string('role:admin'),
        'loop': parse_check_string('rule:loop'),
    }
    assert is_open(parse_check_string(text), rules.get) is expected


def test_constants():
    assert parse_check_string('') == TRUE
    assert parse_check_string('!') == FALSE


@pytest.mark.parametrize('text', [
    '(' * 2000 + 'role:admin' + ')' * 2000,
    '( ' * 2000 + 'role:admin' + ' )' * 2000,
    'not ' * 2000 + 'role:admin',
])
def test_deep_nesting_is_refused_in_one_line(text):
    with pytest.raises(CheckStringError) as exc:
        parse_check_string(text)
    assert str(exc.value) == f'nests deeper than {MAX_CHECK_DEPTH} levels'


def test_nesting_up_to_the_limit_parses():
    depth = MAX_CHECK_DEPTH
    assert parse_check_string('(' * depth + 'role:admin' + ')' * depth) == ('check', 'role', 'admin')
    assert is_open(parse_check_string('( ' * (depth - 1) + 'not !' + ' )' * (depth - 1)))
    assert not is_open(parse_check_string('not ' * depth + '!'))


# oslo.policy's GenericCheck compares str(ast.literal_eval(kind)) with the match after '%'
# substitution: a literal kind and a substitution-free match make a constant.
@pytest.mark.parametrize('text, expected', [
    ("'a':a", True),
    ('"a":a', True),
    ('True:True', True),
    ('False:False', True),
    ('None:None', True),
    ('1:1', True),
    ('+1:1', True),
    ('1.50:1.5', True),
    ("'100%':100%%", True),
    ("role:admin or 'a':a", True),
    ("not 'a':b", True),
    ("'a':b", False),
    ('True:true', False),
    ('1:01', False),
    ("'public':%(visibility)s", False),
    ("'a':a%(x)s", False),
    ('a:a', False),  # an attribute of the credentials, not a literal
    ("'a':a and role:admin", False),
])
def test_is_open_sees_constant_literal_checks(text, expected):
    assert is_open(parse_check_string(text)) is expected


@pytest.mark.parametrize('text, expected', [
    ('role:admin', []),
    ('http://policy.example/check', ['http://policy.example/check']),
    ('role:admin or (role:member and https://policy.example/%(project_id)s)',
     ['https://policy.example/%(project_id)s']),
    ('not http://x', ['http://x']),
    ('HTTP://x', []),  # a generic check: oslo.policy registers the lower-case kinds only
])
def test_remote_checks(text, expected):
    assert remote_checks(parse_check_string(text)) == expected
