#!/usr/bin/env bash
# Benchmark: `cloudtab query` over a demo snapshot on local disk.
#
#   scripts/bench-query.sh [scale] [runs]      (default: 10000, i.e. about
#                                               1M resources, and 5 runs)
#
# Syncs the demo cloud once at that scale, then runs five typical queries
# (a count over every resource table, a tag aggregate, a join over the
# edges, a time filter with a sort, a distinct count) `runs` times each and
# prints the median and the range in milliseconds, the process's start and
# the snapshot's discovery included (what a user waits for).
#
# CLOUDTAB_BIN picks the binary (default: a release build of this tree).
# With CLOUDTAB_BIN_B set too, every run alternates the two binaries and
# the last column is the median of B/A over the pairs: the way to compare
# two builds on a machine whose speed drifts.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

scale="${1:-10000}"
runs="${2:-5}"
if [ -z "${CLOUDTAB_BIN:-}" ]; then
  cargo build --release --locked --bin cloudtab
  CLOUDTAB_BIN="$CARGO_TARGET_DIR/release/cloudtab"
fi
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
"$CLOUDTAB_BIN" sync --source demo --scale "$scale" --seed 1 --sink "$data" --progress never >/dev/null

python3 - "$data" "$runs" "$CLOUDTAB_BIN" "${CLOUDTAB_BIN_B:-}" <<'PY'
import statistics, subprocess, sys, time
data, runs, bins = sys.argv[1], int(sys.argv[2]), [b for b in sys.argv[3:5] if b]
queries = {
    "count per kind": "SELECT kind, count(*) AS n FROM _resources GROUP BY kind ORDER BY kind",
    "owners of instances": "SELECT tag(tags, 'owner') AS owner, count(*) AS n FROM aws_ec2_instance GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
    "edges into volumes": "SELECT e.edge_type, count(*) AS n FROM _edges e JOIN aws_ec2_volume v ON e.to_id = v._id GROUP BY 1 ORDER BY 1",
    "oldest instances": "SELECT id, ctime FROM aws_ec2_instance WHERE ctime < TIMESTAMP '2025-01-01 00:00:00' ORDER BY ctime, id LIMIT 20",
    "distinct delete targets": "SELECT count(DISTINCT to_id) AS n FROM _edges WHERE edge_type = 'delete'",
}

def timed(binary, sql):
    start = time.perf_counter()
    out = subprocess.run([binary, "query", "--data", data, "--format", "csv", sql],
                         check=True, capture_output=True, text=True).stdout
    return (time.perf_counter() - start) * 1000, out

head = f"{'query':<24} {'A median':>9} {'A range':>13}"
if len(bins) == 2:
    head += f" {'B median':>9} {'B range':>13} {'B/A':>6}"
print(head + "   (ms)")
for name, sql in queries.items():
    times = [[] for _ in bins]
    outputs = set()
    for _ in range(runs):
        for i, b in enumerate(bins):
            ms, out = timed(b, sql)
            times[i].append(ms)
            outputs.add(out)
    if len(outputs) != 1:
        sys.exit(f"error: the builds disagree on {name!r}")
    line = f"{name:<24}"
    for t in times:
        line += f" {statistics.median(t):>9.0f} {min(t):>6.0f}-{max(t):<6.0f}"
    if len(bins) == 2:
        line += f" {statistics.median(b / a for a, b in zip(*times)):>6.2f}"
    print(line)
PY
