# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The secrets a task's options carry, so that no output ever shows them."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit


# -- secrets -----------------------------------------------------------------------
# Keys whose values are secrets, in clouds.yaml-style dicts and in URL queries.
SECRET_KEY = re.compile(r'pass(word|code|phrase)|secret|token|totp|signature|(^|_)sig$', re.I)
# Options that may hold clouds.yaml-style dicts with credentials.
CREDENTIAL_OPTIONS = ('cloud', 'auth', 'member_cloud')


def task_secrets(params):
    """The secrets a task's options carry: inside credentials (also those of ``members`` entries) and ``url``."""
    found = set()
    for option in CREDENTIAL_OPTIONS:
        found |= secret_values(params.get(option))
    for entry in params.get('members') or []:
        if isinstance(entry, dict):
            found |= secret_values(entry.get('cloud'))
    for option in ('url', 'uri'):  # uri: the openstack.cloud name of url
        if isinstance(params.get(option), str):
            found |= url_secrets(params[option])
    return found


def secret_values(value, key=''):
    """Every secret string inside ``value``: values of secret-looking keys, and URL passwords and tokens."""
    found = set()
    if isinstance(value, dict):
        for sub_key, sub_value in value.items():
            if SECRET_KEY.search(str(sub_key)) and isinstance(sub_value, (str, int)) and str(sub_value):
                found.add(str(sub_value))
            else:
                found |= secret_values(sub_value, str(sub_key))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= secret_values(item, key)
    elif isinstance(value, str) and '://' in value:
        found |= url_secrets(value)
    return found


def url_secrets(url):
    """The password of a URL's user part and the values of its secret-looking query parameters."""
    try:
        split = urlsplit(url)
        found = {split.password} if split.password else set()
        found |= {value for name, value in parse_qsl(split.query, keep_blank_values=False)
                  if SECRET_KEY.search(name) and value}
    except ValueError:
        return set()
    return found


def strip_url_secrets(url):
    """``url`` with any secret of it replaced by ``********``, fit for a message."""
    text = str(url)
    for secret in sorted(url_secrets(text), key=len, reverse=True):
        text = text.replace(secret, '********')
    return text
