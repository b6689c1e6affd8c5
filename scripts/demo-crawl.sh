#!/usr/bin/env bash
# Builds siteaudit and crawls the demo site in fixtures/demo-site, served on 127.0.0.1
# by Python's http.server (no network needed). Extra arguments go to `siteaudit crawl`,
# e.g. `bash scripts/demo-crawl.sh --format json`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p siteaudit-cli
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory fixtures/demo-site >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
    sleep 0.1
done
db="${TMPDIR:-/tmp}/siteaudit-demo.db"
set +e
./target/release/siteaudit crawl "http://127.0.0.1:$port/" --db "$db" "$@"
code=$?
set -e
# 0: no problems; 1: problems found (the demo site has broken links on purpose).
if [ "$code" -le 1 ]; then
    echo "(siteaudit exited $code; the demo site has broken links on purpose. Database: $db)" >&2
    exit 0
fi
exit "$code"
