#!/usr/bin/env bash
# Throughput of `siteaudit logs` on a large synthetic access log (issue #6).
# usage: bench/logs.sh [SIZE_MB]   (default 5120: 5 GB; the file is kept in $BENCH_DIR)
# Prints MB/s and peak RSS for siteaudit, next to `wc -l` on the same file in
# the same run (the machine's read-and-scan speed) as the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-5120}
dir=${BENCH_DIR:-/tmp/siteaudit-bench}
mkdir -p "$dir"
log="$dir/access-${size}MB.log"
[ -s "$log" ] || python3 bench/gen_access_log.py "$size" "$log"
cargo build --release -q -p siteaudit-cli
bin=target/release/siteaudit
bytes=$(stat -c %s "$log")
mb=$(python3 -c "print($bytes / 1e6)")

measure() { # label, command...
    local label=$1; shift
    local out
    out=$( { /usr/bin/time -f "%e %U %M" "$@" >/dev/null; } 2>&1 | tail -1)
    read -r wall user rss <<<"$out"
    python3 - "$label" "$wall" "$user" "$rss" "$mb" <<'PY'
import sys
label, wall, user, rss, mb = sys.argv[1], *map(float, sys.argv[2:])
print(f"{label:<34} {wall:7.2f} s wall {user:7.2f} s user {mb / wall:8.0f} MB/s {mb / user:8.0f} MB/s (user) {rss / 1024:7.1f} MB RSS")
PY
}
echo "file: $log ($(python3 -c "print(f'{$bytes/1e9:.2f}')") GB, $(wc -l <"$log") lines)"
measure "wc -l (baseline: read + scan)" wc -l "$log"
measure "siteaudit logs (access log)" "$bin" logs "$log" --format json -o /dev/null --fail-on none
measure "siteaudit logs (+ nginx error log)" "$bin" logs "$log" ../shared/fixtures/logs/nginx/error.log --format json -o /dev/null --fail-on none
