# shellcheck shell=bash
#
# Legacy Glance 15.0.2 (Pike: Image API v1 + v2) for the local test cloud.
#
# Source this file, then call:
#   legacy_install    install CPython 2.7, a 2.7 virtualenv and glance==15.0.2 (once)
#   legacy_configure  write $CLOUD_DIR/glance-legacy/* and sync the database (once)
#   legacy_start      start glance-registry (127.0.0.1:9391) and glance-api (127.0.0.1:9393)
#   legacy_stop       stop both
#   legacy_status     print one up/down line per server; 0 only if both are up
#
# Every function returns non-zero with a message on stderr when it fails; none
# of them exits the calling shell.
#
# Environment:
#   CLOUD_DIR                  state folder (default: <repo>/.cloud)
#   GLANCE_LEGACY_OFFLINE_DIR  folder with debs/, wheelhouse27/ and
#                              glance-15.0.2.tar.gz; when unset, packages come
#                              from the machine's configured apt mirror and pip
#                              index (of the pip settings only the index, proxy and
#                              CA bundle count: see pip.sh)
#   GLANCE_LEGACY_APT_URI      Debian mirror for the bullseye packages (default:
#                              the first Debian URI of the machine's apt sources)
#   GLANCE_LEGACY_HOST_PYTHON  Python 3 that runs virtualenv (default: python3.11,
#                              else python3)
#   KEYSTONE_URL               Keystone the servers validate tokens with
#                              (default http://127.0.0.1:5000)
#   GLANCE_SERVICE_PASSWORD    password of the service user `glance` (project
#                              `service`, domain Default)
#   GLANCE_LEGACY_AUTH         paste flavor: keystone (default) or trusted-auth
#                              (no Keystone: callers send X-Identity-Status,
#                              X-Tenant-Id, X-User-Id, X-Roles themselves)
#
# What the keystone flavor needs from Keystone (legacy_start checks it): the
# user `glance` with role `service` (or `admin`) in project `service`, and an
# identity endpoint of interface "admin" in the catalog, any region:
# keystonemiddleware 4.17 validates tokens only there (without it every
# authenticated request answers 500, EndpointNotFound).
#
# Files: software in $CLOUD_DIR/legacy/; config, policy.json (never
# overwritten once there), SQLite database and image files in
# $CLOUD_DIR/glance-legacy/; logs $CLOUD_DIR/log/glance-legacy-{api,registry}.log
# (one line per request from eventlet's wsgi server, e.g.
# '... INFO eventlet.wsgi.server [-] 127.0.0.1 - - [date] "GET /v1/images/detail HTTP/1.1" 200 1234 0.02');
# pid files $CLOUD_DIR/run/glance-legacy-{api,registry}.pid.

_LEGACY_SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/cloud/pip.sh
. "$_LEGACY_SRC_DIR/pip.sh"
_LEGACY_GLANCE_VERSION=15.0.2
_LEGACY_VIRTUALENV_VERSION=20.21.1
_LEGACY_API_PORT=9393
_LEGACY_REGISTRY_PORT=9391
# Bump when the installed layout changes, so that legacy_install redoes it.
_LEGACY_INSTALL_STAMP="glance=${_LEGACY_GLANCE_VERSION} virtualenv=${_LEGACY_VIRTUALENV_VERSION} layout=1"
_LEGACY_DEBS="python2.7 python2.7-minimal libpython2.7 libpython2.7-minimal libpython2.7-stdlib python2.7-dev libpython2.7-dev libssl1.1 libffi7"

# Every public function starts with "local -; set +e +u +o pipefail": the
# caller's errexit/nounset/pipefail (lib.sh sets them) are restored on return,
# and a failing step is handled here instead of ending the caller.

_legacy_err() { printf 'legacy glance: %s\n' "$*" >&2; }
_legacy_say() { printf 'legacy glance: %s\n' "$*" >&2; }

