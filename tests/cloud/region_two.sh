# shellcheck shell=bash
#
# Region RegionTwo of the local test cloud: a second current Glance on
# 127.0.0.1:9294 with sha256 image hashes, two file stores (`fast`, the
# default, and `slow`), every import method (glance-direct, web-download,
# copy-image, glance-download from RegionOne), on PostgreSQL (postgres.sh).
# It validates tokens with the same Keystone and service user as RegionOne.
#
# Source it after lib.sh (it defines functions only), then call:
#   two_enabled   true unless CLOUD_TWO=0
#   two_install   secrets, configuration, database and schema (idempotent;
#                 leaves PostgreSQL as it found it, running or not)
#   two_start     PostgreSQL, then Glance; waits until both answer
#   two_stop      both (idempotent)
#   two_status    one up/down line per server; 0 only if both are up
# The functions exit the calling shell on failure (cloud_die), as lib.sh does.
#
# Files: $CLOUD_DIR/glance-two/ (glance-api.conf, glance-api-paste.ini,
# policy.yaml, fast/, slow/, staging/, tasks/, locks/), PostgreSQL's in
# $CLOUD_DIR/postgres/, logs $LOG_DIR/glance-two{,-access,-manage}.log and
# $LOG_DIR/postgres.log.

# shellcheck source=tests/cloud/postgres.sh
. "$CLOUD_SRC_DIR/postgres.sh"

TWO_REGION=RegionTwo
TWO_GLANCE_PORT=9294
TWO_GLANCE_URL=http://127.0.0.1:$TWO_GLANCE_PORT
TWO_GLANCE_DIR=$CLOUD_DIR/glance-two

two_enabled() { [ "${CLOUD_TWO:-1}" != 0 ]; }

# Passwords of the database users, added to secrets.env when missing.
_two_secrets() {
    local name
    for name in POSTGRES_PASSWORD GLANCE_TWO_DB_PASSWORD; do
        grep -q "^$name=" "$SECRETS_FILE" && continue
        printf '%s=%s\n' "$name" "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >> "$SECRETS_FILE"
    done
    cloud_load_secrets
}

_two_write_config() {
    local db_url
    db_url=$(pg_sqlalchemy_url glance glance "$GLANCE_TWO_DB_PASSWORD")
    mkdir -p "$TWO_GLANCE_DIR"/{fast,slow,staging,tasks,locks}
    cloud_write_file "$TWO_GLANCE_DIR/glance-api.conf" 600 <<CONF
# Written by tests/cloud/install; rewritten on each run.
[DEFAULT]
debug = false
hashing_algorithm = sha256
enabled_backends = fast:file, slow:file
enabled_import_methods = [glance-direct,web-download,copy-image,glance-download]
worker_self_reference_url = $TWO_GLANCE_URL

[database]
connection = $db_url

[glance_store]
default_backend = fast

[fast]
store_description = Fast file store (default)
filesystem_store_datadir = $TWO_GLANCE_DIR/fast

[slow]
store_description = Slow file store
filesystem_store_datadir = $TWO_GLANCE_DIR/slow

[os_glance_staging_store]
filesystem_store_datadir = $TWO_GLANCE_DIR/staging

[os_glance_tasks_store]
filesystem_store_datadir = $TWO_GLANCE_DIR/tasks

[import_filtering_opts]
# As in RegionOne: web-download (and glance-download, whose requests pass the
# same filter) may fetch from 127.0.0.1 / localhost on any port, nothing else.
allowed_hosts = [127.0.0.1,localhost]
allowed_ports = []

[glance_download_properties]
# Properties glance-download copies from the source image (prefixes): the
# defaults, plus architecture and os_version.
extra_properties = [hw_,trait:,os_distro,os_secure_boot,os_type,os_version,architecture]

[oslo_concurrency]
lock_path = $TWO_GLANCE_DIR/locks

[oslo_policy]
# Relative to this folder: $TWO_GLANCE_DIR/policy.yaml
policy_file = policy.yaml

[paste_deploy]
flavor = keystone

[keystone_authtoken]
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
user_domain_name = Default
project_domain_name = Default
project_name = service
username = glance
password = $GLANCE_SERVICE_PASSWORD
interface = public
region_name = $TWO_REGION
CONF
    sed "s|^disable_by_file_path = .*|disable_by_file_path = $TWO_GLANCE_DIR/healthcheck_disable|" \
        "$VENV/etc/glance/glance-api-paste.ini" | cloud_write_file "$TWO_GLANCE_DIR/glance-api-paste.ini"
    # Tests and the image_policy module edit the policy file: never overwrite it.
    if [ ! -e "$TWO_GLANCE_DIR/policy.yaml" ]; then
        printf '{}\n' > "$TWO_GLANCE_DIR/policy.yaml"
    fi
}

