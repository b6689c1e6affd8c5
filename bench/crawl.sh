#!/usr/bin/env bash
# The crawl benchmark (issue #7): one synthetic site served by nginx on 127.0.0.1,
# and on it, in the same run: wrk (the machine's fetch limit), siteaudit, wget
# --spider and lychee. Prints pages per second, peak RSS and the ratios.
#
# usage: bench/crawl.sh [PAGES] [TOOLS]
#   PAGES  site size (default 100000); the site is generated once into $BENCH_DIR
#   TOOLS  which to run, comma-separated (default wrk,siteaudit,wget,lychee)
# Needs: nginx, wrk, wget (apt-get install nginx-light wrk wget) and lychee
# (cargo install lychee --locked). Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${1:-100000}
tools=${2:-wrk,siteaudit,wget,lychee}
bench=${BENCH_DIR:-/tmp/siteaudit-bench}
site="$bench/site-$pages"
port=${BENCH_PORT:-18080}
mkdir -p "$bench"
[ -s "$site/urls.txt" ] || python3 bench/gen_site.py "$pages" "$site"
cargo build --release -q -p siteaudit-cli
bin=$PWD/target/release/siteaudit

run=$(mktemp -d "$bench/run.XXXXXX")
sed -e "s#@ROOT@#$site#" -e "s#@PORT@#$port#" -e "s#@RUN@#$run#" bench/nginx.conf.in >"$run/nginx.conf"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx" -c "$run/nginx.conf" -p "$run" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null; rm -rf "$run"' EXIT
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
url="http://127.0.0.1:$port/"
sed "s#^#http://127.0.0.1:$port#" "$site/urls.txt" >"$run/urls-full.txt"
echo "site: $pages pages at $url; $(nproc) cores; $(date -u +%FT%TZ)"
printf '%-12s %10s %10s %12s %10s\n' tool seconds pages/s "peak RSS MB" note

results="$run/results.tsv"
: >"$results"
report() { # tool seconds rss_kb note
    python3 - "$@" "$pages" <<'PY' | tee -a "$results"
import sys
tool, secs, rss, note, pages = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
print(f"{tool:<12} {secs:10.1f} {pages / secs:10.0f} {rss / 1024:12.1f} {note}")
PY
}
timed() { # out-file, command...: wall seconds and max RSS (KB) in $secs $rss
    local out=$1; shift
    /usr/bin/time -f "%e %M" -o "$run/time" "$@" >"$out" 2>&1 || true
    read -r secs rss < <(tail -1 "$run/time")
}

if [[ $tools == *wrk* ]]; then
    wrk -t2 -c64 -d10s -s bench/rotate.lua "$url" -- "$site/urls.txt" >"$run/wrk.txt" 2>&1
    rps=$(awk '/Requests\/sec/ {print $2}' "$run/wrk.txt")
    python3 -c "print(f\"{'wrk':<12} {'10.0':>10} {float('$rps'):10.0f} {'-':>12} fetch limit: 2 threads, 64 connections, pages in turn\")" | tee -a "$results"
fi
if [[ $tools == *siteaudit* ]]; then
    # 128 requests at a time, as lychee is given below (64 was ~2.4% slower: four
    # alternated pairs, 6.65 s against 6.49 s on average).
    timed "$run/siteaudit.txt" "$bin" crawl "$url" --db "$run/sa.db" --quiet --format text -o "$run/sa.txt" \
        --concurrency 128 --per-host 128 --reprobe 0 --no-tls-probe --fail-on none
    n=$("$bin" crawls --db "$run/sa.db" --format json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['done'])")
    report siteaudit "$secs" "$rss" "crawled $n URLs and ran every default check"
fi
if [[ $tools == *wget* ]]; then
    timed "$run/wget.txt" wget --spider -r -l inf -nv -e robots=off -P "$run/wget" "$url"
    n=$(grep -c "URL:" "$run/wget.txt" || true)
    report wget "$secs" "$rss" "--spider -r -l inf, $n requests"
fi
if [[ $tools == *lychee* ]]; then
    lychee=$(command -v lychee || echo "$HOME/.cargo/bin/lychee")
    timed "$run/lychee.txt" "$lychee" --no-progress --max-concurrency 128 --host-concurrency 128 \
        --host-request-interval 0ms --files-from "$run/urls-full.txt" --format compact
    report lychee "$secs" "$rss" "fed all $pages page URLs (it cannot crawl)"
fi
echo
python3 - "$results" <<'PY'
import sys
rows = {l.split()[0]: float(l.split()[2]) for l in open(sys.argv[1]) if l.strip()}
sa = rows.get("siteaudit")
if sa:
    for other in ("wrk", "wget", "lychee"):
        if other in rows:
            print(f"siteaudit / {other}: {sa / rows[other]:.2f}x pages/s")
PY
