#!/usr/bin/env bash
# Instructions that HTML extraction takes per page of the bench site, counted by
# valgrind (cachegrind): unlike seconds, the count does not move with the shared
# machines' noise, so two builds compare exactly (±0.1%).
#
# usage: bench/instructions.sh [PAGES]
#   PAGES  how many of the 100,000-page bench site's pages to extract (default 300)
# Needs: valgrind (apt-get install valgrind). Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
bench=${BENCH_DIR:-/tmp/siteaudit-bench}
site="$bench/site-100000"
[ -s "$site/urls.txt" ] || python3 bench/gen_site.py 100000 "$site"
cargo build --release -q -p siteaudit --example extract_files
bin=target/release/examples/extract_files
mapfile -t files < <(seq 0 $((n - 1)) | sed "s#.*#$site/p/&.html#")
count() {
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 |
        sed -n 's/.*I *refs: *//p' | tr -d ,
}
empty=$(count "$bin")
total=$(count "$bin" "${files[@]}")
"$bin" "${files[@]}"
echo "extraction: $(( (total - empty) / n )) instructions per page ($n pages, $((total - empty)) in all)"
