#!/usr/bin/env bash
# Adds DEBIAN/md5sums to a .deb made by cargo-deb, which (3.8) writes none
# (conffiles excluded, as dh_md5sums does):
# dpkg --verify and debsums check the installed files against it, and
# lintian asks for it. The package is rebuilt in place with dpkg-deb; extra
# arguments go to dpkg-deb --build (e.g. -Zgzip -z1 for the package test).
#   packaging/finish-deb.sh target/debian/greenwave_0.1.0-1_amd64.deb
set -euo pipefail
deb="${1:?usage: finish-deb.sh PATH/TO/package.deb [dpkg-deb options]}"
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb --raw-extract "$deb" "$work/pkg"
# Conffiles are left out, as dh_md5sums does: dpkg keeps their sums itself.
(
    cd "$work/pkg"
    find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort |
        grep -vxF -f <(sed 's|^/||' DEBIAN/conffiles 2>/dev/null || true) |
        tr '\n' '\0' | xargs -0 md5sum
) > "$work/pkg/DEBIAN/md5sums"
chmod 0644 "$work/pkg/DEBIAN/md5sums"
dpkg-deb --root-owner-group "$@" --build "$work/pkg" "$deb" >/dev/null
