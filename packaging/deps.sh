#!/usr/bin/env bash
# Installs what greenwave needs on Debian 12: the packages listed in the
# given lists (default: build-packages.txt and test-packages.txt beside this
# script), the rustfmt/clippy components, for the package test
# cargo-deb (a pinned version, built from crates.io once) and, with the
# test list, the browser tests' node packages (npm ci in tests/browser;
# Node.js 20 and npm come with the project's machines).
#   packaging/deps.sh                      # build + test
#   packaging/deps.sh build-packages.txt   # build only (make demo)
# Idempotent, and silent when everything is already there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

lists=("$@")
if ((${#lists[@]} == 0)); then lists=(build-packages.txt test-packages.txt); fi

missing=()
for list in "${lists[@]}"; do
    while read -r pkg _; do
        [[ -z "$pkg" || "$pkg" == \#* ]] && continue
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done < "$here/$list"
done

if ((${#missing[@]})); then
    echo "deps: installing ${missing[*]}"
    sudo=""
    if [[ "$(id -u)" -ne 0 ]]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! cargo fmt --version >/dev/null 2>&1; then
    echo "deps: adding rustfmt"
    rustup component add rustfmt
fi
if ! cargo clippy --version >/dev/null 2>&1; then
    echo "deps: adding clippy"
    rustup component add clippy
fi

# The .deb test (packaging/check-deb.sh) builds the package with cargo-deb.
cargo_deb_version="3.8.0"
if [[ " ${lists[*]} " == *" test-packages.txt "* ]] &&
    [[ "$(cargo deb --version 2>/dev/null)" != *"$cargo_deb_version"* ]]; then
    echo "deps: installing cargo-deb $cargo_deb_version (a few minutes, once)"
    cargo install --quiet --locked cargo-deb --version "$cargo_deb_version"
fi

# The browser tests' node side: playwright-core, which drives Debian's
# chromium (it downloads no browser). Again only when the lock file changed.
if [[ " ${lists[*]} " == *" test-packages.txt "* ]]; then
    browser="$here/../tests/browser"
    stamp="$browser/node_modules/.package-lock.json"
    if [[ ! -f "$stamp" || "$browser/package-lock.json" -nt "$stamp" ]]; then
        if ! command -v npm >/dev/null 2>&1; then
            echo "deps: npm is missing (Node.js 20 with npm is needed for tests/browser)" >&2
            exit 1
        fi
        echo "deps: npm ci in tests/browser"
        npm ci --prefix "$browser" --no-audit --no-fund --loglevel=error >/dev/null
    fi
fi