# Sets the folder variables used by every function.
_legacy_paths() {
    if [ -z "${CLOUD_DIR:-}" ]; then
        CLOUD_DIR="$(cd "$_LEGACY_SRC_DIR/../.." && pwd)/.cloud"
    fi
    case "$CLOUD_DIR" in /*) ;; *) CLOUD_DIR="$PWD/$CLOUD_DIR" ;; esac
    export CLOUD_DIR
    _L_HOME="$CLOUD_DIR/legacy"              # installed software
    _L_PY27="$_L_HOME/py27"                  # CPython 2.7 unpacked from .debs
    _L_TOOLS="$_L_HOME/tools"                # Python 3 venv holding virtualenv
    _L_VENV="$_L_HOME/venv"                  # Python 2.7 venv with glance
    _L_ETC="$_L_HOME/etc"                    # etc/ of the glance sdist
    _L_DL="$_L_HOME/downloads"               # packages fetched without the bundle
    _L_CONF="$CLOUD_DIR/glance-legacy"       # config and state of the servers
    _L_LOG="$CLOUD_DIR/log"
    _L_RUN="$CLOUD_DIR/run"
    _L_LIBDIR="$_L_PY27/usr/lib/x86_64-linux-gnu"
}

# Runs a command with the unpacked CPython 2.7 libraries visible.
_legacy_env() {
    LD_LIBRARY_PATH="$_L_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"
}

_legacy_offline_dir() {
    local d="${GLANCE_LEGACY_OFFLINE_DIR:-}"
    if [ -n "$d" ] && [ -d "$d" ]; then
        printf '%s\n' "$d"
        return 0
    fi
    return 1
}

# ---------------------------------------------------------------- install --

# Prints the Debian mirror URI found in the machine's apt sources: among
# their "deb" entries that are not -security suites, the first signed with
# Debian's archive keyring, else the first whose URI ends in /debian.
_legacy_apt_uri() {
    if [ -n "${GLANCE_LEGACY_APT_URI:-}" ]; then
        printf '%s\n' "$GLANCE_LEGACY_APT_URI"
        return 0
    fi
    local f uri
    local -a files=()
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && files+=("$f")
    done
    # One line per entry: URI, suites, signed-by (deb822 stanzas and one-line
    # "deb [options] URI suite components" entries).
    uri="$([ "${#files[@]}" -gt 0 ] && awk '
        function flush() {
            if (u != "" && t ~ /(^|[ \t])deb([ \t]|$)/) print u "\t" su "\t" k
            u = ""; su = ""; k = ""; t = ""
        }
        FNR == 1 { flush() }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^URIs:/ { u = $2; next }
        /^Suites:/ { su = $0; next }
        /^Types:/ { t = $0; next }
        /^Signed-By:/ { k = $0; next }
        $1 == "deb" {
            flush()
            i = 2; opts = ""
            if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
            print $i "\t" $(i + 1) "\t" opts
        }
        END { flush() }
    ' "${files[@]}" | awk -F '\t' '
        $2 ~ /-security/ { next }
        $1 ~ /\/debian\/?$/ && first == "" { first = $1 }
        $3 ~ /debian-archive-keyring/ && keyed == "" { keyed = $1 }
        END { if (keyed != "") print keyed; else if (first != "") print first }
    ')"
    if [ -z "$uri" ]; then
        _legacy_err "no Debian mirror found in the apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/); set GLANCE_LEGACY_APT_URI, or GLANCE_LEGACY_OFFLINE_DIR to the offline bundle"
        return 1
    fi
    printf '%s\n' "$uri"
}

# Downloads the bullseye .debs of CPython 2.7 into $1 with a private apt
# folder; the machine's apt state is only read (its apt.conf.d), never written.
_legacy_fetch_debs() {
    local dest="$1" uri apt keyring f
    local -a apt_opts
    uri="$(_legacy_apt_uri)" || return 1
    apt="$_L_DL/apt"
    mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/etc/preferences.d" "$apt/etc/sources.list.d" "$dest" || return 1
    : > "$apt/status"
    keyring=""
    for f in /usr/share/keyrings/debian-archive-keyring.gpg /usr/share/keyrings/debian-archive-bullseye-stable.gpg; do
        [ -f "$f" ] && { keyring="$f"; break; }
    done
    if [ -n "$keyring" ]; then
        printf 'deb [signed-by=%s] %s bullseye main\n' "$keyring" "$uri" > "$apt/sources.list"
    else
        printf 'deb %s bullseye main\n' "$uri" > "$apt/sources.list"
    fi
    apt_opts=(
        -o "Dir::Etc::SourceList=$apt/sources.list"
        -o "Dir::Etc::SourceParts=$apt/etc/sources.list.d"
        -o "Dir::Etc::Preferences=$apt/etc/preferences"
        -o "Dir::Etc::PreferencesParts=$apt/etc/preferences.d"
        -o "Dir::State=$apt/state"
        -o "Dir::State::status=$apt/status"
        -o "Dir::Cache=$apt/cache"
        -o "APT::Architecture=amd64"
        -o "APT::Architectures=amd64"
        -o "Debug::NoLocking=1"
    )
    [ "$(id -u)" = 0 ] && apt_opts+=(-o "APT::Sandbox::User=root")
    _legacy_say "fetching the bullseye packages of CPython 2.7 from $uri"
    if ! apt-get -q "${apt_opts[@]}" update > "$apt/update.log" 2>&1 ||
        grep -qiE '^(E:|W:.*(does not have a Release|Failed to fetch))' "$apt/update.log"; then
        cat "$apt/update.log" >&2
        _legacy_err "the mirror $uri does not serve Debian bullseye (any more?): bullseye is past its end of life and leaves the main mirror; point GLANCE_LEGACY_APT_URI at a Debian archive mirror that still has it, or use the offline bundle (GLANCE_LEGACY_OFFLINE_DIR)"
        return 1
    fi
    # shellcheck disable=SC2086
    if ! (cd "$dest" && apt-get -q "${apt_opts[@]}" download $_LEGACY_DEBS) >&2; then
        _legacy_err "apt-get download of the bullseye packages from $uri failed (is bullseye still on that mirror? see GLANCE_LEGACY_APT_URI / GLANCE_LEGACY_OFFLINE_DIR)"
        return 1
    fi
}

# CPython 2.7 from the .debs, unpacked (not installed) into $_L_PY27.
_legacy_install_python() {
    if [ -x "$_L_PY27/usr/bin/python2.7" ] && _legacy_env "$_L_PY27/usr/bin/python2.7" -c 'import ssl, sqlite3, zlib, bz2, ctypes' 2>/dev/null; then
        return 0
    fi
    local debdir off d n=0
    if off="$(_legacy_offline_dir)"; then
        debdir="$off/debs"
    else
        debdir="$_L_DL/debs"
        rm -rf "$debdir"
        _legacy_fetch_debs "$debdir" || return 1
    fi
    rm -rf "$_L_PY27.tmp"
    mkdir -p "$_L_PY27.tmp" || return 1
    for d in "$debdir"/*.deb; do
        [ -f "$d" ] || continue
        dpkg -x "$d" "$_L_PY27.tmp" || { _legacy_err "dpkg -x $d failed"; return 1; }
        n=$((n + 1))
    done
    if [ "$n" = 0 ]; then
        _legacy_err "no .deb files in $debdir"
        return 1
    fi
    rm -rf "$_L_PY27"
    mv "$_L_PY27.tmp" "$_L_PY27" || return 1
    if ! _legacy_env "$_L_PY27/usr/bin/python2.7" -c 'import ssl, sqlite3, zlib, bz2, ctypes'; then
        _legacy_err "the unpacked CPython 2.7 in $_L_PY27 does not work (missing system libraries?)"
        return 1
    fi
}

_legacy_host_python() {
    local p
    for p in ${GLANCE_LEGACY_HOST_PYTHON:-} python3.11 python3; do
        if command -v "$p" >/dev/null 2>&1 &&
            "$p" -c 'import sys, venv; sys.exit(sys.version_info < (3, 7))' 2>/dev/null; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    _legacy_err "no Python >= 3.7 with the venv module found (set GLANCE_LEGACY_HOST_PYTHON)"
    return 1
}

# A small Python 3 venv with virtualenv, which can still create 2.7 venvs.
_legacy_install_tools() {
    if [ -x "$_L_TOOLS/bin/virtualenv" ] &&
        [ "$("$_L_TOOLS/bin/virtualenv" --version 2>/dev/null | awk '{print $2}')" = "$_LEGACY_VIRTUALENV_VERSION" ]; then
        return 0
    fi
    local py
    py="$(_legacy_host_python)" || return 1
    rm -rf "$_L_TOOLS"
    "$py" -m venv "$_L_TOOLS" || { _legacy_err "creating the venv $_L_TOOLS failed"; return 1; }
    local settings
    settings="$(pip_settings modern "$_L_TOOLS/bin/python")" || return 1
    if ! pip_isolated "$settings" "$_L_TOOLS/bin/python" -m pip install -q --disable-pip-version-check \
        "virtualenv==$_LEGACY_VIRTUALENV_VERSION" >&2; then
        _legacy_err "pip install virtualenv==$_LEGACY_VIRTUALENV_VERSION failed"
        return 1
    fi
}

# The user's index, proxy and CA bundle for the 2.7 venv's pip 20, read with
# the tools venv's current pip (tests/cloud/pip.sh says why nothing else).
_legacy_pip_settings() {
    pip_settings legacy "$_L_TOOLS/bin/python"
}

_legacy_install_venv() {
    if [ -x "$_L_VENV/bin/python" ] && _legacy_env "$_L_VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (2, 7))' 2>/dev/null; then
        return 0
    fi
    rm -rf "$_L_VENV"
    if ! _legacy_env "$_L_TOOLS/bin/virtualenv" -q --no-download --no-periodic-update \
        -p "$_L_PY27/usr/bin/python2.7" "$_L_VENV" >&2; then
        _legacy_err "virtualenv could not create the Python 2.7 venv $_L_VENV"
        return 1
    fi
}

_legacy_install_glance() {
    local off pins="$_LEGACY_SRC_DIR/legacy/requirements-pike.txt"
    if _legacy_env "$_L_VENV/bin/python" -c "import pkg_resources as p, sys; sys.exit(p.get_distribution('glance').version != '$_LEGACY_GLANCE_VERSION')" 2>/dev/null &&
        _legacy_env "$_L_VENV/bin/python" -m pip check >/dev/null 2>&1; then
        return 0
    fi
    [ -f "$pins" ] || { _legacy_err "missing $pins"; return 1; }
    # Headers of the unpacked CPython, for the few packages that build a C
    # extension when no wheel is at hand (registry fallback).
    local inc="$_L_PY27/usr/include"
    local -a pip_env=(
        PIP_DISABLE_PIP_VERSION_CHECK=1
        PIP_NO_PYTHON_VERSION_WARNING=1
        CFLAGS="-I$inc -I$inc/python2.7 -I$inc/x86_64-linux-gnu/python2.7 ${CFLAGS:-}"
        LDFLAGS="-L$_L_LIBDIR ${LDFLAGS:-}"
    )
    local settings
    if off="$(_legacy_offline_dir)"; then
        _legacy_say "installing glance==$_LEGACY_GLANCE_VERSION from $off/wheelhouse27"
        pip_isolated "" env "${pip_env[@]}" LD_LIBRARY_PATH="$_L_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
            "$_L_VENV/bin/python" -m pip install -q --no-index --find-links "$off/wheelhouse27" \
            -c "$pins" "glance==$_LEGACY_GLANCE_VERSION" >&2 ||
            { _legacy_err "pip install from $off/wheelhouse27 failed"; return 1; }
    else
        _legacy_say "installing glance==$_LEGACY_GLANCE_VERSION from the configured pip index (Pike pins)"
        settings="$(_legacy_pip_settings)" || return 1
        pip_isolated "$settings" env "${pip_env[@]}" LD_LIBRARY_PATH="$_L_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
            "$_L_VENV/bin/python" -m pip install -q -c "$pins" "glance==$_LEGACY_GLANCE_VERSION" >&2 ||
            { _legacy_err "pip install glance==$_LEGACY_GLANCE_VERSION with $pins failed"; return 1; }
    fi
    local check
    if ! check="$(_legacy_env "$_L_VENV/bin/python" -m pip check 2>&1)"; then
        printf '%s\n' "$check" >&2
        _legacy_err "pip check failed in $_L_VENV"
        return 1
    fi
}

# etc/ of the sdist: the paste pipelines and the complete Pike policy.json.
_legacy_install_etc() {
    local f ok=1
    for f in glance-api-paste.ini glance-registry-paste.ini policy.json; do
        [ -s "$_L_ETC/$f" ] || ok=0
    done
    [ "$ok" = 1 ] && return 0
    local off sdist="" settings
    if off="$(_legacy_offline_dir)" && [ -f "$off/glance-$_LEGACY_GLANCE_VERSION.tar.gz" ]; then
        sdist="$off/glance-$_LEGACY_GLANCE_VERSION.tar.gz"
    else
        mkdir -p "$_L_DL/sdist" || return 1
        sdist="$_L_DL/sdist/glance-$_LEGACY_GLANCE_VERSION.tar.gz"
        if [ ! -s "$sdist" ]; then
            # The 2.7 venv's pip has pbr installed by now, so the sdist's
            # metadata step needs nothing else.
            settings="$(_legacy_pip_settings)" || return 1
            if ! pip_isolated "$settings" env PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_PYTHON_VERSION_WARNING=1 \
                LD_LIBRARY_PATH="$_L_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
                "$_L_VENV/bin/python" -m pip download -q --no-deps --no-binary :all: \
                --no-build-isolation -d "$_L_DL/sdist" "glance==$_LEGACY_GLANCE_VERSION" >&2 ||
                [ ! -s "$sdist" ]; then
                _legacy_err "pip download of the glance==$_LEGACY_GLANCE_VERSION sdist failed"
                return 1
            fi
        fi
    fi
    rm -rf "$_L_ETC.tmp"
    mkdir -p "$_L_ETC.tmp" || return 1
    if ! tar -xzf "$sdist" -C "$_L_ETC.tmp" --strip-components=2 \
        "glance-$_LEGACY_GLANCE_VERSION/etc/glance-api-paste.ini" \
        "glance-$_LEGACY_GLANCE_VERSION/etc/glance-registry-paste.ini" \
        "glance-$_LEGACY_GLANCE_VERSION/etc/policy.json"; then
        _legacy_err "could not extract etc/ from $sdist"
        return 1
    fi
    rm -rf "$_L_ETC"
    mv "$_L_ETC.tmp" "$_L_ETC"
}

legacy_install() {
    local -
    set +e +u +o pipefail
    _legacy_paths
    local stamp="$_L_HOME/.installed"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$_LEGACY_INSTALL_STAMP" ] &&
        [ -x "$_L_VENV/bin/glance-api" ] && [ -s "$_L_ETC/policy.json" ]; then
        return 0
    fi
    mkdir -p "$_L_HOME" || { _legacy_err "cannot create $_L_HOME"; return 1; }
    rm -f "$stamp"
    _legacy_install_python || return 1
    _legacy_install_tools || return 1
    _legacy_install_venv || return 1
    _legacy_install_glance || return 1
    _legacy_install_etc || return 1
    printf '%s\n' "$_LEGACY_INSTALL_STAMP" > "$stamp"
    _legacy_say "installed glance==$_LEGACY_GLANCE_VERSION in $_L_VENV"
}

# -------------------------------------------------------------- configure --

_legacy_auth_flavor() {
    case "${GLANCE_LEGACY_AUTH:-keystone}" in
        keystone) printf 'keystone\n' ;;
        trusted-auth) printf 'trusted-auth\n' ;;
        *) _legacy_err "GLANCE_LEGACY_AUTH must be keystone or trusted-auth, not '${GLANCE_LEGACY_AUTH}'"; return 1 ;;
    esac
}

# The [keystone_authtoken] section shared by the API and the registry.
_legacy_authtoken_section() {
    local url="${KEYSTONE_URL:-http://127.0.0.1:5000}"
    url="${url%/}"
    cat <<CONF
[keystone_authtoken]
# Tokens are validated against the test cloud's Keystone (Identity API v3).
# keystonemiddleware 4.17 looks up the identity endpoint of interface "admin"
# in the service catalog to validate tokens.
auth_uri = $url
auth_url = $url
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = ${GLANCE_SERVICE_PASSWORD}
http_connect_timeout = 10
token_cache_time = 300
CONF
}

_legacy_write_api_conf() {
    local f="$1" flavor="$2" send_headers=False
    [ "$flavor" = trusted-auth ] && send_headers=True
    cat > "$f.tmp" <<CONF || return 1
# Written by tests/cloud/legacy.sh (legacy_configure); rewritten on each run.
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $_LEGACY_API_PORT
workers = 1
backlog = 128
registry_host = 127.0.0.1
registry_port = $_LEGACY_REGISTRY_PORT
registry_client_protocol = http
enable_v1_api = True
enable_v2_api = True
enable_v1_registry = True
enable_v2_registry = True
send_identity_headers = $send_headers
image_cache_dir = $_L_CONF/image-cache
show_image_direct_url = False
debug = False
use_stderr = False
log_file = $_L_LOG/glance-legacy-api.log
# eventlet's wsgi server logs one INFO line per request (method, path, status):
default_log_levels = amqp=WARN,amqplib=WARN,sqlalchemy=WARN,iso8601=WARN,urllib3.connectionpool=WARN,requests.packages.urllib3.connectionpool=WARN,keystonemiddleware=WARN,routes.middleware=WARN,stevedore=WARN,taskflow=WARN,keystoneauth=WARN,eventlet.wsgi.server=INFO

[database]
connection = sqlite:///$_L_CONF/glance.sqlite

[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $_L_CONF/images

[paste_deploy]
flavor = $flavor
config_file = $_L_CONF/glance-api-paste.ini

[oslo_policy]
policy_file = $_L_CONF/policy.json

[oslo_concurrency]
lock_path = $_L_CONF/locks

[task]
work_dir = $_L_CONF/tasks

CONF
    if [ "$flavor" = keystone ]; then
        _legacy_authtoken_section >> "$f.tmp" || return 1
    fi
    mv "$f.tmp" "$f"
}

_legacy_write_registry_conf() {
    local f="$1" flavor="$2"
    cat > "$f.tmp" <<CONF || return 1
# Written by tests/cloud/legacy.sh (legacy_configure); rewritten on each run.
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $_LEGACY_REGISTRY_PORT
workers = 1
backlog = 128
debug = False
use_stderr = False
log_file = $_L_LOG/glance-legacy-registry.log

[database]
connection = sqlite:///$_L_CONF/glance.sqlite

[paste_deploy]
flavor = $flavor
config_file = $_L_CONF/glance-registry-paste.ini

[oslo_policy]
policy_file = $_L_CONF/policy.json

CONF
    if [ "$flavor" = keystone ]; then
        _legacy_authtoken_section >> "$f.tmp" || return 1
    fi
    mv "$f.tmp" "$f"
}

# Copies a paste ini of the sdist, with its health-check switch file moved
# from /etc/glance into the config folder.
_legacy_write_paste() {
    local src="$1" dest="$2"
    sed "s|^disable_by_file_path = .*|disable_by_file_path = $_L_CONF/healthcheck_disable|" "$src" > "$dest.tmp" &&
        mv "$dest.tmp" "$dest"
}

legacy_configure() {
    local -
    set +e +u +o pipefail
    _legacy_paths
    local flavor
    flavor="$(_legacy_auth_flavor)" || return 1
    if [ ! -x "$_L_VENV/bin/glance-api" ] || [ ! -s "$_L_ETC/policy.json" ]; then
        _legacy_err "not installed yet: run legacy_install first"
        return 1
    fi
    if [ "$flavor" = keystone ] && [ -z "${GLANCE_SERVICE_PASSWORD:-}" ]; then
        _legacy_err "GLANCE_SERVICE_PASSWORD is not set (password of the Keystone service user 'glance')"
        return 1
    fi
    mkdir -p "$_L_CONF/images" "$_L_CONF/locks" "$_L_CONF/tasks" "$_L_CONF/image-cache" "$_L_LOG" "$_L_RUN" ||
        { _legacy_err "cannot create folders under $CLOUD_DIR"; return 1; }
    _legacy_write_api_conf "$_L_CONF/glance-api.conf" "$flavor" || { _legacy_err "cannot write glance-api.conf"; return 1; }
    _legacy_write_registry_conf "$_L_CONF/glance-registry.conf" "$flavor" || { _legacy_err "cannot write glance-registry.conf"; return 1; }
    _legacy_write_paste "$_L_ETC/glance-api-paste.ini" "$_L_CONF/glance-api-paste.ini" || { _legacy_err "cannot write glance-api-paste.ini"; return 1; }
    _legacy_write_paste "$_L_ETC/glance-registry-paste.ini" "$_L_CONF/glance-registry-paste.ini" || { _legacy_err "cannot write glance-registry-paste.ini"; return 1; }
    # Tests edit the policy file: never overwrite it.
    if [ ! -e "$_L_CONF/policy.json" ]; then
        cp "$_L_ETC/policy.json" "$_L_CONF/policy.json" || { _legacy_err "cannot write policy.json"; return 1; }
    fi
    local db="$_L_CONF/glance.sqlite" synced="$_L_CONF/.db_synced"
    if [ ! -s "$db" ] || [ ! -f "$synced" ]; then
        _legacy_say "creating the database $db"
        if ! _legacy_env "$_L_VENV/bin/glance-manage" --config-file "$_L_CONF/glance-api.conf" \
            --log-file "$_L_LOG/glance-legacy-manage.log" db_sync >/dev/null 2>"$_L_LOG/glance-legacy-manage.err"; then
            tail -n 30 "$_L_LOG/glance-legacy-manage.err" "$_L_LOG/glance-legacy-manage.log" >&2 2>/dev/null
            _legacy_err "glance-manage db_sync failed"
            return 1
        fi
        date -u +%FT%TZ > "$synced"
    fi
}

# ---------------------------------------------------------- start / stop --

# True if process $1 is the parent of server $2 (api or registry) of this
# CLOUD_DIR: its command line names our config file and it leads its session.
_legacy_is_ours() {
    local pid="$1" name="$2" cmd stat
    cmd="$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")" || return 1
    [[ "$cmd" == *"glance-$name --config-file $_L_CONF/glance-$name.conf"* ]] || return 1
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    local -a f
    # Fields after the command: state ppid pgrp session ...
    read -r -a f <<< "${stat##*) }"
    [ "${f[3]:-}" = "$pid" ]
}

# Prints the pid of server $1 (api or registry) if it is running, else fails.
# Without a usable pid file, looks for the process itself (and rewrites the
# file), so that a lost pid file cannot leave a server nobody stops.
_legacy_pid() {
    local name="$1" pidfile="$_L_RUN/glance-legacy-$1.pid" pid="" d
    [ -f "$pidfile" ] && pid="$(cat "$pidfile" 2>/dev/null)"
    case "$pid" in
        '' | *[!0-9]*) ;;
        *)
            if _legacy_is_ours "$pid" "$name"; then
                printf '%s\n' "$pid"
                return 0
            fi
            ;;
    esac
    while IFS= read -r d; do
        pid="${d#/proc/}"
        pid="${pid%/cmdline}"
        if _legacy_is_ours "$pid" "$name"; then
            mkdir -p "$_L_RUN" && printf '%s\n' "$pid" > "$pidfile"
            printf '%s\n' "$pid"
            return 0
        fi
    done < <(grep -alF "$_L_CONF/glance-$name.conf" /proc/[0-9]*/cmdline 2>/dev/null)
    return 1
}

