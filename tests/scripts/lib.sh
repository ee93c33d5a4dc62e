# shellcheck shell=bash
# Shared helpers of the test scripts (sourced).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/cloud/pip.sh
. "$REPO/tests/cloud/pip.sh"
export OS_CLIENT_CONFIG_FILE=$REPO/.cloud/clouds.yaml
# The policy validator of the test cloud's Glance (image_policy integration tests).
export GLANCE_POLICY_VALIDATOR=$REPO/.cloud/venv/bin/oslopolicy-validator

# The ansible-core lines the tests run on, the ends of requires_ansible in meta/runtime.yml.
# Each has a venv made by tests/scripts/venv from tests/requirements-dev.txt (the common
# list) and its pin file:
#   oldest  .venv         tests/requirements-oldest.txt  Python 3.11
#   newest  .venv-newest  tests/requirements-newest.txt  Python 3.13 or 3.12
# TEST_LINE (oldest or newest) picks the one a script runs on; default newest.
line_venv() {
    case $1 in
        oldest) printf '%s\n' "$REPO/.venv" ;;
        newest) printf '%s\n' "$REPO/.venv-newest" ;;
        *) echo "unknown ansible-core line '$1' (oldest or newest)" >&2; return 1 ;;
    esac
}
# Python versions a line's venv may be made with, preferred first.
line_pythons() {
    case $1 in
        oldest) echo 3.11 ;;
        newest) echo 3.13 3.12 ;;
    esac
}

# Folders where pyenv keeps Pythons: $PYENV_ROOT, ~/.pyenv, and the .pyenv of the user's
# home from the passwd database (HOME may be empty or elsewhere, as in a fresh CI shell).
pyenv_version_dirs() {
    local home
    home=$(getent passwd "$(id -u)" 2>/dev/null | cut -d: -f6)
    printf '%s\n' ${PYENV_ROOT:+"$PYENV_ROOT/versions"} "$HOME/.pyenv/versions" ${home:+"$home/.pyenv/versions"} |
        awk '!seen[$0]++'
}

_BASE_PATH=$PATH
# Makes the scripts use line $1: VENV, BIN, PATH, and the interpreter of the modules.
use_line() {
    LINE=$1
    VENV=$(line_venv "$LINE")
    BIN=$VENV/bin
    export PATH=$BIN:$_BASE_PATH
    # Modules run with the venv that holds openstacksdk, not whatever python3 is found first.
    export ANSIBLE_PYTHON_INTERPRETER=$BIN/python
}
use_line "${TEST_LINE:-newest}"

# Fails with one line unless the venv of the current line is there.
need_venv() {
    if [ ! -x "$BIN/python" ]; then
        echo "the $LINE venv ($(basename "$VENV")) is missing: run make venv (or tests/scripts/venv $LINE)" >&2
        exit 1
    fi
}

# "ansible-core 2.21.5, Python 3.13.0" for the current line.
line_versions() {
    "$BIN/python" -c 'import sys, ansible; print("ansible-core %s, Python %s" % (ansible.__version__, sys.version.split()[0]))'
}

# ansible-test wants the collection at a real .../ansible_collections/<ns>/<name> path
# (a symlink is refused): mirror the files git knows about (tracked or not ignored) into
# $1/ansible_collections/cloudimage/glance and print that path. Outside the repo: inside
# it, ansible-test would ask git and find the copy ignored. A fresh folder per run, so
# that runs side by side (both lines, or two people on one clone) never share one.
make_collection_tree() {
    local tree="$1/ansible_collections/cloudimage/glance"
    mkdir -p "$tree"
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 -r ls -d 2>/dev/null | tr '\n' '\0' | tar --null -T - -cf -) | tar -xf - -C "$tree"
    printf '%s\n' "$tree"
}

# ansible-test bootstraps pip in its sanity venvs with a script it downloads from a
# host outside the package registries. Provide that script locally: it installs the
# pinned pip wheel, which pip itself fetches from the configured index.
prepare_ansible_test_offline() {
    local requirements version cache settings
    requirements=$("$BIN/python" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')
    version=$(sed -n "s/^ *pip='\([0-9.]*\)',*$/\1/p" "$requirements" | head -n 1)
    [ -n "$version" ] || { echo "cannot find the pip version ansible-test pins" >&2; return 1; }
    cache=$HOME/.ansible/test/cache
    mkdir -p "$cache"
    if ! ls "$cache"/pip-"$version"-*.whl >/dev/null 2>&1; then
        settings=$(pip_settings modern "$BIN/python")
        pip_isolated "$settings" "$BIN/pip" download --quiet --disable-pip-version-check --no-deps \
            --only-binary :all: -d "$cache" "pip==$version"
    fi
    cat > "$cache/get_pip_${version//./_}.py" <<PY
# Installs pip $version from the wheel beside this file (stand-in for get-pip.py).
import glob, os, sys
wheel = glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pip-$version-*.whl'))[0]
sys.path.insert(0, wheel)
from pip._internal.cli.main import main
args = [wheel if a.startswith('pip==') else a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.exit(main(['install'] + args))
PY
}
