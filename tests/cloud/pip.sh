# shellcheck shell=bash
#
# pip with only the user's choice of where packages come from.
#
# pip takes settings from pip.conf files and PIP_* variables. For the venvs of
# the project, the requirement files say what to install; the user's settings
# are honoured only for where it comes from (a mirror, a proxy, a CA bundle).
# Everything else (constraints, --user, --target, --no-binary, --require-hashes,
# ...) would conflict with the pins or change what gets installed, and pip 20
# of the legacy Glance even fails on a constraint that names nothing it installs.
#
#   settings=$(pip_settings MODE PYTHON)
#       The user's effective source settings as NAME=value lines, read with
#       PYTHON's pip (a current one: `pip config list` sees pip.conf and PIP_*).
#       MODE modern: index-url, extra-index-url, find-links, no-index,
#                    trusted-host, cert, client-cert, proxy, timeout, retries
#       MODE legacy: index-url, trusted-host, cert, client-cert, proxy,
#                    timeout, retries: the pip 20 of the legacy Glance takes
#                    its pinned Pike packages from the main index only
#   pip_isolated "$settings" COMMAND...
#       Runs COMMAND without the caller's PIP_* variables and without any pip
#       configuration file (PIP_CONFIG_FILE=/dev/null), with those settings.
# Source it from bash; it defines functions only.

pip_settings() {
    local mode="$1" python="$2"
    "$python" - "$mode" <<'PY'
import ast
import subprocess
import sys

mode = sys.argv[1]
keys = {"index-url", "trusted-host", "cert", "client-cert", "proxy", "timeout", "retries"}
if mode == "modern":
    keys |= {"extra-index-url", "find-links", "no-index"}
# pip applies the [global] section, then the command's, then PIP_* variables.
rank = {"global": 0, "install": 1, "download": 1, ":env:": 2}
proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                      capture_output=True, text=True)
if proc.returncode:
    detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    sys.exit("pip: cannot read the pip configuration: %s" % detail)
found = {}
for line in proc.stdout.splitlines():
    key, _, value = line.partition("=")
    section, _, name = key.partition(".")
    name = "timeout" if name == "default-timeout" else name
    if section not in rank or name not in keys:
        continue
    try:
        value = ast.literal_eval(value)
    except (SyntaxError, ValueError):
        continue
    if name not in found or rank[section] >= found[name][0]:
        found[name] = (rank[section], " ".join(str(value).split()))
for name in sorted(found):
    env = "PIP_DEFAULT_TIMEOUT" if name == "timeout" else "PIP_" + name.upper().replace("-", "_")
    print("%s=%s" % (env, found[name][1]))
PY
}

pip_isolated() {
    local settings="$1" name line
    shift
    local -a assign=(PIP_CONFIG_FILE=/dev/null) drop=()
    while IFS= read -r name; do
        drop+=(-u "$name")
    done < <(compgen -e | grep '^PIP_' || true)
    while IFS= read -r line; do
        [ -n "$line" ] && assign+=("$line")
    done <<< "$settings"
    env "${drop[@]}" "${assign[@]}" "$@"
}
