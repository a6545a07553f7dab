#!/usr/bin/env bash
# Benchmark: demo source -> PostgreSQL, release build, beside `psql \copy`
# of the very same rows from CSV files into tables of the same columns on
# the same server (the practical limit of this server on this machine).
#
#   ./scripts/bench-postgres.sh [scale]     (default 10000: about 1M resources)
#
# Starts a throwaway server from initdb (as the `postgres` user when run as
# root), prints rows/s and peak RSS of both, and removes the server.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scale="${1:-10000}"

cargo build --release --bin cloudtab
bin="$CARGO_TARGET_DIR/release/cloudtab"
pgbin="$(./scripts/ensure-postgres.sh)"
work=$(mktemp -d /tmp/cloudtab-bench-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$work"
  as_pg=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$pgbin/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C --no-sync --no-instructions >/dev/null
# The same server settings for both loads: durable WAL writes are off
# (this measures loading, not the disk), checkpoints spaced out.
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/data" -l "$work/server.log" -w -o \
  "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=8GB -c checkpoint_timeout=30min -c maintenance_work_mem=256MB" \
  start >/dev/null
url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
psql=("$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -X -q -A -t -v ON_ERROR_STOP=1)

echo "server: PostgreSQL $("${psql[@]}" -c 'SHOW server_version'), fsync=off, synchronous_commit=off"
echo "cloudtab sync --scale $scale --sink postgres://… (release)"
/usr/bin/time -v "$bin" --log-format json sync --source demo --scale "$scale" --seed 1 \
  --sink "$url" --progress never >"$work/summary.json" 2>"$work/time.txt"
rows=$("${psql[@]}" -c "SELECT sum(n) FROM (
  SELECT (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM cloudtab.%I', c.relname), false, true, '')))[1]::text::bigint AS n
  FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
  WHERE s.nspname = 'cloudtab' AND c.relkind = 'p') t")
python3 - "$work/summary.json" "$work/time.txt" "$rows" <<'PY'
import json, re, sys
summary, timing, rows = json.load(open(sys.argv[1])), open(sys.argv[2]).read(), int(sys.argv[3])
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", timing).group(1)
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
print(f"  resources {summary['resources']:,}, rows loaded {rows:,} (all tables, edges included)")
print(f"  {secs:.2f} s wall, {rows/secs:,.0f} rows/s, {summary['resources']/secs:,.0f} resources/s, peak RSS {rss_kb/1024:.0f} MB")
open(sys.argv[2] + ".secs", "w").write(str(secs))
PY
sync_secs=$(cat "$work/time.txt.secs")

# Baseline: the same rows as CSV, loaded by psql \copy into tables of the
# same columns: once without keys (the fastest load this server does), once
# with the same primary keys and indexes (`LIKE … INCLUDING INDEXES`).
tables=$("${psql[@]}" -c "SELECT relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'cloudtab' AND c.relkind = 'p' ORDER BY 1")
for t in $tables; do
  "${psql[@]}" -c "\\copy (SELECT * FROM cloudtab.\"$t\") TO '$work/$t.csv' CSV"
done
csv_bytes=$(du -cb "$work"/*.csv | tail -1 | cut -f1)
load() { # schema, LIKE options -> seconds
  "${psql[@]}" -c "DROP SCHEMA IF EXISTS $1 CASCADE; CREATE SCHEMA $1"
  for t in $tables; do
    "${psql[@]}" -c "CREATE TABLE $1.\"$t\" (LIKE cloudtab.\"$t\" $2)"
  done
  local start end
  start=$(date +%s.%N)
  for t in $tables; do
    "${psql[@]}" -c "\\copy $1.\"$t\" FROM '$work/$t.csv' CSV"
  done
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}
plain=$(load baseline_plain "")
indexed=$(load baseline_indexed "INCLUDING INDEXES")
python3 - "$rows" "$plain" "$indexed" "$sync_secs" "$csv_bytes" <<'PY'
import sys
rows, plain, indexed, sync_secs, csv = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5])
print(f"psql \\copy of the same {rows:,} rows from CSV ({csv/1e6:.0f} MB)")
print(f"  into tables without keys:         {plain:.2f} s, {rows/plain:,.0f} rows/s")
print(f"  into tables with keys and indexes: {indexed:.2f} s, {rows/indexed:,.0f} rows/s")
print(f"cloudtab end to end (extract, load, keys, swap): {rows/sync_secs:,.0f} rows/s")
print(f"  = {plain/sync_secs*100:.0f}% of the keyless \\copy rate, {indexed/sync_secs*100:.0f}% of the indexed \\copy rate")
PY