_legacy_http_code() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" 2>/dev/null || true
}

_legacy_url() {
    case "$1" in
        api) printf 'http://127.0.0.1:%s/\n' "$_LEGACY_API_PORT" ;;
        registry) printf 'http://127.0.0.1:%s/healthcheck\n' "$_LEGACY_REGISTRY_PORT" ;;
    esac
}

_legacy_expected_code() {
    case "$1" in
        api) printf '300\n' ;;
        registry) printf '200\n' ;;
    esac
}

# Starts server $1 (api or registry) unless it runs; waits until it answers.
_legacy_start_one() {
    local name="$1" pid url want log pidfile port i code
    url="$(_legacy_url "$name")"
    want="$(_legacy_expected_code "$name")"
    log="$_L_LOG/glance-legacy-$name.log"
    pidfile="$_L_RUN/glance-legacy-$name.pid"
    if ! pid="$(_legacy_pid "$name")"; then
        port="${url#http://127.0.0.1:}"
        port="${port%%/*}"
        code="$(_legacy_http_code "$url")"
        if [ -n "$code" ] && [ "$code" != 000 ]; then
            _legacy_err "port $port already answers (HTTP $code) but not from glance-legacy-$name of $CLOUD_DIR"
            return 1
        fi
        rm -f "$pidfile"
        # A new session (setsid): glance's parent ends its workers with
        # killpg on SIGTERM, which must not reach the caller's process group.
        # The shell writes its own pid, then becomes glance.
        # shellcheck disable=SC2016
        setsid bash -c 'echo $$ > "$1"; shift; exec "$@"' _ "$pidfile" \
            env LD_LIBRARY_PATH="$_L_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PYTHONWARNINGS=ignore \
            "$_L_VENV/bin/glance-$name" --config-file "$_L_CONF/glance-$name.conf" \
            >> "$log" 2>&1 < /dev/null &
        disown $! 2>/dev/null || true
    fi
    for ((i = 0; i < 120; i++)); do
        code="$(_legacy_http_code "$url")"
        [ "$code" = "$want" ] && return 0
        if [ "$i" -gt 4 ] && ! _legacy_pid "$name" >/dev/null; then
            break
        fi
        sleep 0.5
    done
    _legacy_err "glance-legacy-$name did not answer $want at $url (last: ${code:-none}); end of $log:"
    tail -n 40 "$log" >&2 2>/dev/null || true
    return 1
}

