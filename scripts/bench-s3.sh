#!/usr/bin/env bash
# Benchmark: demo source -> Parquet on S3 (the AWS API emulator, moto, on
# 127.0.0.1, one request at a time) next to the same run to local disk,
# release build, at the scales given (default 10000, about 1M resources).
# Each scale runs local, S3, local, S3 (alternating, as the machine's speed
# drifts). Prints resources, seconds, resources/s end to end and peak RSS
# per run. Numbers go into docs/BENCHMARKS.md.
#
#   ./scripts/bench-s3.sh [SCALE...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/venv.sh

cargo build --release --bin cloudtab
bin="$CARGO_TARGET_DIR/release/cloudtab"
out=$(mktemp -d)
port=$("$CLOUDTAB_TEST_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CLOUDTAB_TEST_PYTHON" scripts/moto_single.py "$port" >"$out/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -rf "$out"' EXIT
endpoint="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$out/none" AWS_SHARED_CREDENTIALS_FILE="$out/none"
: >"$out/none"
"$CLOUDTAB_TEST_PYTHON" - "$endpoint" <<'PY'
import sys, time, boto3
for _ in range(100):
    try:
        boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1").create_bucket(Bucket="bench")
        break
    except Exception:
        time.sleep(0.1)
PY
cat >"$out/s3.yaml" <<YAML
sinks:
  - type: parquet
    url: s3://bench/cloudtab
    endpoint_url: $endpoint
    region: us-east-1
    keep_runs: 1
YAML

scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(10000)
printf '%-6s %-8s %10s %8s %12s %10s\n' sink scale resources seconds "res/s" "peak RSS"
for scale in "${scales[@]}"; do
  for sink in local s3 local s3; do
    rm -rf "$out/data"
    if [ "$sink" = local ]; then args=(--sink "$out/data"); else args=(--config "$out/s3.yaml"); fi
    /usr/bin/time -v "$bin" --log-format json sync --source demo --scale "$scale" --seed 1 \
      "${args[@]}" --progress never >"$out/summary.json" 2>"$out/time.txt"
    python3 - "$sink" "$scale" "$out/summary.json" "$out/time.txt" <<'PY'
import json, re, sys
sink, scale, summary, timing = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), open(sys.argv[4]).read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
res, ms = summary["resources"], summary["duration_ms"]
print(f"{sink:<6} {scale:<8} {res:>10} {ms/1000:>8.2f} {res/(ms/1000):>12,.0f} {rss_kb/1024:>8.0f} MB")
PY
  done
done
