#!/usr/bin/env bash
# Crash safety: 1,000 ECG uploads in flight (each with its Idempotency-Key), the server killed
# with SIGKILL in the middle, restarted, and every upload retried with its key. Prints how many
# acknowledged uploads were lost (must be 0), how many ECGs exist per key (must be 1) and what
# `yijia audit verify` says. Usage: bench/crash.sh
set -euo pipefail
cd "$(dirname "$0")/.."
port=18092
cargo build --release --quiet
dir="$(mktemp -d)"
start() {
  ./target/release/yijia serve --demo --data-dir "$dir/data" --audit-anchor "$dir/anchor" \
    --addr "127.0.0.1:$port" >>"$dir/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
}
trap 'kill -9 $server 2>/dev/null || true; rm -rf "$dir"' EXIT
start
./target/release/yijia ecg synth normal >"$dir/normal.json"
python3 bench/crash.py "$port" "$dir/normal.json" "$dir/acked.txt" first &
client=$!
sleep 1.5
kill -9 "$server"
wait "$client" || true
start
python3 bench/crash.py "$port" "$dir/normal.json" "$dir/acked.txt" retry
kill "$server"; wait "$server" 2>/dev/null || true
./target/release/yijia audit verify --data-dir "$dir/data" --audit-anchor "$dir/anchor"
