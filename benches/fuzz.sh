#!/usr/bin/env bash
# A short fuzz run of the GA 467 frame decoder (drivers/fuzz), part of the
# bench routine, not of make test. Uses cargo-fuzz when it is installed
# (`cargo install cargo-fuzz`, nightly), else builds the same libFuzzer target
# on the stable toolchain with the sanitizer-coverage flags cargo-fuzz would
# pass. Exits non-zero if libFuzzer finds a crash (the input is kept in
# drivers/fuzz/artifacts/).
#
#   benches/fuzz.sh          # 60 s
#   SECONDS_TO_RUN=600 benches/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/../drivers/fuzz"
T=${SECONDS_TO_RUN:-60}
mkdir -p corpus/idcard_frame_decoder artifacts/idcard_frame_decoder
if command -v cargo-fuzz >/dev/null 2>&1 && rustup toolchain list | grep -q nightly; then
    exec cargo +nightly fuzz run idcard_frame_decoder -- -max_total_time="$T"
fi
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# With an explicit --target, RUSTFLAGS reach the fuzzed code but not the
# build scripts.
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --quiet --bin idcard_frame_decoder --target-dir target --target "$host"
"./target/$host/release/idcard_frame_decoder" -max_total_time="$T" \
    -artifact_prefix=artifacts/idcard_frame_decoder/ corpus/idcard_frame_decoder 2>&1 | tail -5
