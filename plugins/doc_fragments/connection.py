# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by every module that talks to Glance. Names and meaning follow
    # openstack.cloud, so module_defaults written for it carry over.
    DOCUMENTATION = r'''
options:
  cloud:
    description:
      - Named cloud from C(clouds.yaml) to operate against, or a dictionary of
        connection settings in the same form as one C(clouds.yaml) entry.
      - When not set, the usual C(OS_*) environment variables are used.
    type: raw
  auth:
    description:
      - Dictionary of authentication settings (for example C(auth_url),
        C(username), C(password), C(project_name), C(user_domain_name),
        C(project_domain_name)).
      - Overrides what O(cloud) provides for the same keys.
    type: dict
  auth_type:
    description:
      - Name of the keystoneauth plugin to use, for example C(password) or
        C(v3applicationcredential).
    type: str
  region_name:
    description:
      - Region whose image endpoint is used.
    type: str
  interface:
    description:
      - Endpoint interface to use from the service catalog.
      - When not set, the value from O(cloud) (C(image_interface) or C(interface)), else V(public).
    type: str
    choices: [public, internal, admin]
    aliases: [endpoint_type]
  validate_certs:
    description:
      - Whether TLS certificates of the API endpoints are verified.
      - When not set, the value from O(cloud) (or V(true)) is used.
    type: bool
    aliases: [verify]
  ca_cert:
    description:
      - Path to a CA bundle used to verify the API endpoints.
    type: path
    aliases: [cacert]
  client_cert:
    description:
      - Path to a client certificate for TLS client authentication.
    type: path
    aliases: [cert]
  client_key:
    description:
      - Path to the key of O(client_cert).
    type: path
    aliases: [key]
  api_timeout:
    description:
      - Timeout in seconds of each attempt of an HTTP request (to the image service and to Keystone).
      - It limits a silence, not a total, so an upload or download that makes progress is never cut.
      - When not set, the value from O(cloud), else 10 seconds to connect and 60 seconds for
        the next bytes of an answer.
      - A request that failed on the way (HTTP 502, 503, 504, a reset connection, a timeout)
        is retried while less than the larger of 60 seconds and three times O(api_timeout) has
        passed since its first attempt (180 seconds when not set), at most six attempts in all;
        Glance's generic HTTP 500 gets three attempts.
    type: int
  wait:
    description:
      - Whether to wait for asynchronous operations (for example an image
        import) to finish.
    type: bool
    default: true
  timeout:
    description:
      - How long in seconds to wait when O(wait=true).
    type: int
    default: 180
  api_version:
    description:
      - Image API version to speak.
      - V(auto) uses v2 when the endpoint offers it, else v1.
      - V('1') is the legacy Image API v1 (Glance before Rocky); V('2') the current one.
      - The versions offered are read from the image endpoint (C(GET /)).
    type: str
    choices: ['auto', '1', '2']
    default: auto
requirements:
  - python >= 3.11
  - openstacksdk >= 4.0.0
notes:
  - >-
    The connection is built by openstacksdk from C(clouds.yaml), the C(OS_*) environment
    variables and these options, as C(openstack.connect()) builds it: C(image_endpoint_override),
    C(image_interface), C(region_name), the TLS settings, C(api_timeout) and, with
    O(api_version=auto), C(image_api_version) of the cloud entry apply to the image service.
  - >-
    Requests that can be repeated safely are retried with a growing, jittered pause when
    the server or a gateway answers HTTP 502, 503, 504 or Glance's generic 500, or the
    connection is reset or times out. A new image gets an ID chosen by the module, so a
    create repeated after a lost answer finds the image it made instead of making a second.
  - >-
    Passwords, tokens and secrets inside O(cloud), O(auth) and other credential options,
    and the user part and secret query values (C(token), C(key), C(api_key), C(sig),
    C(signature), C(X-Amz-Security-Token), ...) of a URL, never appear in results, messages,
    diffs or logs, at any verbosity. User names, domains, project names and C(auth_url)
    stay readable. A secret shorter than 4 characters is hidden where it stands (the option
    value, the URL part) but not looked for in other text, which it would mangle.
  - >-
    All modules of this collection belong to the action group C(cloudimage.glance.glance),
    so common options can be set once with
    C(module_defaults) and the key C(group/cloudimage.glance.glance).
'''
