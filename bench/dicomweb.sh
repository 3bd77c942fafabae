#!/usr/bin/env bash
# DICOMweb throughput over HTTP (SQLite, release build) with dicomweb-client: STOW-RS
# instances/s and QIDO-RS queries/s, on the small demo with a township doctor storing and the
# imaging reader searching. Needs the venv of .ci/run (target/fhir-venv with dicomweb-client).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
./target/release/yijia serve --demo --data-dir "$dir" --addr "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
login() { curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"$1\",\"password\":\"yijia-demo\"}" | sed 's/.*"token":"\([^"]*\)".*/\1/'; }
site=$(login township-doctor)
reader=$(login imaging-reader)
id_number=$(curl -sf "http://127.0.0.1:$port/api/v1/residents?q=%E7%8E%8B&limit=1" -H "authorization: Bearer $site" \
  | sed 's/.*"id_number":"\([^"]*\)".*/\1/')
target/fhir-venv/bin/python bench/dicomweb.py "http://127.0.0.1:$port/dicomweb" "$site" "$reader" \
  "$id_number" ../shared/data/dicom-imaging "${COUNT:-500}"
