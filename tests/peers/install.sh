#!/usr/bin/env bash
# Installs one peer of the Autobahn and interop tests under target/peers/ (nothing
# system-wide), or says why it cannot: every failure exits non-zero, nothing is skipped.
# Run from the workspace root (cargo xtask does):  bash tests/peers/install.sh python|node|websocat
set -euo pipefail

peers=target/peers

# A virtualenv with kosoku (the Autobahn fuzzing server), websockets and aiohttp.
install_python() {
    command -v python3 >/dev/null || { echo "install.sh: python3 is not installed" >&2; exit 1; }
    [ -x "$peers/venv/bin/python" ] || python3 -m venv "$peers/venv"
    "$peers/venv/bin/python" -m pip install --quiet -r tests/peers/requirements.txt
    "$peers/venv/bin/python" -m pip freeze | grep -iE '^(kosoku|websockets|aiohttp)=='
}

# ws with the machine's node and npm; no network when that exact version is already there.
install_node() {
    command -v node >/dev/null || { echo "install.sh: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
    echo "node $(node --version)"
    local version="require('./$peers/node/node_modules/ws/package.json').version"
    if [ "$(node -p "$version" 2>/dev/null || true)" != 8.23.0 ]; then
        npm install --prefix "$peers/node" --no-audit --no-fund ws@8.23.0
    fi
    echo "ws $(node -p "$version")"
}

# websocat from the Rust package registry, unless that version is already built. Only the features the tests
# use (no TLS, no compression): that halves the build, while a lighter release profile
# (opt-level 1, more codegen units) saves next to nothing (docs/conformance.md).
install_websocat() {
    local bin="$peers/cargo/bin/websocat"
    if [ -x "$bin" ] && [ "$("$bin" --version)" = "websocat 1.14.1" ]; then
        echo "using $("$bin" --version), already built"
        return
    fi
    cargo install --locked --root "$peers/cargo" websocat --version 1.14.1 \
        --no-default-features --features signal_handler,unix_stdio
}

case "${1:-}" in
    python | node | websocat) "install_$1" ;;
    *) echo "usage: bash tests/peers/install.sh python|node|websocat" >&2; exit 2 ;;
esac
