# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one runner of every module: options, session, capability check, result, and the one place errors fail.

A module file is its documentation, its argument spec and one call::

    run_module(ARGUMENT_SPEC, ImageWorkflow(), mutually_exclusive=[...])

The workflow says what it needs (``Workflow``); the runner builds the
AnsibleModule with the common options, checks the options, connects, checks
the API's capabilities once, runs the workflow with a ``TaskContext`` and turns
its result, a ``GlanceError`` or any other exception into Ansible's: a failure
is always one line, cleaned of secrets like everything else the module shows.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.options import (
    HAS_OPENSTACKSDK, OPENSTACKSDK_IMPORT_ERROR, connection_argument_spec,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.secrets import (
    clean_message, maskable, shown_options, task_secrets,
)
from ansible_collections.cloudimage.glance.plugins.module_utils._connection.session import GlanceSession
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.registry import check_needs
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError, one_line


class Workflow:
    """What a module does. Subclasses set ``connects`` and implement ``run``.

    ``validate(params)`` refuses bad input before anything is sent (not even
    authentication) and returns the options the workflow works with;
    ``needs(params)`` lists the ``_drivers.base.Need`` the task has of the image
    API; ``run(context)`` returns the result dictionary, with ``changed`` and,
    where it has one, ``diff``.
    """

    connects = True

    def validate(self, params):
        return params

    def needs(self, params):
        return []

    def run(self, context):
        raise NotImplementedError


class TaskContext:
    """What a workflow gets: the options, the mode flags, the session and driver, a way to warn, local files."""

    def __init__(self, params, check_mode=False, diff=False, session=None, files=None):
        self.params = params
        self.check_mode = check_mode
        self.diff = diff
        self.session = None
        self.driver = None
        self.files = files
        self.warnings = []
        if session is not None:
            self.connect(session)

    def connect(self, session):
        self.session = session
        self.driver = session.driver

    def warn(self, message):
        self.warnings.append(message)


class LocalFiles:
    """The file handling of AnsibleModule a workflow on a local file uses (atomic moves, attributes, SELinux)."""

    def __init__(self, module):
        self._module = module

    def atomic_move(self, source, destination):
        self._module.atomic_move(source, destination, unsafe_writes=self._module.params.get('unsafe_writes', False))

    def set_default_selinux_context(self, path):
        self._module.set_default_selinux_context(path, False)

    def symbolic_mode(self, current_stat, mode):
        return self._module._symbolic_mode_to_octal(current_stat, mode)

    def apply_attributes(self, params, path, changed, diff):
        """Owner, group, mode, SELinux context of the file as the task's common file options say."""
        arguments = self._module.load_file_common_arguments(params, path=path)
        return self._module.set_fs_attributes_if_different(arguments, changed, diff=diff)


class GlanceModule(AnsibleModule):
    """An AnsibleModule that never shows the secrets inside credential options or URLs.

    ``cloud``, ``auth`` and ``member_cloud`` may hold names that must stay
    readable (a clouds.yaml entry, a user, a domain, ``auth_url``) next to a
    password; a ``url`` may carry a password or a token. Marking the options
    no_log would hide the names too, so the secrets alone are hidden: by place
    in the invocation, the log and every URL of a message, whatever their
    length, and as text (``no_log_values``) when long enough to be told apart
    from other text (see ``_connection.secrets``).
    """

    secrets = frozenset()

    def _load_params(self):
        # The earliest point where the options are known: before validation,
        # whose own failures (an unknown option, a wrong type) also show them.
        super()._load_params()
        self.register_secrets()

    def register_secrets(self):
        self.secrets = self.secrets | task_secrets(self.params)
        self.no_log_values.update(maskable(self.secrets))

    def clean(self, text):
        """``text`` fit to show: no secret of the task's options, no secret part of any URL."""
        return clean_message(text, self.secrets)

    def _log_invocation(self):
        params, self.params = self.params, shown_options(self.params)
        try:
            super()._log_invocation()
        finally:
            self.params = params

    def _return_formatted(self, kwargs):
        # Every exit passes here, also Ansible's own validation failures.
        kwargs.setdefault('invocation', {'module_args': shown_options(self.params)})
        for key in ('msg', 'exception'):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = self.clean(kwargs[key])
        super()._return_formatted(kwargs)


def build_module(argument_spec, **module_kwargs):
    """The AnsibleModule of a task: the common connection options merged into ``argument_spec``.

    Modules that do not connect accept them too (and ignore them), so that
    ``module_defaults`` set for the whole action group never make them fail.
    """
    module = GlanceModule(argument_spec=dict(connection_argument_spec(), **argument_spec),
                          supports_check_mode=True, **module_kwargs)
    # Again after validation, which may have converted the options.
    module.register_secrets()
    return module


def run_module(argument_spec, workflow, **module_kwargs):
    """Run ``workflow`` as a module with ``argument_spec`` (see the module docstring); never returns."""
    module = build_module(argument_spec, **module_kwargs)
    if workflow.connects and not HAS_OPENSTACKSDK:
        module.fail_json(msg=missing_required_lib('openstacksdk'), exception=OPENSTACKSDK_IMPORT_ERROR)
    context = TaskContext(dict(module.params), module.check_mode, module._diff,
                          files=None if workflow.connects else LocalFiles(module))
    try:
        result = run_workflow(workflow, context)
    except GlanceError as exc:
        fail(module, context, str(exc), **exc.fail_fields())
    except Exception as exc:  # a bug: still one line, and never a secret in it or in its traceback
        fail(module, context, 'unexpected error: %s' % ': '.join(filter(None, (type(exc).__name__, one_line(exc)))))
    forward_warnings(module, context)
    diff = result.pop('diff', None)
    if module._diff and diff is not None:
        result['diff'] = diff
    module.exit_json(**result)


def forward_warnings(module, context):
    for message in context.warnings:
        module.warn(module.clean(message))


def fail(module, context, msg, **fields):
    """Fail the task with ``msg``; the traceback of the exception being handled goes along cleaned, shown at -vvv."""
    forward_warnings(module, context)
    module.fail_json(msg=msg, exception=traceback.format_exc(), **fields)


def run_workflow(workflow, context, session_factory=GlanceSession):
    """Validate, connect, check the capabilities once, run; the result dictionary (or a GlanceError)."""
    context.params = workflow.validate(context.params)
    if workflow.connects:
        context.connect(session_factory(context.params))
        check_needs(context.driver, workflow.needs(context.params))
    result = workflow.run(context)
    if context.session is not None:
        result.setdefault('api_version', context.session.version)
    return result
