# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are for the scripts that source it
#
# Shared code of tests/cloud/{install,start,stop,status}: paths, ports,
# secrets, and starting / stopping / probing the gunicorn servers.
#
# Sourcing it sets and exports, for tests/cloud/legacy.sh too:
#   CLOUD_DIR                abs path of the state folder (<repo>/.cloud)
#   KEYSTONE_URL             http://127.0.0.1:5000
#   GLANCE_SERVICE_PASSWORD  once the secrets exist (cloud_load_secrets)
# and the helpers prefixed cloud_.

set -euo pipefail

CLOUD_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$CLOUD_SRC_DIR/../.." && pwd)
# pip_settings, pip_isolated: pip with only the user's package sources.
# shellcheck source=tests/cloud/pip.sh
. "$CLOUD_SRC_DIR/pip.sh"

CLOUD_DIR=${CLOUD_DIR:-$REPO_ROOT/.cloud}
case "$CLOUD_DIR" in /*) ;; *) CLOUD_DIR=$PWD/$CLOUD_DIR ;; esac
export CLOUD_DIR

VENV=$CLOUD_DIR/venv
LOG_DIR=$CLOUD_DIR/log
RUN_DIR=$CLOUD_DIR/run
KEYSTONE_DIR=$CLOUD_DIR/keystone
GLANCE_DIR=$CLOUD_DIR/glance
SECRETS_FILE=$CLOUD_DIR/secrets.env
REQUIREMENTS_FILE=$CLOUD_SRC_DIR/requirements-cloud.txt
VENV_STAMP=$VENV/.requirements.sha256

KEYSTONE_PORT=5000
GLANCE_PORT=9292
export KEYSTONE_URL=http://127.0.0.1:$KEYSTONE_PORT
GLANCE_URL=http://127.0.0.1:$GLANCE_PORT

# Seconds to wait for a server to answer after starting it.
CLOUD_START_TIMEOUT=${CLOUD_START_TIMEOUT:-60}

# Loopback traffic never goes through a proxy.
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
export NO_PROXY="$no_proxy"

# OS_* variables of the caller's shell (OS_CLOUD, OS_AUTH_URL, ...) would mix
# with the clouds.yaml entries: the scripts use only their own.
while IFS= read -r _cloud_var; do
    unset "$_cloud_var"
done < <(compgen -e | grep '^OS_' || true)
unset _cloud_var
export OS_CLIENT_CONFIG_FILE=$CLOUD_DIR/clouds.yaml

cloud_say() { printf 'cloud: %s\n' "$*" >&2; }
cloud_die() {
    printf 'cloud: error: %s\n' "$*" >&2
    exit 1
}

# The Python that creates the venv: $PYTHON, else python3.11, else python3 (>= 3.11).
cloud_host_python() {
    local p
    for p in ${PYTHON:-} python3.11 python3; do
        if command -v "$p" >/dev/null 2>&1 &&
            "$p" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    cloud_die "no Python >= 3.11 with the venv and ensurepip modules (set PYTHON=/path/to/python3.11)"
}

# sha256 of the requirements and of the Python the venv is built from.
cloud_requirements_hash() {
    { cat "$REQUIREMENTS_FILE"; "$VENV/bin/python" -c 'import sys; print(sys.version)'; } |
        sha256sum | cut -d' ' -f1
}

cloud_venv_ready() {
    [ -x "$VENV/bin/python" ] && [ -f "$VENV_STAMP" ] &&
        [ "$(cat "$VENV_STAMP")" = "$(cloud_requirements_hash 2>/dev/null)" ]
}

cloud_load_secrets() {
    [ -f "$SECRETS_FILE" ] || cloud_die "$SECRETS_FILE is missing: run tests/cloud/install"
    set -a
    # shellcheck disable=SC1090
    . "$SECRETS_FILE"
    set +a
}

# True when the legacy Glance part is present and wanted (CLOUD_LEGACY=0
# leaves it out); sources it.
cloud_have_legacy() {
    [ "${CLOUD_LEGACY:-1}" != 0 ] || return 1
    [ -f "$CLOUD_SRC_DIR/legacy.sh" ] || return 1
    if ! declare -F legacy_start >/dev/null; then
        # shellcheck disable=SC1091
        . "$CLOUD_SRC_DIR/legacy.sh"
    fi
}

# Writes stdin to file $1 (mode $2) unless it already holds exactly that.
cloud_write_file() {
    local dest="$1" mode="${2:-644}" tmp
    tmp=$(mktemp "$dest.XXXXXX")
    cat > "$tmp"
    chmod "$mode" "$tmp"
    if [ -f "$dest" ] && cmp -s "$tmp" "$dest"; then
        rm -f "$tmp"
    else
        mv -f "$tmp" "$dest"
    fi
}

cloud_http_code() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" 2>/dev/null || true
}

# Prints the pid of our server $1 (keystone or glance) if it runs, else fails.
cloud_pid() {
    local name="$1" pid
    [ -f "$RUN_DIR/$name.pid" ] || return 1
    pid=$(cat "$RUN_DIR/$name.pid" 2>/dev/null || true)
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    # A recycled pid is not ours: gunicorn's process title carries our name.
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "gunicorn.*cloud-$name" || return 1
    printf '%s\n' "$pid"
}

# Starts gunicorn for server $1 on 127.0.0.1:$2 with WSGI app $3; the
# arguments after them are VAR=value settings for its environment.
# Its error log (with the application's own log) is $LOG_DIR/$1.log, its
# access log $LOG_DIR/$1-access.log, its pid file $RUN_DIR/$1.pid.
cloud_start_gunicorn() {
    local name="$1" port="$2" app="$3" workers="$4"
    shift 4
    local code
    code=$(cloud_http_code "http://127.0.0.1:$port/")
    if [ -n "$code" ] && [ "$code" != 000 ]; then
        cloud_die "port $port already answers (HTTP $code), but not from the $name of $CLOUD_DIR; stop whatever listens there"
    fi
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    rm -f "$RUN_DIR/$name.pid"
    printf '\n==== %s starting %s on 127.0.0.1:%s\n' "$(date -u +%FT%TZ)" "$name" "$port" >> "$LOG_DIR/$name.log"
    # A new session (setsid) so that stop can end the workers too and the
    # caller's terminal signals don't reach it; the shell writes its own pid,
    # then becomes gunicorn.
    # shellcheck disable=SC2016
    setsid bash -c 'echo $$ > "$1"; shift; exec "$@"' _ "$RUN_DIR/$name.pid" \
        env "$@" "$VENV/bin/gunicorn" \
        --bind "127.0.0.1:$port" \
        --workers "$workers" --worker-class gthread --threads 4 \
        --timeout 300 --graceful-timeout 5 --keep-alive 5 \
        --no-control-socket \
        --name "cloud-$name" \
        --chdir "$CLOUD_DIR" \
        --pythonpath "$CLOUD_SRC_DIR" \
        --access-logfile "$LOG_DIR/$name-access.log" \
        --access-logformat '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms req=%({x-openstack-request-id}o)s "%(a)s"' \
        "$app" >> "$LOG_DIR/$name.log" 2>&1 < /dev/null &
    disown $! 2>/dev/null || true
}

# Waits until server $1 answers $3 at URL $2; on timeout prints the end of its log and fails.
cloud_wait_http() {
    local name="$1" url="$2" want="$3" deadline code=""
    deadline=$((SECONDS + CLOUD_START_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        code=$(cloud_http_code "$url")
        [ "$code" = "$want" ] && return 0
        # Gave up early: the server died.
        if [ -f "$RUN_DIR/$name.pid" ] && ! cloud_pid "$name" >/dev/null; then
            sleep 0.5
            cloud_pid "$name" >/dev/null || break
        fi
        sleep 0.25
    done
    printf 'cloud: error: %s did not answer %s at %s (last: %s); end of %s:\n' \
        "$name" "$want" "$url" "${code:-none}" "$LOG_DIR/$name.log" >&2
    tail -n 40 "$LOG_DIR/$name.log" >&2 2>/dev/null || true
    return 1
}

# Stops server $1: SIGTERM to gunicorn's master (it ends its workers), then
# SIGKILL to the whole session if it does not go away.
cloud_stop_server() {
    local name="$1" pid i
    if ! pid=$(cloud_pid "$name"); then
        rm -f "$RUN_DIR/$name.pid"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 80; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    # Workers left behind in its session, if any.
    kill -KILL -- "-$pid" 2>/dev/null || true
    if kill -0 "$pid" 2>/dev/null; then
        printf 'cloud: error: %s (pid %s) did not stop\n' "$name" "$pid" >&2
        return 1
    fi
    rm -f "$RUN_DIR/$name.pid"
    cloud_say "$name stopped"
}
