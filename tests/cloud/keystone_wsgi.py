"""WSGI entry point of Keystone for gunicorn (local test cloud).

Keystone parses the process's command line when it loads its configuration.
Under gunicorn that command line is gunicorn's own, which Keystone rejects
("unrecognized arguments"), so drop it before the application is imported.
The configuration folder comes from OS_KEYSTONE_CONFIG_DIR.
"""

import sys

del sys.argv[1:]

from keystone.wsgi.api import application as _keystone_application  # noqa: E402

application = _keystone_application
