#!/usr/bin/env bash
# Times every indicator for the county demo's year on SQLite, over HTTP as the supervisor
# (issue 6 target: under 1 s), the drill-down, the dashboard and the year's budget position;
# this year's indicators with the chronic registry, the chronic monthly measures and dashboard,
# the family doctor measures and the screening lists of a village and a township.
# Loads the county demo (residents and last year's activity) into a fresh embedded database
# first; pass a data directory to reuse one already loaded.
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
  -d '{"username":"supervisor","password":"yijia-demo"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
year=$(( $(date +%Y) - 1 ))
for run in 1 2 3; do
  curl -sf -o /dev/null -w "year $year, whole county, run $run: %{time_total} s\n" \
    -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/indicators?year=$year"
done
curl -sf -o /dev/null -w "year $year, one month: %{time_total} s\n" \
  -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/indicators?year=$year&month=6"
curl -sf -o /dev/null -w "one indicator (3.1) for each of the county's institutions: %{time_total} s\n" \
  -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/indicators/3.1/institutions?year=$year"
curl -sf -o /dev/null -w "dashboard page (year and 12-month trend): %{time_total} s\n" \
  -H "cookie: yijia_session=$token" "http://127.0.0.1:$port/indicators?year=$year"
officer=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"insurance-officer","password":"yijia-demo"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
curl -sf -o /dev/null -w "budget position for the year (insurance officer): %{time_total} s\n" \
  -H "authorization: Bearer $officer" "http://127.0.0.1:$port/api/v1/budget/$year"
this_year=$(date +%Y)
curl -sf -o /dev/null -w "year $this_year so far, whole county (chronic registry included): %{time_total} s\n" \
  -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/indicators?year=$this_year"
month=$(date +%Y-%m)
for program in hypertension diabetes; do
  curl -sf -o /dev/null -w "chronic monthly measures, $program, $month, whole county: %{time_total} s\n" \
    -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/chronic/measures?program=$program&month=$month"
done
curl -sf -o /dev/null -w "chronic dashboard page (12 months), whole county: %{time_total} s\n" \
  -H "cookie: yijia_session=$token" "http://127.0.0.1:$port/chronic"
curl -sf -o /dev/null -w "family doctor measures, whole county: %{time_total} s\n" \
  -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/family-doctor/measures"
village=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"village-doctor","password":"yijia-demo"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
curl -sf -o /dev/null -w "a village's hypertension screening list (100 a page): %{time_total} s\n" \
  -H "authorization: Bearer $village" "http://127.0.0.1:$port/api/v1/chronic/screening?limit=100"
township=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"township-doctor","password":"yijia-demo"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
curl -sf -o /dev/null -w "a township's hypertension screening list (100 a page): %{time_total} s\n" \
  -H "authorization: Bearer $township" "http://127.0.0.1:$port/api/v1/chronic/screening?limit=100"
curl -sf -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/indicators.csv?year=$year" |
  grep -E '^\xEF\xBB\xBF?code|^(3\.1|3\.2|4\.2|4\.3|C\.1|C\.2|C\.7|C\.8|P\.5|P\.6),' || true