# The database, its owner and its schema; the schema again when the venv
# changed (the stamp) or the database is new.
_two_database() {
    local stamp="$1" was_running=0 rc=0
    if pg_pid > /dev/null; then
        was_running=1
    else
        # Only for the schema: quietly, and stopped again below.
        if ! pg_start 2>> "$LOG_DIR/glance-two-manage.log"; then
            tail -n 20 "$LOG_DIR/glance-two-manage.log" >&2
            cloud_die "PostgreSQL did not start (log: $PG_LOG)"
        fi
    fi
    if ! pg_ensure_database glance glance "$GLANCE_TWO_DB_PASSWORD" >> "$LOG_DIR/glance-two-manage.log" 2>&1; then
        tail -n 20 "$LOG_DIR/glance-two-manage.log" >&2
        rc=1
    elif [ "$(cat "$TWO_GLANCE_DIR/.synced" 2>/dev/null)" != "$stamp" ]; then
        cloud_say "creating the RegionTwo Glance database"
        if "$VENV/bin/glance-manage" --config-dir "$TWO_GLANCE_DIR" db_sync >> "$LOG_DIR/glance-two-manage.log" 2>&1; then
            printf '%s\n' "$stamp" > "$TWO_GLANCE_DIR/.synced"
        else
            tail -n 30 "$LOG_DIR/glance-two-manage.log" >&2
            rc=2
        fi
    fi
    if [ "$was_running" = 0 ]; then pg_stop > /dev/null 2>&1 || true; fi
    case "$rc" in
        1) cloud_die "creating the PostgreSQL database of RegionTwo failed (log: $LOG_DIR/glance-two-manage.log)" ;;
        2) cloud_die "glance-manage db_sync (RegionTwo) failed (log: $LOG_DIR/glance-two-manage.log)" ;;
    esac
}

# $1: the venv stamp of install.
two_install() {
    local stamp="$1"
    _two_secrets
    PG_CREATED=0
    pg_install || cloud_die "setting up PostgreSQL failed"
    # A new cluster has no schema, whatever the stamp says.
    if [ "$PG_CREATED" = 1 ]; then rm -f "$TWO_GLANCE_DIR/.synced"; fi
    _two_write_config
    _two_database "$stamp"
}

two_installed() {
    [ -f "$TWO_GLANCE_DIR/.synced" ] && [ -s "$PG_DATA/PG_VERSION" ]
}

# Starts both and waits for them; the caller checks an authenticated call.
two_start() {
    local pid
    two_installed || cloud_die "RegionTwo is not installed: run tests/cloud/install (or set CLOUD_TWO=0)"
    pg_start || cloud_die "PostgreSQL did not start (log: $PG_LOG)"
    if pid=$(cloud_pid glance-two); then
        cloud_say "glance-two already running (pid $pid)"
    else
        cloud_say "starting glance-two on $TWO_GLANCE_URL"
        cloud_start_gunicorn glance-two "$TWO_GLANCE_PORT" glance.wsgi.api:application 1 \
            OS_GLANCE_CONFIG_DIR="$TWO_GLANCE_DIR"
    fi
    cloud_wait_http glance-two "$TWO_GLANCE_URL/healthcheck" 200 || exit 1
}

two_stop() {
    local rc=0
    cloud_stop_server glance-two || rc=1
    pg_stop || rc=1
    return "$rc"
}

two_status() {
    local rc=0 pid code
    pg_status || rc=1
    if pid=$(cloud_pid glance-two); then
        code=$(cloud_http_code "$TWO_GLANCE_URL/healthcheck")
        if [ "$code" = 200 ]; then
            printf 'glance-two: up (pid %s, %s)\n' "$pid" "$TWO_GLANCE_URL"
        else
            printf 'glance-two: down (pid %s runs but %s/healthcheck answers %s)\n' "$pid" "$TWO_GLANCE_URL" "${code:-nothing}"
            rc=1
        fi
    else
        printf 'glance-two: down\n'
        rc=1
    fi
    return "$rc"
}
