#!/usr/bin/env bash
# DICOMweb throughput over HTTP with dicomweb-client, yijia (release build, SQLite, small demo,
# the modality account storing, the imaging reader searching) side by side with Orthanc and its
# DICOMweb plugin (Debian packages orthanc, orthanc-dicomweb; skipped when not installed) on
# the same machine in the same run. STUDIES (default 10000) one-instance CT studies are stored
# in each; then QIDO-RS searches in the full archive; then yijia renders a 512×512 CT frame.
# Needs the venv of .ci/run (target/fhir-venv with dicomweb-client).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
./target/release/yijia serve --demo --data-dir "$dir" --addr "127.0.0.1:$port" --dicom-addr 127.0.0.1:0 >"$dir/serve.log" 2>&1 &
server=$!
orthanc_pid=""
trap 'kill $server $orthanc_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
login() { curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"$1\",\"password\":\"yijia-demo\"}" | sed 's/.*"token":"\([^"]*\)".*/\1/'; }
modality=$(login pacs-interface)
reader=$(login imaging-reader)
# The patients: the demo's residents (Patient ID = ID number), read from its database.
target/fhir-venv/bin/python -c "
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute('SELECT id_number FROM residents ORDER BY id LIMIT 2000')
print('\n'.join(r[0] for r in rows))" "$dir/yijia.db" > "$dir/patients.txt"
servers=()
if command -v Orthanc >/dev/null && ls /usr/share/orthanc/plugins/libOrthancDicomWeb.so >/dev/null 2>&1; then
  oport=$((port + 1))
  mkdir -p "$dir/orthanc"
  cat > "$dir/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$dir/orthanc", "IndexDirectory": "$dir/orthanc",
  "HttpPort": $oport, "DicomServerEnabled": false, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/" } }
JSON
  Orthanc "$dir/orthanc.json" >"$dir/orthanc.log" 2>&1 &
  orthanc_pid=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$oport/system" >/dev/null && break; sleep 1; done
  servers+=("orthanc=http://127.0.0.1:$oport/dicom-web")
fi
# The writer stores, the reader searches: yijia's two tokens go as STOW token and QIDO token.
target/fhir-venv/bin/python bench/dicomweb.py ../shared/data/dicom-imaging "${STUDIES:-10000}" \
  "$dir/patients.txt" "yijia=http://127.0.0.1:$port/dicomweb,$modality,$reader" "${servers[@]}" ||
  { echo "the server's errors:"; grep -a ERROR "$dir/serve.log" | tail -5; exit 1; }
