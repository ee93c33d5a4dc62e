# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.module_utils._internal import _traceback
from ansible.module_utils.common.parameters import PASS_VARS

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.options import connection_argument_spec
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.base import Need
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError
from ansible_collections.cloudimage.glance.plugins.module_utils import _runner
from ansible_collections.cloudimage.glance.plugins.module_utils._runner import TaskContext, Workflow, run_workflow
from ansible_collections.cloudimage.glance.plugins.modules import image, image_policy
from ansible_collections.cloudimage.glance.tests.unit.doubles import session_for
from ansible_collections.cloudimage.glance.tests.unit.module_runs import run_module

CLOUD = {
    'auth': {'auth_url': 'http://127.0.0.1:5000/v3', 'username': 'producer', 'password': 'pw-producer-1',
             'project_name': 'producer', 'user_domain_name': 'Default', 'project_domain_name': 'Default'},
    'region_name': 'RegionOne',
}


class Recording(Workflow):
    """A workflow that notes each step the runner takes with it."""

    def __init__(self, connects=True, refuse=None, needs=(), result=None):
        self.connects = connects
        self.refuse = refuse
        self.wanted = list(needs)
        self.result = result if result is not None else {'changed': False}
        self.steps = []

    def validate(self, params):
        self.steps.append('validate')
        if self.refuse:
            raise GlanceError(self.refuse)
        return dict(params, validated=True)

    def needs(self, params):
        self.steps.append('needs')
        return self.wanted

    def run(self, context):
        self.steps.append('run')
        self.context = context
        context.warn('ran')
        return dict(self.result)


class Sessions:
    """A session factory that notes the options it is called with."""

    def __init__(self, driver):
        self.driver = driver
        self.calls = []

    def __call__(self, params):
        self.calls.append(params)
        return session_for(self.driver)


# -- run_workflow ------------------------------------------------------------------------------------
def test_a_bad_option_never_connects():
    workflow, sessions = Recording(refuse='min_ram must be 0 or more, got -1'), Sessions(ImageDriverV2(None))
    with pytest.raises(GlanceError) as info:
        run_workflow(workflow, TaskContext({'min_ram': -1}), session_factory=sessions)
    assert str(info.value) == 'min_ram must be 0 or more, got -1'
    assert sessions.calls == [] and workflow.steps == ['validate']


def test_needs_are_checked_after_connecting_and_before_the_workflow_runs():
    workflow = Recording(needs=[Need('visibilities', 'private'), Need('tags', what='option tags')])
    sessions = Sessions(ImageDriverV1(None))
    with pytest.raises(GlanceError) as info:
        run_workflow(workflow, TaskContext({}), session_factory=sessions)
    assert str(info.value) == 'option tags needs Image API v2; this endpoint speaks Image API v1'
    assert workflow.steps == ['validate', 'needs'] and len(sessions.calls) == 1


def test_a_workflow_whose_needs_are_met_runs_with_the_validated_options_and_the_driver():
    workflow = Recording(needs=[Need('tags', what='option tags')])
    sessions = Sessions(ImageDriverV2(None))
    context = TaskContext({'name': 'ci'}, check_mode=True, diff=True)
    result = run_workflow(workflow, context, session_factory=sessions)
    assert workflow.steps == ['validate', 'needs', 'run']
    assert sessions.calls == [{'name': 'ci', 'validated': True}]
    assert context.params == {'name': 'ci', 'validated': True}
    assert isinstance(context.driver, ImageDriverV2) and context.driver is context.session.driver
    assert (context.check_mode, context.diff) == (True, True)
    assert result == {'changed': False, 'api_version': '2'} and context.warnings == ['ran']


def test_the_api_version_a_workflow_reports_itself_is_kept():
    workflow = Recording(result={'changed': True, 'api_version': 'its own'})
    assert run_workflow(workflow, TaskContext({}), session_factory=Sessions(ImageDriverV1(None)))['api_version'] == \
        'its own'
    assert run_workflow(Recording(), TaskContext({}), session_factory=Sessions(ImageDriverV1(None)))['api_version'] == \
        '1'


