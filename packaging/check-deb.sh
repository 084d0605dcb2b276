#!/usr/bin/env bash
# The package's test (part of `make test`): builds the .deb from the debug
# build (`make deb` builds the release one), then checks what a kiosk would
# get: the file list, the conffiles, the maintainer scripts, the systemd
# unit (systemd-analyze verify, where available), the man page and the
# completions, and that in a scratch root the shipped configuration is
# refused for its placeholder tokens and `greenwave init` makes one that
# passes `config check`.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }

cargo build --quiet --bin greenwave
packaging/deb-assets.sh target/debug/greenwave
out=target/debian-check
rm -rf "$out" && mkdir -p "$out"
cargo deb --no-build --profile dev --fast --output "$out" >/dev/null
deb=$(ls "$out"/*.deb)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
[[ "$(basename "$deb")" == "greenwave_${version}-1_${arch}.deb" ]] ||
    fail "package name $(basename "$deb"), expected greenwave_${version}-1_${arch}.deb"

# Control fields.
[[ "$(dpkg-deb -f "$deb" Package)" == greenwave ]] || fail "Package field"
dpkg-deb -f "$deb" Depends | grep -q adduser || fail "Depends lacks adduser"

# The file list.
files=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/bin/greenwave /etc/greenwave/greenwave.toml /etc/greenwave/policies.toml \
    /lib/systemd/system/greenwave.service /lib/systemd/system/greenwave-board.service \
    /etc/greenwave/board.env /lib/udev/rules.d/60-greenwave.rules \
    /usr/share/man/man1/greenwave.1.gz /usr/share/bash-completion/completions/greenwave \
    /usr/share/zsh/vendor-completions/_greenwave /usr/share/fish/vendor_completions.d/greenwave.fish; do
    grep -qx "$f" <<<"$files" || fail "$f is not in the package"
done

# Conffiles and maintainer scripts.
ctl="$out/control"
dpkg-deb -e "$deb" "$ctl"
diff <(sort "$ctl/conffiles") <(printf '%s\n' /etc/greenwave/board.env /etc/greenwave/greenwave.toml /etc/greenwave/policies.toml) ||
    fail "conffiles differ"
for s in postinst prerm postrm; do
    [[ -x "$ctl/$s" ]] || fail "$s missing or not executable"
    sh -n "$ctl/$s" || fail "$s: syntax error"
done
grep -q 'adduser --system' "$ctl/postinst" || fail "postinst does not create the user"

# An extracted tree stands for the kiosk's root.
root="$out/root"
dpkg-deb -x "$deb" "$root"
[[ "$(stat -c %a "$root/etc/greenwave/greenwave.toml")" == 640 ]] ||
    fail "greenwave.toml should be 0640 (it holds API tokens)"
# As the README's install steps: the shipped file is an example whose
# placeholder tokens `config check` refuses, pointing at `greenwave init`;
# init replaces it (untouched, no --force needed) with random tokens and
# the ops keys, and the result checks at once.
etc="$root/etc/greenwave"
if "$root/usr/bin/greenwave" --config "$etc/greenwave.toml" config check >/dev/null 2>"$out/err"; then
    fail "config check passed the shipped placeholder tokens"
fi
grep -q "greenwave init" "$out/err" || fail "config check does not say to run greenwave init: $(cat "$out/err")"
keys="$out/ops-keys"
"$root/usr/bin/greenwave" roster keygen --out "$keys" >/dev/null
mkdir -p "$out/no-devices"
"$root/usr/bin/greenwave" init --yes --dev-root "$out/no-devices" --roster-keys "$keys" "$etc" >/dev/null ||
    fail "greenwave init over the shipped configuration"
"$root/usr/bin/greenwave" --config "$etc/greenwave.toml" config check >/dev/null ||
    fail "the configuration greenwave init wrote does not pass config check"
zcat "$root/usr/share/man/man1/greenwave.1.gz" | grep -q '^\.TH greenwave' || fail "man page"
bash -n "$root/usr/share/bash-completion/completions/greenwave" || fail "bash completion"
grep -q 'stats' "$root/usr/share/bash-completion/completions/greenwave" || fail "bash completion lacks stats"

# The unit: systemd's own checker, with ExecStart pointing into the tree.
unit="$root/lib/systemd/system/greenwave.service"
for want in 'User=greenwave' 'SupplementaryGroups=dialout lp audio' 'DeviceAllow=char-alsa rw' 'StateDirectory=greenwave' \
    'Restart=on-failure' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
    'PrivateTmp=yes' 'DeviceAllow=char-ttyUSB rw'; do
    grep -qx "$want" "$unit" || fail "greenwave.service lacks $want"
done
grep -q '^PrivateDevices' "$unit" && fail "PrivateDevices would hide the reader and the printer"
grep -qx 'TTYPath=/dev/tty1' "$root/lib/systemd/system/greenwave-board.service" ||
    fail "greenwave-board.service is not on tty1"
[[ "$(stat -c %a "$root/etc/greenwave/board.env")" == 640 ]] || fail "board.env should be 0640 (a token)"
if command -v systemd-analyze >/dev/null; then
    v="$out/verify"
    mkdir -p "$v"
    for u in greenwave.service greenwave-board.service; do
        sed -e "s|/usr/bin/greenwave|$PWD/$root/usr/bin/greenwave|g" \
            -e "s|/etc/greenwave/|$PWD/$root/etc/greenwave/|g" \
            "$root/lib/systemd/system/$u" > "$v/$u"
    done
    # Only these units' own problems count; the container may lack others.
    if ! msg=$(systemd-analyze verify --man=no "$v/greenwave.service" "$v/greenwave-board.service" 2>&1); then
        echo "$msg" >&2
        fail "systemd-analyze verify"
    fi
    if grep -i "greenwave" <<<"$msg" | grep -vi "Failed to load\|not-found" | grep -q .; then
        echo "$msg" >&2
        fail "systemd-analyze reports problems in the units"
    fi
fi
echo "check-deb: ok: $(basename "$deb") ($(du -h "$deb" | cut -f1))"
