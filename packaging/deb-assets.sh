#!/usr/bin/env bash
# Generates the package's assets that come from the clap definitions: the
# man page and the shell completions, into target/deb-assets/.
#   packaging/deb-assets.sh target/release/greenwave
set -euo pipefail
bin="${1:?usage: deb-assets.sh PATH/TO/greenwave}"
out="$(cd "$(dirname "$0")/.." && pwd)/target/deb-assets"
mkdir -p "$out"
"$bin" manpage | gzip -9n > "$out/greenwave.1.gz"
"$bin" completions bash > "$out/greenwave.bash"
"$bin" completions zsh > "$out/_greenwave"
"$bin" completions fish > "$out/greenwave.fish"