def test_a_workflow_that_does_not_connect_never_asks_for_a_session():
    workflow, sessions = Recording(connects=False, needs=[Need('tags')]), Sessions(ImageDriverV1(None))
    result = run_workflow(workflow, TaskContext({}), session_factory=sessions)
    assert sessions.calls == [] and workflow.steps == ['validate', 'run']
    assert 'api_version' not in result and workflow.context.session is None and workflow.context.driver is None


def test_the_default_workflow_takes_the_options_as_they_are_and_needs_nothing():
    assert Workflow().validate({'a': 1}) == {'a': 1} and Workflow().needs({}) == []
    with pytest.raises(NotImplementedError):
        Workflow().run(TaskContext({}))


# -- TaskContext ------------------------------------------------------------------------------------
def test_a_context_collects_warnings_and_takes_its_driver_from_the_session():
    context = TaskContext({'a': 1})
    assert (context.session, context.driver, context.warnings, context.check_mode, context.diff) == (
        None, None, [], False, False)
    context.warn('one')
    context.warn('two')
    assert context.warnings == ['one', 'two']
    session = session_for(ImageDriverV1(None))
    assert TaskContext({}, session=session).driver is session.driver


# -- the module: options and masking -------------------------------------------------------------------
def test_every_module_takes_the_connection_options(monkeypatch, capsys, tmp_path):
    common = {option: None for option in connection_argument_spec()}
    common.update(cloud='producer', api_version='1', interface='internal')
    result = run_module(monkeypatch, capsys, image_policy, path=str(tmp_path / 'policy.yaml'),
                        rules={'add_member': 'role:admin'}, _ansible_tmpdir=str(tmp_path), **{
                            key: value for key, value in common.items() if value is not None})
    assert result['_rc'] == 0 and result['changed']


@pytest.mark.parametrize('rules, code', [({'add_member': 'role:admin'}, 0), ({'add_member': 'role:'}, 1)])
def test_module_output_never_holds_the_password(monkeypatch, capsys, tmp_path, rules, code):
    result = run_module(monkeypatch, capsys, image_policy, diff=True, _ansible_tmpdir=str(tmp_path),
                        path=str(tmp_path / 'policy.yaml'), rules=rules, cloud=CLOUD)
    assert result['_rc'] == code
    assert 'pw-producer-1' not in result['_output']
    # The invocation is still shown, with the rest of the cloud readable.
    assert result['invocation']['module_args']['cloud']['auth']['username'] == 'producer'


def test_option_validation_failure_never_holds_the_password(monkeypatch, capsys, tmp_path):
    result = run_module(monkeypatch, capsys, image_policy, _ansible_tmpdir=str(tmp_path),
                        path=str(tmp_path / 'policy.yaml'), cloud=CLOUD, no_such_option=1)
    assert result['_rc'] == 1 and 'no_such_option' in result['msg']
    assert 'pw-producer-1' not in result['_output']


# -- the module: every failure in one line, with no secret and nothing mangled ----------------------------
AUTH = {'auth_url': 'http://127.0.0.1:5000/v3', 'username': 'producer', 'password': 'p',
        'project_name': 'producer', 'user_domain_name': 'Default', 'project_domain_name': 'Default'}


def fail_with(monkeypatch, exc):
    """Make every run of a workflow raise ``exc``, as a failure deep in a workflow would."""
    def run_workflow(workflow, context, session_factory=None):
        raise exc
    monkeypatch.setattr(_runner, 'run_workflow', run_workflow)


def run_policy(monkeypatch, capsys, tmp_path, **args):
    return run_traced(monkeypatch, capsys, image_policy, _ansible_tmpdir=str(tmp_path),
                      path=str(tmp_path / 'policy.yaml'), rules={'add_member': 'role:admin'}, **args)


