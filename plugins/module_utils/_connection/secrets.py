# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The secrets a task's options carry, so that no output ever shows them.

Two ways hide them, each where it is exact:

- by place: the secret values of credential dictionaries (``shown_options``)
  and the user part and secret query values of every URL (``strip_url_secrets``),
  whatever their length;
- as text: a secret long enough to be told apart from other text
  (``maskable``) is masked wherever it appears, in messages and in everything
  Ansible shows (``AnsibleModule.no_log_values``). A shorter one (a one-letter
  test password) is hidden by place only: masked as text it would mangle every
  message that holds that letter.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus


# -- secrets -----------------------------------------------------------------------
# Keys whose values are secrets in clouds.yaml-style dicts: the secret options of the
# keystoneauth plugins (password, token, passcode, application_credential_secret,
# client_secret, oauth2_client_secret, access_token, code) and their kin.
# Names, domains, auth_url, project and key (a TLS key's path) stay readable.
SECRET_KEY = re.compile(r'pass(word|code|phrase)?$|secret|token|totp|signature|(^|_)sig$|^code$', re.I)
# Words that make a URL query parameter secret, in any of its words (X-Amz-Security-Token,
# AWSAccessKeyId, temp_url_sig, api_key). X-Amz-Date and the like stay readable.
_SECRET_QUERY_WORDS = frozenset((
    'pass', 'password', 'passwd', 'passcode', 'passphrase', 'pwd', 'secret', 'token', 'totp', 'key', 'apikey',
    'signature', 'sig', 'credential', 'credentials', 'auth', 'authorization', 'session', 'code',
))
# Options that may hold clouds.yaml-style dicts with credentials.
CREDENTIAL_OPTIONS = ('cloud', 'auth', 'member_cloud')
# Options holding a URL (uri: the openstack.cloud name of url).
URL_OPTIONS = ('url', 'uri')
# What stands in for a secret: Ansible's own words for a whole value, its mask for a part.
HIDDEN = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
MASK = '********'
# Shorter secrets are never masked as text (see the module docstring).
MIN_MASKED_LENGTH = 4

# A URL inside any text: up to a blank, a quote or an angle bracket, without the
# punctuation of the sentence around it.
_URL = re.compile(r'''[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>]*[^\s'"<>.,:;)]''')
# Its user part: everything before the last @ of the authority (as urlsplit reads it).
_USERINFO = re.compile(r'^(?P<scheme>[^:]+://)(?P<userinfo>[^/?#]*)@')
# One parameter of its query (or fragment): separator, name, value.
_QUERY_PARAMETER = re.compile(r'(?P<sep>[?&;#])(?P<name>[^?&;#=]*)=(?P<value>[^&;#]*)')
_WORD = re.compile(r'[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+')


def task_secrets(params):
    """Every secret a task's options carry (credentials, also those of ``members`` entries, and URLs), any length."""
    found = set()
    for option in CREDENTIAL_OPTIONS:
        found |= secret_values(params.get(option))
    for entry in params.get('members') or []:
        if isinstance(entry, dict):
            found |= secret_values(entry.get('cloud'))
    for option in URL_OPTIONS:
        if isinstance(params.get(option), str):
            found |= url_secrets(params[option])
    return found


def maskable(secrets):
    """The secrets long enough to be masked as text wherever they appear."""
    return {secret for secret in secrets if len(secret) >= MIN_MASKED_LENGTH}


def secret_values(value):
    """Every secret string inside ``value``: values of secret-looking keys, and the secrets of URLs."""
    found = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if SECRET_KEY.search(str(key)) and isinstance(item, (str, int)) and str(item):
                found.add(str(item))
            else:
                found |= secret_values(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= secret_values(item)
    elif isinstance(value, str) and '://' in value:
        found |= url_secrets(value)
    return found


def shown_options(params):
    """A copy of ``params`` fit to show: each secret replaced where it stands, whatever its length."""
    shown = dict(params)
    for option in CREDENTIAL_OPTIONS:
        if option in shown:
            shown[option] = _hide_secret_values(shown[option])
    if isinstance(shown.get('members'), list):
        shown['members'] = [dict(entry, cloud=_hide_secret_values(entry['cloud']))
                            if isinstance(entry, dict) and 'cloud' in entry else entry for entry in shown['members']]
    for option in URL_OPTIONS:
        if isinstance(shown.get(option), str):
            shown[option] = strip_url_secrets(shown[option])
    return shown


def _hide_secret_values(value):
    if isinstance(value, dict):
        return {key: HIDDEN if SECRET_KEY.search(str(key)) and isinstance(item, (str, int)) and str(item)
                else _hide_secret_values(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_hide_secret_values(item) for item in value]
    if isinstance(value, str) and '://' in value:
        return strip_url_secrets(value)
    return value


# -- URLs ---------------------------------------------------------------------------
def is_secret_query_name(name):
    """Whether a URL query parameter named ``name`` carries a secret."""
    words = {word.lower() for word in _WORD.findall(name)}
    return bool(words & _SECRET_QUERY_WORDS) or bool(re.search(r'pass|secret|token|signature|credential', name, re.I))


def url_secrets(url):
    """The user part of a URL (the user alone, else the password) and its secret query values.

    Read by place, so a URL that ``urlsplit`` refuses (a bracket never closed)
    gives up its secrets too. A query value counts both as written and decoded.
    """
    found = set()
    match = _USERINFO.match(url)
    if match:
        user, colon, password = match.group('userinfo').partition(':')
        # A user without a password is a token (https://TOKEN@host); a user next to one
        # is a name, registered only where it stands.
        secret = password if colon else user
        found |= {secret, unquote(secret)}
    for parameter in _QUERY_PARAMETER.finditer(url):
        if is_secret_query_name(unquote_plus(parameter.group('name'))):
            found |= {parameter.group('value'), unquote_plus(parameter.group('value'))}
    return {secret for secret in found if secret}


def strip_url_secrets(url):
    """``url`` with its user part and its secret query values replaced by ``********``, fit for a message."""
    text = _USERINFO.sub(r'\g<scheme>' + MASK + '@', str(url), count=1)
    return _QUERY_PARAMETER.sub(_masked_parameter, text)


def _masked_parameter(parameter):
    if not is_secret_query_name(unquote_plus(parameter.group('name'))) or not parameter.group('value'):
        return parameter.group(0)
    return '%s%s=%s' % (parameter.group('sep'), parameter.group('name'), MASK)


def clean_message(text, secrets):
    """``text`` with the secrets of every URL in it hidden by place, and each maskable secret as text."""
    text = _URL.sub(lambda url: strip_url_secrets(url.group(0)), str(text))
    for secret in sorted(maskable(secrets), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
