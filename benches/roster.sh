#!/usr/bin/env bash
# Roster bench (issue 3): prepare and import of synthetic exports of 1M and
# 10M rows (wall time, rows/s, peak RSS, file size), lookup latency p50/p99
# on the 10M roster, and in the same run the baseline for the hall-side
# import: sqlite3 ".import --csv" of the same 1M-row CSV plus a unique index
# on the ID column. Prints a table for BENCHMARKS.md.
#
#   benches/roster.sh                  # 1M and 10M
#   ROWS="200000" benches/roster.sh    # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-"1000000 10000000"}
cargo build --release --quiet
G="$PWD/target/release/greenwave"
W="$(mktemp -d -p "$PWD/target" roster-bench.XXXXXX)"
trap 'rm -rf "$W"' EXIT
cd "$W"
"$G" roster keygen --out keys >/dev/null

hall() { # hall DIR
    mkdir -p "$1"
    cat > "$1/greenwave.toml" <<TOML
data_dir = "data"
[hall]
name = "bench"
[[services]]
code = "civil"
name = "民政"
letter = "A"
[[windows]]
number = 1
services = ["civil"]
token = "bench-window-1-token"
[roster]
public_key = "$W/keys/roster-public.key"
hash_key = "$W/keys/roster-hash.key"
TOML
}

measure() { # measure OUTVAR-prefix CMD... : sets ${1}_wall ${1}_rss_mb
    local p=$1; shift
    /usr/bin/time -f "%e %M" -o time.txt "$@" >/dev/null
    read -r wall rss < time.txt
    printf -v "${p}_wall" '%s' "$wall"
    printf -v "${p}_rss" '%s' "$((rss / 1024))"
}

echo "machine: $(nproc) cores, $(grep 'model name' /proc/cpuinfo | head -1 | cut -d: -f2 | xargs), $(uname -r); date $(date -u +%F)"
printf '%-8s %-8s %9s %12s %9s %10s\n' rows step wall_s rows_per_s rss_MB size_MB
for n in $ROWS; do
    "$G" roster synth --rows "$n" --seed 1 --out "export-$n.csv" >/dev/null
    measure prep "$G" roster prepare "export-$n.csv" --keys keys --version 1 --out "roster-$n.gwr"
    size=$(( $(stat -c %s "roster-$n.gwr") / 1048576 ))
    printf '%-8s %-8s %9s %12.0f %9s %10s\n' "$n" prepare "$prep_wall" "$(awk "BEGIN{print $n / $prep_wall}")" "$prep_rss" "$size"
    hall "hall-$n"
    measure imp "$G" --config "hall-$n/greenwave.toml" roster import "roster-$n.gwr"
    printf '%-8s %-8s %9s %12.0f %9s %10s\n' "$n" import "$imp_wall" "$(awk "BEGIN{print $n / $imp_wall}")" "$imp_rss" "-"
    if [[ "$n" == "$(echo $ROWS | awk '{print $1}')" ]]; then
        measure base sqlite3 "base-$n.db" -cmd ".import --csv export-$n.csv t" "CREATE UNIQUE INDEX t_id ON t(\"身份证号码\");"
        printf '%-8s %-8s %9s %12.0f %9s %10s\n' "$n" sqlite3 "$base_wall" "$(awk "BEGIN{print $n / $base_wall}")" "$base_rss" "-"
        printf 'ratio import/sqlite3 baseline for %s rows: %.2f\n' "$n" "$(awk "BEGIN{print $imp_wall / $base_wall}")"
    fi
    "$G" --config "hall-$n/greenwave.toml" roster bench-lookup --rows "$n" --seed 1
    rm -f "export-$n.csv" "base-$n.db"
done