def run_traced(monkeypatch, capsys, module, **args):
    if 'tracebacks_for' in PASS_VARS:
        args['_ansible_tracebacks_for'] = ['error']  # ask for the traceback, as -vvv does
        # ansible-core reads that option once per process; each run here stands for one.
        monkeypatch.setattr(_traceback, '_module_tracebacks_enabled_events', None)
    return run_module(monkeypatch, capsys, module, **args)


def test_an_unexpected_exception_fails_in_one_line_without_secrets(monkeypatch, capsys, tmp_path):
    def broken():
        raise KeyError('pw-producer-1 in http://tok-user@h/x.img?api_key=k')
    try:
        broken()
    except KeyError as cause:
        exc = RuntimeError('lost while reading http://u:q@h/p.img (pw-producer-1)\nsecond line')
        exc.__cause__ = cause
    fail_with(monkeypatch, exc)
    result = run_traced(monkeypatch, capsys, image, name='x', cloud=CLOUD, url='http://u:q@h/p.img?api_key=k')
    assert result['_rc'] == 1
    assert result['msg'] == 'unexpected error: RuntimeError: lost while reading http://********@h/p.img (********) second line'
    for secret in ('pw-producer-1', 'tok-user', 'u:q', 'api_key=k'):
        assert secret not in result['_output']
    assert 'exception' in result or 'tracebacks_for' not in PASS_VARS
    if 'exception' in result:  # the traceback, shown at -vvv, is cleaned the same way
        assert 'RuntimeError' in result['exception'] and 'http://********@h/x.img?api_key=********' in result['exception']


def test_a_failure_repeating_a_url_hides_its_secrets_and_keeps_the_rest(monkeypatch, capsys, tmp_path):
    url = 'http://ci-user:q@[::1/p.img?token=t&page=2'  # unparsable: Glance answers 400 repeating it
    fail_with(monkeypatch, GlanceError('cannot import', status=400, server_message='Invalid URL %s' % url))
    result = run_traced(monkeypatch, capsys, image, name='x', cloud='producer', url=url)
    assert result['msg'] == 'cannot import (HTTP 400) - server said: Invalid URL http://********@[::1/p.img?token=********&page=2'
    assert result['invocation']['module_args']['url'] == 'http://********@[::1/p.img?token=********&page=2'
    assert 'q@' not in result['_output'] and 'token=t' not in result['_output']


def test_inline_auth_hides_its_secrets_only(monkeypatch, capsys, tmp_path):
    message = 'cannot authenticate to the configured cloud: HTTP 401 at http://127.0.0.1:5000/v3 (producer, Default)'
    fail_with(monkeypatch, GlanceError(message))
    result = run_policy(monkeypatch, capsys, tmp_path, auth=dict(AUTH, password='pw-inline-1'))
    assert result['msg'] == message
    shown = result['invocation']['module_args']['auth']
    assert shown == dict(AUTH, password='VALUE_SPECIFIED_IN_NO_LOG_PARAMETER')
    assert 'pw-inline-1' not in result['_output']


def test_a_one_letter_password_mangles_no_message_and_never_shows(monkeypatch, capsys, tmp_path):
    message = 'cannot reach http://pypi.example/pub/p.img: a problem happened'
    fail_with(monkeypatch, GlanceError(message))
    result = run_policy(monkeypatch, capsys, tmp_path, auth=AUTH, cloud={'auth': {'token': 't'}})
    assert result['msg'] == message
    assert result['invocation']['module_args']['auth']['password'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert result['invocation']['module_args']['cloud'] == {'auth': {'token': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'}}
    assert '"password": "p"' not in result['_output'] and '"token": "t"' not in result['_output']


def test_warnings_hide_url_secrets(monkeypatch, capsys, tmp_path):
    workflow = Recording(connects=False)
    workflow.run = lambda context: context.warn('retried http://u:q@h/p.img?sig=s') or {'changed': False}
    monkeypatch.setattr(image_policy, 'ImagePolicyWorkflow', lambda: workflow)
    result = run_policy(monkeypatch, capsys, tmp_path, cloud='producer')
    assert result['warnings'] == ['retried http://********@h/p.img?sig=********']
