#!/usr/bin/env bash
# Times supervision and assessment on the county demo over HTTP (SQLite): a rule run over last
# year (every rule; the encounter rules alone; the institution indicators alone), the nightly
# week, the alert list, and the members' assessment scores computed live (year, a quarter) and
# frozen (last year). Loads the county demo into a fresh embedded database first; pass a data
# directory to reuse one already loaded. Changes the rules' version (a county's own).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dir="${1:-$(mktemp -d)}"
if [ ! -e "$dir/yijia.db" ]; then
  /usr/bin/time -f "demo load: wall %e s" ./target/release/yijia demo --size county --seed 1 --data-dir "$dir"
fi
port=$((20000 + RANDOM % 20000))
./target/release/yijia serve --data-dir "$dir" --addr "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"insurance-officer","password":"yijia-demo"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
api() { curl -sf -o /dev/null -w "$1: %{time_total} s\n" -H "authorization: Bearer $token" \
  -H 'content-type: application/json' "${@:2}"; }
year=$(( $(date +%Y) - 1 ))
this_year=$(date +%Y)
week_from=$(date -d '7 days ago' +%F)
yesterday=$(date -d 'yesterday' +%F)
run="http://127.0.0.1:$port/api/v1/supervision/runs"
rules="http://127.0.0.1:$port/api/v1/supervision/rules"
api "run over $year, every rule" -X POST "$run" -d "{\"from\":\"$year-01-01\",\"to\":\"$year-12-31\"}"
api "run over the last week (the nightly run)" -X POST "$run" -d "{\"from\":\"$week_from\",\"to\":\"$yesterday\"}"
api "rules: the institution indicators only" -X PUT "$rules" \
  -d '{"enabled":["K01","K02","K03","K04","K05","K07"],"parameters":{}}'
api "run over $year, institution indicators" -X POST "$run" -d "{\"from\":\"$year-01-01\",\"to\":\"$year-12-31\"}"
api "rules: the encounter rules only" -X PUT "$rules" \
  -d '{"enabled":["R01","R02","R03","R04","R05","R06","R12"],"parameters":{}}'
api "run over $year, encounter rules" -X POST "$run" -d "{\"from\":\"$year-01-01\",\"to\":\"$year-12-31\"}"
api "rules: every rule again" -X PUT "$rules" \
  -d '{"enabled":["R01","R02","R03","R04","R05","R06","R12","K01","K02","K03","K04","K05","K07"],"parameters":{}}'
api "alerts, first page" "http://127.0.0.1:$port/api/v1/supervision/alerts"
api "assessment scores $this_year, live" "http://127.0.0.1:$port/api/v1/assessments/$this_year/scores"
api "assessment scores $this_year q3, live" "http://127.0.0.1:$port/api/v1/assessments/$this_year/scores?period=q3"
api "assessment scores $year, frozen" "http://127.0.0.1:$port/api/v1/assessments/$year/scores"
api "indicators $year (2.1, 2.3, S.1, S.2 included)" "http://127.0.0.1:$port/api/v1/indicators?year=$year"
