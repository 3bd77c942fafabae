#!/usr/bin/env bash
# Resident lookup by ID number over HTTP (issue 2): aim for >= 10,000 requests/s on a 2-core
# machine on SQLite, and p99 <= 10 ms at a steady 1,000 requests/s.
# Every request is authenticated, access-checked and audited (a durable audit entry per read).
# Needs wrk (Debian) and oha (cargo install oha). Usage: bench/lookup.sh [small|county]
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-small}"
port=18090
base="http://127.0.0.1:$port"
cargo build --release --quiet
dir="$(mktemp -d)"
./target/release/yijia demo --size "$size" --data-dir "$dir" >/dev/null
./target/release/yijia serve --data-dir "$dir" --addr "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 30); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.5; done

# A county reader sees the whole community; gather 1,000 real ID numbers through the API.
token=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"county-reader","password":"yijia-demo"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
python3 - "$base" "$token" "$dir/ids.txt" <<'PY'
import json, sys, urllib.request
base, token, out = sys.argv[1:]
def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))
villages = [i["id"] for i in get("/api/v1/institutions") if i["kind"] == "village_clinic"]
ids = []
for v in villages:
    ids += [r["id_number"] for r in get(f"/api/v1/residents?village_clinic_id={v}&limit=100")["items"]]
    if len(ids) >= 1000:
        break
open(out, "w").write("\n".join(ids[:1000]))
PY
cat >"$dir/lookup.lua" <<LUA
local ids = {}
for line in io.lines("$dir/ids.txt") do ids[#ids + 1] = line end
math.randomseed(1)
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/api/v1/residents?id_number=" .. id, {["Authorization"] = "Bearer $token"})
end
LUA

[ -n "${PERF:-}" ] && (perf record -g -p $server -o /tmp/perf-serve.data -- sleep 15 >/dev/null 2>&1 &)
echo "== throughput: wrk, 2 threads, 64 connections, 20 s, random ID numbers"
wrk -t2 -c64 -d20s --latency -s "$dir/lookup.lua" "$base"

echo "== latency at a steady 1,000 requests/s: oha, 20 s"
one=$(head -n1 "$dir/ids.txt")
oha --no-tui -q 1000 -z 20s -c 32 -H "Authorization: Bearer $token" "$base/api/v1/residents?id_number=$one" |
  grep -E "Requests/sec|Success rate|99.00%|95.00%|50.00%|Status code|\[200\]"
