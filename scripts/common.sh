# Shared set-up steps for scripts/demo and scripts/test; source it, do not run it.
# It installs what is missing (Debian packages through apt-get, Python packages into
# .venv/ and, for the httpbin test server, .venv-httpbin/) and leaves what is already
# there alone.

set -euo pipefail

PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$PROJECT_ROOT/.venv"

say() { printf '==> %s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install Debian packages with apt-get, as root or through sudo.
apt_install() {
    local runner=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || fail "installing $* needs root; run as root or install sudo"
        runner=(sudo)
    fi
    say "installing Debian packages: $*"
    "${runner[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${runner[@]}" apt-get install -y -qq "$@" >/dev/null
}

require_python() {
    command -v python3 >/dev/null || fail "python3 is missing; install Python 3.11 or newer"
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || fail "Python 3.11 or newer is needed; python3 is $(python3 --version)"
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
}

require_node() {
    command -v npm >/dev/null || fail "npm is missing; install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm)"
}

require_chromium() {
    if [ -z "${WEBVI_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
        apt_install chromium
    fi
}

# Create .venv/ if needed and install webvi into it, with the given extras.
install_project() {
    local extras=${1:-}
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        python3 -m venv "$VENV"
    fi
    say "installing webvi${extras:+[$extras]} into .venv/"
    "$VENV/bin/python" -m pip install --quiet -e "$PROJECT_ROOT${extras:+[$extras]}"
}

# httpbin runs as a test server from a virtual environment of its own because httpbin
# 0.10.4 pins greenlet<3.0 on Python < 3.12 while Playwright needs greenlet>=3.1.1.
HTTPBIN_VENV="$PROJECT_ROOT/.venv-httpbin"
HTTPBIN_VERSION=0.10.4
WAITRESS_VERSION=3.0.2

# Create .venv-httpbin/ if needed and install the pinned httpbin and waitress into it.
install_httpbin() {
    if [ ! -x "$HTTPBIN_VENV/bin/python" ]; then
        say "creating $HTTPBIN_VENV"
        python3 -m venv "$HTTPBIN_VENV"
    fi
    if "$HTTPBIN_VENV/bin/python" - "$HTTPBIN_VERSION" "$WAITRESS_VERSION" <<'PYTHON' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(version("httpbin") != sys.argv[1] or version("waitress") != sys.argv[2])
PYTHON
    then
        return
    fi
    say "installing httpbin==$HTTPBIN_VERSION and waitress==$WAITRESS_VERSION into .venv-httpbin/"
    "$HTTPBIN_VENV/bin/python" -m pip install --quiet \
        "httpbin==$HTTPBIN_VERSION" "waitress==$WAITRESS_VERSION"
}

build_site() {
    say "building dist/"
    "$VENV/bin/python" "$PROJECT_ROOT/build.py"
}
