# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils._connection.secrets import (
    HIDDEN, clean_message, maskable, secret_values, shown_options, strip_url_secrets, task_secrets, url_secrets,
)

CLOUD = {
    'auth': {'auth_url': 'http://127.0.0.1:5000/v3', 'username': 'producer', 'password': 'pw-producer-1',
             'project_name': 'producer', 'user_domain_name': 'Default', 'project_domain_name': 'Default'},
    'region_name': 'RegionOne',
}


def test_a_cloud_name_is_no_secret():
    assert task_secrets({'cloud': 'producer', 'member_cloud': 'consumer1'}) == set()


def test_secrets_inside_every_credential_option():
    params = {
        'cloud': CLOUD,
        'auth': {'password': 'pw-auth'},
        'member_cloud': {'auth_type': 'v3applicationcredential',
                         'auth': {'application_credential_id': 'ac-id', 'application_credential_secret': 'pw-appcred'}},
        'members': ['consumer2', {'project': 'consumer1', 'cloud': {'auth': {'token': 'tok-member', 'passcode': 'pc'}}}],
        'url': 'https://ci:pw-url@images.example/x.img?token=tok-url&size=5&temp_url_sig=sig-url',
    }
    assert task_secrets(params) == {'pw-producer-1', 'pw-auth', 'pw-appcred', 'tok-member', 'pc', 'pw-url',
                                    'tok-url', 'sig-url'}


def test_values_next_to_secrets_stay_readable():
    secrets = task_secrets({'cloud': CLOUD})
    assert 'producer' not in secrets and 'Default' not in secrets and 'RegionOne' not in secrets


@pytest.mark.parametrize('url, secrets, shown', [
    ('http://127.0.0.1:8000/x.img', set(), 'http://127.0.0.1:8000/x.img'),
    ('http://ci:s3cret@127.0.0.1/x.img', {'s3cret'}, 'http://********@127.0.0.1/x.img'),
    ('http://127.0.0.1/x.img?X-Amz-Signature=abc&X-Amz-Date=20261202', {'abc'},
     'http://127.0.0.1/x.img?X-Amz-Signature=********&X-Amz-Date=20261202'),
    ('not a url', set(), 'not a url'),
])
def test_url_secrets(url, secrets, shown):
    assert url_secrets(url) == secrets
    assert strip_url_secrets(url) == shown


def test_secrets_in_lists_and_urls_inside_credentials():
    assert secret_values([{'token': 'tok-1'}, 'https://u:pw-2@h/x']) == {'tok-1', 'pw-2'}
    assert secret_values({'password': ''}) == set()


def test_the_openstack_cloud_name_of_url_is_masked_too():
    assert task_secrets({'uri': 'https://u:pw-uri@h/x.img'}) == {'pw-uri'}


# -- what a URL hides ------------------------------------------------------------------------------
@pytest.mark.parametrize('url, secret', [
    ('http://tok-user-only@images.example/x.img', 'tok-user-only'),
    ('http://images.example/x.img?api_key=key-api', 'key-api'),
    ('http://images.example/x.img?apikey=key-api', 'key-api'),
    ('http://images.example/x.img?key=key-plain', 'key-plain'),
    ('http://images.example/x.img?access_token=tok-access', 'tok-access'),
    ('http://images.example/x.img?sig=sig-azure&sv=2020', 'sig-azure'),
    ('http://images.example/x.img?AWSAccessKeyId=AKIAEXAMPLE&Signature=sig-s3', 'AKIAEXAMPLE'),
    ('http://images.example/x.img?X-Amz-Credential=AKIA%2F2026&X-Amz-Security-Token=tok-amz', 'tok-amz'),
    ('http://images.example/x.img?X-Goog-Signature=sig-goog', 'sig-goog'),
    ('http://images.example/x.img?client_secret=pw-client', 'pw-client'),
])
def test_every_secret_part_of_a_url_is_registered_and_hidden(url, secret):
    assert secret in url_secrets(url)
    assert secret not in strip_url_secrets(url)
    assert 'images.example/x.img' in strip_url_secrets(url)


def test_values_encoded_in_a_query_are_registered_as_written_and_decoded():
    assert {'a%2Bb+c', 'a+b c'} <= url_secrets('http://h/x?token=a%2Bb+c')


