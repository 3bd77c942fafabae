#!/usr/bin/env bash
# Times loading the county-size demo (Sangzhi: 376,000 residents) into a fresh embedded database.
# Target (issue 2): at most 60 s on SQLite on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
/usr/bin/time -f "wall %e s, max RSS %M KiB" ./target/release/yijia demo --size county --seed 1 --data-dir "$dir" ${1:+--database-url "$1"}
