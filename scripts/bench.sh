#!/usr/bin/env bash
# Benchmark: demo source -> local Parquet, release build, at the scales
# given (default: 1000 and 10000, i.e. about 100k and 1M resources).
# Prints one line per scale: resources, seconds, resources/s end to end
# (generating the demo inventory included), peak RSS; then the flatten +
# write stage alone (benches/flatten_write.rs) at the largest scale.
# Numbers go into docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

cargo build --release --bin cloudtab
bin="$CARGO_TARGET_DIR/release/cloudtab"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(1000 10000)
printf '%-8s %10s %10s %8s %12s %10s\n' scale resources edges seconds "res/s" "peak RSS"
for scale in "${scales[@]}"; do
  rm -rf "$out/data"
  /usr/bin/time -v "$bin" --log-format json sync --source demo --scale "$scale" --seed 1 \
    --sink "$out/data" --progress never >"$out/summary.json" 2>"$out/time.txt"
  python3 - "$scale" "$out/summary.json" "$out/time.txt" <<'PY'
import json, re, sys
scale, summary, timing = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
res, ms = summary["resources"], summary["duration_ms"]
edges = sum(summary["edges"].values())
print(f"{scale:<8} {res:>10} {edges:>10} {ms/1000:>8.2f} {res/(ms/1000):>12,.0f} {rss_kb/1024:>8.0f} MB")
PY
done

# Flatten + write alone: items generated beforehand, then the same stages
# as a sync (one flattener per core, Parquet files encoded on their own
# tasks), wall clock.
cargo bench --bench flatten_write -- "${scales[-1]}" 2>/dev/null | grep '^scale'
