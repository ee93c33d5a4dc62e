"""Register the local test cloud's catalog, service user and personas.

Run by tests/cloud/start (with the cloud venv's Python) once Keystone answers.
Idempotent: everything is looked up before it is created, and a user whose
password in the environment (from .cloud/secrets.env) does not log in gets it.

Environment: KEYSTONE_URL, ADMIN_PASSWORD, GLANCE_SERVICE_PASSWORD,
PRODUCER_PASSWORD, CONSUMER1_PASSWORD, CONSUMER2_PASSWORD.
"""

import os
import sys

import openstack
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3 as ks_v3

DOMAIN = "default"
REGION = "RegionOne"
LEGACY_REGION = "RegionLegacy"
TWO_REGION = "RegionTwo"
GLANCE_URL = "http://127.0.0.1:9292"
LEGACY_GLANCE_URL = "http://127.0.0.1:9393"
TWO_GLANCE_URL = "http://127.0.0.1:9294"
PERSONAS = ("producer", "consumer1", "consumer2")


def env(name):
    value = os.environ.get(name, "")
    if not value:
        sys.exit("provision: %s is not set" % name)
    return value


def ensure_region(idp, region_id, description):
    if idp.find_region(region_id, ignore_missing=True) is None:
        idp.create_region(id=region_id, description=description)
        print("created region %s" % region_id)


def ensure_role(idp, name):
    role = idp.find_role(name, ignore_missing=True)
    if role is None:
        role = idp.create_role(name=name)
        print("created role %s" % name)
    return role


def ensure_project(idp, name, description):
    project = idp.find_project(name, domain_id=DOMAIN, ignore_missing=True)
    if project is None:
        project = idp.create_project(
            name=name, domain_id=DOMAIN, description=description
        )
        print("created project %s" % name)
    return project


def password_works(auth_url, name, password):
    auth = ks_v3.Password(
        auth_url=auth_url,
        username=name,
        password=password,
        user_domain_id=DOMAIN,
    )
    try:
        ks_session.Session(auth=auth).get_token()
    except ks_exceptions.Unauthorized:
        return False
    return True


def ensure_user(idp, name, password, project, auth_url):
    user = idp.find_user(name, domain_id=DOMAIN, ignore_missing=True)
    if user is None:
        user = idp.create_user(
            name=name,
            password=password,
            domain_id=DOMAIN,
            default_project_id=project.id,
        )
        print("created user %s" % name)
    elif user.default_project_id != project.id or not password_works(
        auth_url, name, password
    ):
        # Only when needed: Keystone revokes the tokens of a user whose
        # password is set, even to the same one.
        user = idp.update_user(
            user, password=password, default_project_id=project.id
        )
        print("updated user %s" % name)
    return user


def ensure_service(idp, service_type, name, description):
    for service in idp.services(type=service_type):
        return service
    service = idp.create_service(
        name=name, type=service_type, description=description, is_enabled=True
    )
    print("created service %s (%s)" % (name, service_type))
    return service


def ensure_endpoint(idp, service, interface, region, url):
    found = list(
        idp.endpoints(
            service_id=service.id, interface=interface, region_id=region
        )
    )
    if not found:
        idp.create_endpoint(
            service_id=service.id,
            interface=interface,
            region_id=region,
            url=url,
            is_enabled=True,
        )
        print("created %s %s endpoint %s in %s"
              % (service.type, interface, url, region))
        return
    for extra in found[1:]:
        idp.delete_endpoint(extra)
    if found[0].url != url:
        idp.update_endpoint(found[0], url=url)
        print("updated %s %s endpoint in %s to %s"
              % (service.type, interface, region, url))


def main():
    keystone = os.environ.get("KEYSTONE_URL", "http://127.0.0.1:5000")
    keystone = keystone.rstrip("/")
    conn = openstack.connect(
        auth_type="password",
        auth_url=keystone + "/v3",
        username="admin",
        password=env("ADMIN_PASSWORD"),
        project_name="admin",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name=REGION,
        interface="public",
        identity_api_version="3",
        load_yaml_config=False,
        load_envvars=False,
    )
    idp = conn.identity

    ensure_region(idp, LEGACY_REGION, "Legacy Glance 15 (Image API v1 + v2)")
    ensure_region(idp, TWO_REGION, "Second current Glance (PostgreSQL)")

    roles = {name: ensure_role(idp, name)
             for name in ("admin", "member", "reader", "service")}

    # Identity in the other regions too, so that clients bound to them can
    # resolve project and user names, and RegionTwo's Glance (region_name
    # RegionTwo) finds Keystone to validate tokens.
    identity = ensure_service(idp, "identity", "keystone", "Identity")
    ensure_endpoint(idp, identity, "public", LEGACY_REGION, keystone + "/v3")
    ensure_endpoint(idp, identity, "public", TWO_REGION, keystone + "/v3")

    # RegionTwo's glance-download finds RegionOne's Glance here, in the
    # catalog of the token of the user who imports.
    image = ensure_service(idp, "image", "glance", "Image")
    ensure_endpoint(idp, image, "public", REGION, GLANCE_URL)
    ensure_endpoint(idp, image, "public", LEGACY_REGION, LEGACY_GLANCE_URL)
    ensure_endpoint(idp, image, "public", TWO_REGION, TWO_GLANCE_URL)

    # The service user every Glance server validates tokens with.
    service_project = ensure_project(idp, "service", "Service users")
    glance = ensure_user(
        idp, "glance", env("GLANCE_SERVICE_PASSWORD"), service_project,
        keystone + "/v3",
    )
    for role in ("service", "admin"):
        idp.assign_project_role_to_user(service_project, glance, roles[role])

    for name in PERSONAS:
        project = ensure_project(idp, name, "Test persona %s" % name)
        user = ensure_user(
            idp, name, env("%s_PASSWORD" % name.upper()), project,
            keystone + "/v3",
        )
        for role in ("member", "reader"):
            idp.assign_project_role_to_user(project, user, roles[role])

    print("keystone: catalog, service user and personas are in place")


if __name__ == "__main__":
    main()
