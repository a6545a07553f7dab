#!/usr/bin/env bash
# Benchmark: demo source -> the Snowflake sink, into the Snowflake
# emulator (fakesnow in server mode on 127.0.0.1, from the Snowflake venv),
# release build, at the scales given (default 10000, about 1M resources).
# Each scale runs twice. Prints resources, rows (resources, edges and the
# run tables), seconds, rows/s end to end and cloudtab's peak RSS per run.
# The emulator is Python and DuckDB on the same cores: the figures bound
# the client's cost, not a warehouse's speed. Numbers go into
# docs/BENCHMARKS.md.
#
#   ./scripts/bench-snowflake.sh [SCALE...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/venv-snowflake.sh

cargo build --release --bin cloudtab
bin="$CARGO_TARGET_DIR/release/cloudtab"
out=$(mktemp -d)
py="$CLOUDTAB_SNOWFLAKE_PYTHON"
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$(dirname "$py")/fakesnow" -s -p "$port" >"$out/fakesnow.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$out"' EXIT
"$py" - "$port" <<'PY'
import sys, time, snowflake.connector
for _ in range(200):
    try:
        c = snowflake.connector.connect(user="bench", password="bench", account="fakesnow",
            host="127.0.0.1", port=int(sys.argv[1]), protocol="http", login_timeout=5)
        c.cursor().execute("CREATE DATABASE IF NOT EXISTS INVENTORY")
        break
    except Exception:
        time.sleep(0.1)
PY
echo bench >"$out/password"
cat >"$out/sf.yaml" <<YAML
sinks:
  - type: snowflake
    url: "snowflake://bench@fakesnow/INVENTORY/CLOUDTAB?host=http://127.0.0.1:$port"
    password_file: $out/password
YAML

scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(10000)
printf '%-8s %10s %10s %8s %10s %10s\n' scale resources rows seconds "rows/s" "peak RSS"
for scale in "${scales[@]}"; do
  for _ in 1 2; do
    /usr/bin/time -v "$bin" --log-format json sync --source demo --scale "$scale" --seed 1 \
      --config "$out/sf.yaml" --progress never >"$out/summary.json" 2>"$out/time.txt"
    grep -o "\"message\":\"snowflake: [^\"]*\"[^}]*" "$out/time.txt" | sed "s/^/    /" >&2 || true
    python3 - "$scale" "$out/summary.json" "$out/time.txt" <<'PY'
import json, re, sys
scale, summary, timing = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
res, ms = summary["resources"], summary["duration_ms"]
rows = sum(summary["tables"].values())
print(f"{scale:<8} {res:>10} {rows:>10} {ms/1000:>8.2f} {rows/(ms/1000):>10,.0f} {rss_kb/1024:>7.0f} MB")
PY
  done
done
