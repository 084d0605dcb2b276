#!/usr/bin/env bash
# Generates the package's assets that come from the clap definitions: a man
# page per subcommand (greenwave.1, greenwave-run.1, greenwave-roster-import.1,
# ...) and the shell completions, into target/deb-assets/.
#   packaging/deb-assets.sh target/release/greenwave
set -euo pipefail
bin="${1:?usage: deb-assets.sh PATH/TO/greenwave}"
out="$(cd "$(dirname "$0")/.." && pwd)/target/deb-assets"
rm -rf "$out/man"
mkdir -p "$out/man"
"$bin" manpage --out "$out/man"
for page in "$out/man"/*.1; do
    gzip -9n "$page"
done
"$bin" completions bash > "$out/greenwave.bash"
"$bin" completions zsh > "$out/_greenwave"
"$bin" completions fish > "$out/greenwave.fish"