@pytest.mark.parametrize('url', [
    'http://ci:pw-malformed@[::1/x.img?token=tok-malformed',     # an IPv6 host never closed
    'http://ci:pw-malformed@h]/x.img?token=tok-malformed',
])
def test_a_url_that_cannot_be_parsed_still_hides_its_secrets(url):
    with pytest.raises(ValueError):
        urlsplit(url)
    assert {'pw-malformed', 'tok-malformed'} <= url_secrets(url)
    shown = strip_url_secrets(url)
    assert 'pw-malformed' not in shown and 'tok-malformed' not in shown
    assert shown.startswith('http://********@') and shown.endswith('/x.img?token=********')


def test_a_short_secret_hides_only_its_own_place_in_a_url():
    assert strip_url_secrets('http://u:p@pypi.example/pub/p.img?sig=p&page=p') == \
        'http://********@pypi.example/pub/p.img?sig=********&page=p'


def test_a_user_and_password_are_hidden_together():
    # In a URL the user part may be the token itself (https://TOKEN:x-oauth-basic@...).
    assert strip_url_secrets('https://tok-gh:x-oauth-basic@git.example/x.img') == 'https://********@git.example/x.img'


# -- messages -------------------------------------------------------------------------------------------
def test_a_message_hides_every_url_secret_and_every_long_secret_in_it():
    message = ("Invalid URI 'http://u:p@[::1/p.img?token=t' (pw-producer-1 refused)")
    assert clean_message(message, {'p', 't', 'pw-producer-1'}) == \
        "Invalid URI 'http://********@[::1/p.img?token=********' (******** refused)"


def test_a_message_keeps_the_punctuation_around_a_url():
    assert clean_message('import of http://h/x.img?token=t: failed (see http://h/?sig=s).', set()) == \
        'import of http://h/x.img?token=********: failed (see http://h/?sig=********).'


def test_a_message_keeps_text_that_only_looks_like_a_short_secret():
    assert clean_message('cannot authenticate at http://keystone:5000/v3 as producer', {'p', 'abc'}) == \
        'cannot authenticate at http://keystone:5000/v3 as producer'


def test_only_secrets_long_enough_to_be_told_apart_from_other_text_are_masked_as_text():
    assert maskable({'p', 'pw', 'abc', 'abcd', 'pw-producer-1'}) == {'abcd', 'pw-producer-1'}


# -- credentials ------------------------------------------------------------------------------------------
@pytest.mark.parametrize('key', ['password', 'token', 'application_credential_secret', 'client_secret',
                                 'oauth2_client_secret', 'access_token', 'passcode', 'totp', 'code',
                                 'secret', 'consumer_secret', 'access_secret'])
def test_every_secret_option_of_the_keystone_auth_plugins_is_a_secret(key):
    assert task_secrets({'auth': {key: 'sec-value', 'username': 'producer'}}) == {'sec-value'}


def test_names_domains_and_the_auth_url_are_no_secrets():
    auth = {'auth_url': 'http://127.0.0.1:5000/v3', 'username': 'producer', 'user_domain_name': 'Default',
            'project_name': 'producer', 'project_domain_id': 'default', 'user_id': 'u-1', 'password': 'p'}
    assert task_secrets({'auth': auth}) == {'p'}


def test_shown_options_hide_every_secret_whatever_its_length():
    params = {'auth': {'username': 'producer', 'password': 'p', 'auth_url': 'http://127.0.0.1:5000/v3'},
              'cloud': {'auth': {'token': 't'}}, 'members': [{'project': 'c1', 'cloud': {'auth': {'password': 'q'}}}],
              'url': 'http://u:x@h/p.img?sig=s', 'name': 'p'}
    shown = shown_options(params)
    assert shown['auth'] == {'username': 'producer', 'password': HIDDEN, 'auth_url': 'http://127.0.0.1:5000/v3'}
    assert shown['cloud'] == {'auth': {'token': HIDDEN}}
    assert shown['members'] == [{'project': 'c1', 'cloud': {'auth': {'password': HIDDEN}}}]
    assert shown['url'] == 'http://********@h/p.img?sig=********' and shown['name'] == 'p'
    assert params['auth']['password'] == 'p'  # the options themselves are unchanged