# With the keystone flavor, checks what keystonemiddleware 4.17 needs from
# Keystone: the service user's login, a role that may validate tokens, and an
# identity endpoint of interface "admin" in the catalog (it validates tokens
# there; without one every authenticated request answers 500).
_legacy_check_keystone() {
    grep -q '^flavor = keystone$' "$_L_CONF/glance-api.conf" || return 0
    local out
    if ! out="$(_legacy_env "$_L_VENV/bin/python" - "$_L_CONF/glance-api.conf" 2>&1 <<'PY'
import sys
import warnings
warnings.simplefilter("ignore")
from six.moves import configparser
from keystoneauth1 import exceptions, session
from keystoneauth1.identity import v3

cp = configparser.RawConfigParser()
cp.read(sys.argv[1])
o = dict(cp.items("keystone_authtoken"))
url = o["auth_url"].rstrip("/")
auth = v3.Password(auth_url=url + "/v3", username=o["username"],
                   password=o["password"], project_name=o["project_name"],
                   user_domain_name=o["user_domain_name"],
                   project_domain_name=o["project_domain_name"])
sess = session.Session(auth=auth, timeout=10)
try:
    access = auth.get_access(sess)
except exceptions.Unauthorized:
    sys.exit("Keystone at %s refuses the service user %s (project %s): "
             "wrong GLANCE_SERVICE_PASSWORD or user missing"
             % (url, o["username"], o["project_name"]))
except exceptions.ClientException as e:
    sys.exit("Keystone at %s does not answer: %s" % (url, e))
roles = set(access.role_names)
if not roles & {"service", "admin"}:
    sys.exit("the service user %s has roles %s in project %s; it needs "
             "'service' (or 'admin') to validate tokens"
             % (o["username"], sorted(roles), o["project_name"]))
try:
    sess.get_endpoint(service_type="identity", interface="admin")
except exceptions.EndpointNotFound:
    sys.exit("the Keystone catalog has no identity endpoint of interface "
             "'admin'; keystonemiddleware 4.17 (Pike) validates tokens only "
             "there. Register one (keystone-manage bootstrap "
             "--bootstrap-admin-url %s/v3, or 'openstack endpoint create "
             "identity admin %s/v3')" % (url, url))
PY
    )"; then
        _legacy_err "${out##*$'\n'}"
        return 1
    fi
}

