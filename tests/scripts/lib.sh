# Shared helpers of the test scripts (sourced).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$REPO/.venv/bin
export PATH=$BIN:$PATH
export OS_CLIENT_CONFIG_FILE=$REPO/.cloud/clouds.yaml
# Modules run with the venv that holds openstacksdk, not whatever python3 is found first.
export ANSIBLE_PYTHON_INTERPRETER=$BIN/python
# The policy validator of the test cloud's Glance (image_policy integration tests).
export GLANCE_POLICY_VALIDATOR=$REPO/.cloud/venv/bin/oslopolicy-validator
# Outside the repo: inside it, ansible-test would ask git and find the copy ignored.
COLLECTION_TREE=${TMPDIR:-/tmp}/cloudimage-glance-$(printf %s "$REPO" | md5sum | cut -c1-8)/ansible_collections/cloudimage/glance

# ansible-test wants the collection at a real .../ansible_collections/<ns>/<name> path
# (a symlink is refused): mirror the files git knows about (tracked or not ignored).
make_collection_tree() {
    rm -rf "$COLLECTION_TREE"
    mkdir -p "$COLLECTION_TREE"
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 -r ls -d 2>/dev/null | tr '\n' '\0' | tar --null -T - -cf -) | tar -xf - -C "$COLLECTION_TREE"
}

# ansible-test bootstraps pip in its sanity venvs with a script it downloads from a
# host outside the package registries. Provide that script locally: it installs the
# pinned pip wheel, which pip itself fetches from the configured index.
prepare_ansible_test_offline() {
    local requirements version cache
    requirements=$("$BIN/python" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')
    version=$(sed -n "s/^ *pip='\([0-9.]*\)',*$/\1/p" "$requirements" | head -n 1)
    [ -n "$version" ] || { echo "cannot find the pip version ansible-test pins" >&2; return 1; }
    cache=$HOME/.ansible/test/cache
    mkdir -p "$cache"
    if ! ls "$cache"/pip-"$version"-*.whl >/dev/null 2>&1; then
        "$BIN/pip" download --quiet --disable-pip-version-check --no-deps --only-binary :all: -d "$cache" "pip==$version"
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
