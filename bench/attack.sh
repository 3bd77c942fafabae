#!/usr/bin/env bash
# Memory and latency under the attacks of issue 12, against a release `serve --demo`:
#   1. 300 concurrent logins with made-up usernames (from one address, and from 300 addresses
#      so the per-address slow-down does not hide the hashing): peak RSS during the burst and
#      RSS 10 s after (targets: <= 300 MB during, <= 250 MB after);
#   2. ten corrupted DICOM uploads at once (the Waveform Data length off by two, and random bit
#      flips), while an unrelated GET /api/v1/me is timed: peak RSS above idle (target
#      <= 100 MB) and that request's p99 (target <= 50 ms).
# Figures are printed, never asserted. Usage: bench/attack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
port=18091
cargo build --release --quiet
dir="$(mktemp -d)"
./target/release/yijia serve --demo --data-dir "$dir" --addr "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
python3 bench/attack.py "$port" "$server" ../shared/data/ecg/dicom/pydicom_waveform_ecg.dcm
