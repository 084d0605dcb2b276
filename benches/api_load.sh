#!/usr/bin/env bash
# Staff API under load (issue 5): wrk on loopback against the release
# daemon, 30 connections each acting as one window (issue, call, finish, and
# three queue reads per cycle), for 20 s. Prints requests/s, latency
# percentiles, errors, and the daemon's peak RSS. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
CONNS=${CONNS:-30}
cargo build --release --quiet
W="$(mktemp -d -p "$PWD/target" api-bench.XXXXXX)"
cleanup() { [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
{
    echo 'data_dir = "data"'
    echo '[hall]'
    echo 'name = "bench"'
    echo '[[services]]'
    echo 'code = "civil"'
    echo 'name = "民政救助"'
    echo 'letter = "A"'
    for n in $(seq 1 30); do
        printf '[[windows]]\nnumber = %d\nservices = ["civil"]\ntoken = "bench-window-%02d-token-0001"\n' "$n" "$n"
    done
    echo '[api]'
    echo 'listen = "127.0.0.1:0"'
    echo 'manager_token = "bench-manager-token-0001"'
} > "$W/greenwave.toml"
GREENWAVE_LOG=warn ./target/release/greenwave --config "$W/greenwave.toml" run > "$W/out.txt" 2> "$W/err.txt" &
PID=$!
for _ in $(seq 1 100); do grep -q "http://" "$W/out.txt" && break; sleep 0.1; done
URL=$(grep -o "http://[0-9.:]*" "$W/out.txt")
echo "machine: $(nproc) cores; daemon $URL; wrk -t$CONNS -c$CONNS -d$DURATION --latency"
wrk -t"$CONNS" -c"$CONNS" -d"$DURATION" --latency -s benches/api_load.lua "$URL" | sed -n '1,40p'
echo "daemon peak RSS: $(grep VmHWM /proc/$PID/status | awk '{print $2/1024 " MB"}')"
./target/release/greenwave --config "$W/greenwave.toml" queue --server "$URL" --token bench-manager-token-0001 --json \
    | grep -c '"state": "waiting"' | xargs echo "tickets waiting at the stop (cycles cut short; at most one per connection):"