legacy_start() {
    local -
    set +e +u +o pipefail
    _legacy_paths
    if [ ! -f "$_L_CONF/glance-api.conf" ] || [ ! -f "$_L_CONF/glance-registry.conf" ]; then
        _legacy_err "not configured yet: run legacy_configure first"
        return 1
    fi
    if ! _legacy_pid api >/dev/null || ! _legacy_pid registry >/dev/null; then
        _legacy_check_keystone || return 1
    fi
    mkdir -p "$_L_LOG" "$_L_RUN" || return 1
    _legacy_start_one registry || return 1
    _legacy_start_one api || return 1
}

# Stopping: SIGTERM to each parent (glance then signals its own process
# group, i.e. its workers), both at once; then wait, and end the whole group
# if something is left after 15 s.
_legacy_stop_wait() {
    local name="$1" pid="$2" i
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    # Workers left behind in the group, if any.
    kill -TERM -- "-$pid" 2>/dev/null || true
    if kill -0 "$pid" 2>/dev/null; then
        _legacy_err "glance-legacy-$name (pid $pid) did not stop"
        return 1
    fi
    rm -f "$_L_RUN/glance-legacy-$name.pid"
}

legacy_stop() {
    local -
    set +e +u +o pipefail
    _legacy_paths
    local name pid i rc=0
    local -a names=() pids=()
    for name in api registry; do
        if pid="$(_legacy_pid "$name")"; then
            kill -TERM "$pid" 2>/dev/null || true
            names+=("$name")
            pids+=("$pid")
        else
            rm -f "$_L_RUN/glance-legacy-$name.pid"
        fi
    done
    for ((i = 0; i < ${#pids[@]}; i++)); do
        _legacy_stop_wait "${names[$i]}" "${pids[$i]}" || rc=1
    done
    return "$rc"
}

legacy_status() {
    local -
    set +e +u +o pipefail
    _legacy_paths
    local name pid url code rc=0
    for name in registry api; do
        url="$(_legacy_url "$name")"
        if pid="$(_legacy_pid "$name")"; then
            code="$(_legacy_http_code "$url")"
            if [ "$code" = "$(_legacy_expected_code "$name")" ]; then
                printf 'glance-legacy-%s: up (pid %s, %s)\n' "$name" "$pid" "${url%/healthcheck}"
            else
                printf 'glance-legacy-%s: down (pid %s runs but %s answers %s)\n' "$name" "$pid" "$url" "${code:-nothing}"
                rc=1
            fi
        else
            printf 'glance-legacy-%s: down\n' "$name"
            rc=1
        fi
    done
    return "$rc"
}
