#!/usr/bin/env bash
# The package's test (part of `make test`): builds the .deb from the debug
# build (`make deb` builds the release one), then checks what a kiosk would
# get: lintian (errors and warnings fail), the file list, md5sums, the
# conffiles, the maintainer scripts (the configuration's mode, the purge
# that hands the data directory to root, run in a scratch tree as root),
# the systemd units (systemd-analyze verify, where available), the udev
# rules, the man pages (one per subcommand, each with FILES, ENVIRONMENT,
# EXIT STATUS and EXAMPLES) and the completions, and that in a scratch root
# the shipped configuration is refused for its placeholder tokens and
# `greenwave init` makes one that passes `config check`.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }

cargo build --quiet --bin greenwave
packaging/deb-assets.sh target/debug/greenwave
out=target/debian-check
rm -rf "$out" && mkdir -p "$out"
# Stripped as the release package is (cargo-deb strips release builds by
# default): the debug build's line tables have no place in a package.
cargo deb --no-build --profile dev --fast --strip --output "$out" >/dev/null
deb=$(ls "$out"/*.deb)
packaging/finish-deb.sh "$deb" -Zgzip -z1
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
[[ "$(basename "$deb")" == "greenwave_${version}-1_${arch}.deb" ]] ||
    fail "package name $(basename "$deb"), expected greenwave_${version}-1_${arch}.deb"

# lintian, as the archive would run it: an error or a warning that is not
# overridden (with its reason, packaging/lintian/greenwave) fails.
if ! lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$out/lintian" 2>&1; then
    cat "$out/lintian" >&2
    fail "lintian"
fi

# Control fields.
[[ "$(dpkg-deb -f "$deb" Package)" == greenwave ]] || fail "Package field"
dpkg-deb -f "$deb" Depends | grep -q adduser || fail "Depends lacks adduser"
dpkg-deb -f "$deb" Depends | grep -q init-system-helpers || fail "Depends lacks init-system-helpers"
for r in fbterm fonts-wqy-microhei; do
    dpkg-deb -f "$deb" Recommends | grep -qw "$r" || fail "Recommends lacks $r (the board's Chinese on tty1)"
done

# The file list.
files=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/bin/greenwave /etc/greenwave/greenwave.toml /etc/greenwave/policies.toml \
    /lib/systemd/system/greenwave.service /lib/systemd/system/greenwave-board.service \
    /etc/greenwave/board.env /lib/udev/rules.d/60-greenwave.rules \
    /usr/libexec/greenwave/board-console /usr/share/lintian/overrides/greenwave \
    /usr/share/doc/greenwave/copyright /usr/share/doc/greenwave/changelog.Debian.gz \
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
[[ -s "$ctl/md5sums" ]] || fail "no md5sums"
# Units are handled as dh_installsystemd does: never a bare systemctl but
# for daemon-reload (lintian's maintainer-script-calls-systemctl).
if grep -n 'systemctl' "$ctl/postinst" "$ctl/prerm" "$ctl/postrm" | grep -v '^[^:]*:[0-9]*:\s*#' | grep -v 'daemon-reload'; then
    fail "a maintainer script calls systemctl (use deb-systemd-helper / deb-systemd-invoke)"
fi
grep -q 'deb-systemd-invoke stop greenwave-board.service greenwave.service' "$ctl/prerm" || fail "prerm does not stop the units"
grep -q 'deb-systemd-helper purge' "$ctl/postrm" || fail "postrm does not purge the units' state"
# The configuration holds API tokens. It ships 0644 (lintian's
# non-standard-file-perm) with placeholder tokens only (config check below
# refuses them); the postinst makes it 0640 root:greenwave at once, before
# anyone can write a real token into it.
grep -q '^    for f in /etc/greenwave/greenwave.toml /etc/greenwave/board.env; do' "$ctl/postinst" &&
    grep -q '^            chown root:greenwave "\$f"' "$ctl/postinst" &&
    grep -q '^            chmod 0640 "\$f"' "$ctl/postinst" ||
    fail "postinst does not make greenwave.toml and board.env 0640 root:greenwave"
# Purge keeps the hall's records, handed to root (the daemon's user goes).
purge=$(sed -n '/^if \[ "\$1" = "purge" \]; then/,/^fi/p' "$ctl/postrm")
grep -q 'chown root:root "\$DATA"' <<<"$purge" && grep -q 'chmod 0700 "\$DATA"' <<<"$purge" ||
    fail "postrm purge does not hand /var/lib/greenwave to root:root 0700"
grep -q '^DATA=/var/lib/greenwave$' "$ctl/postrm" || fail "postrm: DATA is not /var/lib/greenwave"
if grep -v '^\s*#' <<<"$purge" | grep -qE '^\s*rm .*(\$DATA|/var/lib/greenwave)'; then
    fail "postrm purge deletes the hall's records"
fi

# An extracted tree stands for the kiosk's root.
root="$out/root"
dpkg-deb -x "$deb" "$root"
sums="$PWD/$ctl/md5sums"
(cd "$root" && md5sum --quiet -c "$sums") || fail "md5sums do not match the files"
[[ "$(wc -l <"$ctl/md5sums")" -eq "$(($(find "$root" -type f | wc -l) - $(wc -l <"$ctl/conffiles")))" ]] ||
    fail "md5sums does not list every file but the conffiles"
zcat "$root/usr/share/doc/greenwave/changelog.Debian.gz" | head -1 | grep -q "^greenwave (${version}-1) " ||
    fail "changelog.Debian's first entry is not ${version}-1 (packaging/debian/changelog)"
head -1 "$root/usr/share/doc/greenwave/copyright" | grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
    fail "copyright is not machine-readable"
grep -q 'GREENWAVE_TOKEN=change-me-' "$root/etc/greenwave/board.env" ||
    fail "the shipped board.env must hold only a placeholder token (it ships 0644)"

# The purge for real, as root, in a scratch tree: the postrm with its
# paths moved into it and the host left alone (deb-systemd-helper a stub
# that records its calls, no running systemd, no user greenwave to delete).
# Then the freed uid (here nobody's) must not reach the records.
if [[ "$(id -u)" -eq 0 ]]; then
    s="$PWD/$out/purge"
    mkdir -p "$s/var/lib/greenwave/inbox/done" "$s/etc/greenwave" "$s/bin"
    echo records >"$s/var/lib/greenwave/greenwave.db"
    cp "$root/etc/greenwave/greenwave.toml" "$root/etc/greenwave/board.env" "$s/etc/greenwave/"
    echo key >"$s/etc/greenwave/roster-hash.key"
    chown -R 65534:65534 "$s/var/lib/greenwave" "$s/etc/greenwave/roster-hash.key"
    printf '#!/bin/sh\nexit 2\n' >"$s/bin/getent"
    printf '#!/bin/sh\necho "deluser must not run here" >&2; exit 1\n' >"$s/bin/deluser"
    printf '#!/bin/sh\necho "$*" >>"%s/deb-systemd-helper.log"\n' "$s" >"$s/bin/deb-systemd-helper"
    chmod +x "$s/bin/getent" "$s/bin/deluser" "$s/bin/deb-systemd-helper"
    sed -e "s|/var/lib/greenwave|$s/var/lib/greenwave|g" -e "s|/etc/greenwave|$s/etc/greenwave|g" \
        -e "s|/run/systemd/system|$s/no-systemd|g" \
        "$ctl/postrm" >"$s/postrm"
    if grep -v '^\s*#' "$s/postrm" | grep -oE '(^|[ "=])/[a-z][^ "]*' | grep -v "$s" | grep -q .; then
        fail "postrm purge test: a path would escape the scratch tree"
    fi
    PATH="$s/bin:$PATH" sh -e "$s/postrm" purge 2>"$s/message" || fail "postrm purge failed: $(cat "$s/message")"
    [[ "$(cat "$s/var/lib/greenwave/greenwave.db" 2>/dev/null)" == records ]] || fail "purge lost the hall's records"
    [[ "$(stat -c %U:%G:%a "$s/var/lib/greenwave")" == root:root:700 ]] ||
        fail "purge left /var/lib/greenwave $(stat -c %U:%G:%a "$s/var/lib/greenwave"), not root:root 0700"
    [[ "$(stat -c %U "$s/etc/greenwave/roster-hash.key")" == root ]] || fail "purge left the roster hash key to the deleted user"
    grep -qx 'purge greenwave.service' "$s/deb-systemd-helper.log" || fail "purge does not purge greenwave.service's state"
    echo public >"$s/readable" && chmod 0644 "$s/readable"
    if setpriv --reuid=65534 --regid=65534 --clear-groups cat "$s/readable" >/dev/null 2>&1; then
        if setpriv --reuid=65534 --regid=65534 --clear-groups cat "$s/var/lib/greenwave/greenwave.db" >/dev/null 2>&1; then
            fail "after purge the freed uid can still read the records"
        fi
    fi
    grep -q "rm -rf $s/var/lib/greenwave" "$s/message" || fail "purge does not say how to remove the data: $(cat "$s/message")"
    [[ ! -e "$s/etc/greenwave/greenwave.toml" && ! -e "$s/etc/greenwave/board.env" ]] || fail "purge left the configuration"
fi
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
# The man pages: every greenwave page any page refers to is shipped, one
# per visible subcommand (the main page lists them), each with the four
# sections a kiosk's ops look for.
man1="$root/usr/share/man/man1"
zcat "$man1/greenwave.1.gz" | grep -q '^\.TH greenwave' || fail "man page"
refs=$(zcat "$man1"/*.1.gz | sed 's/\\-/-/g; s/\\f[BIRP]//g' | grep -o 'greenwave[a-z-]*(1)' | sed 's/(1)$//' | sort -u)
[[ $(wc -l <<<"$refs") -gt 20 ]] || fail "the man pages refer to too few pages: $refs"
for r in $refs; do
    [[ -f "$man1/$r.1.gz" ]] || fail "man page $r(1) is referred to but not shipped"
done
for page in "$man1"/greenwave*.1.gz; do
    for sh in FILES ENVIRONMENT '"EXIT STATUS"' EXAMPLES '"SEE ALSO"'; do
        zcat "$page" | grep -qx "\.SH $sh" || fail "$(basename "$page"): no $sh section"
    done
    name=$(basename "$page" .1.gz)
    zcat "$page" | grep -q "^\.TH $name 1" || fail "$(basename "$page"): .TH is not $name"
done
[[ -f "$man1/greenwave-roster-import.1.gz" ]] || fail "no page for roster import"
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
board="$root/lib/systemd/system/greenwave-board.service"
grep -qx 'TTYPath=/dev/tty1' "$board" || fail "greenwave-board.service is not on tty1"
# The VT console has no Chinese glyphs: the board runs inside fbterm with
# the CJK font, through board-console.
grep -qx 'ExecStart=/usr/libexec/greenwave/board-console' "$board" || fail "the board does not run through board-console"
grep -qx 'SupplementaryGroups=video' "$board" || fail "the board cannot open the framebuffer (group video)"
console="$root/usr/libexec/greenwave/board-console"
[[ -x "$console" ]] && sh -n "$console" || fail "board-console"
grep -q '^exec /usr/bin/fbterm --font-names="$font" --font-size="$size" -- "$board" board$' "$console" ||
    fail "board-console does not run the board inside fbterm"
grep -q 'WenQuanYi Micro Hei' "$console" || fail "board-console does not ask fbterm for the CJK font"

# The udev rules: plain syntax (no udevadm verify in systemd 252), every
# device named after its USB port so that two same-chip adapters differ.
rules="$root/lib/udev/rules.d/60-greenwave.rules"
while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    grep -qE '^([A-Z]+(\{[a-zA-Z_]+\})?(==|!=|\+?=)"[^"]*"(, |$))+$' <<<"$line" || fail "udev rules: not plain key=\"value\" pairs: $line"
    grep -q 'SUBSYSTEM==' <<<"$line" || fail "udev rules: a rule without SUBSYSTEM: $line"
    grep -qE 'SYMLINK\+="greenwave-(idreader|printer)-usb-\$id"' <<<"$line" ||
        fail "udev rules: a device not named after its USB port: $line"
    grep -qE 'ATTRS\{(idVendor|busnum)\}' <<<"$line" || fail "udev rules: \$id would not be the USB device: $line"
done <"$rules"
if command -v systemd-analyze >/dev/null; then
    v="$out/verify"
    mkdir -p "$v"
    for u in greenwave.service greenwave-board.service; do
        sed -e "s|/usr/bin/greenwave|$PWD/$root/usr/bin/greenwave|g" \
            -e "s|/usr/libexec/greenwave/|$PWD/$root/usr/libexec/greenwave/|g" \
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
