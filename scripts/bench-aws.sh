#!/usr/bin/env bash
# Benchmark: the AWS source against the AWS API emulator (moto, one request
# at a time) at the sizes given (default 50 and 250: N instances, volumes
# and queues per region, in two regions). Prints resources, end-to-end
# seconds, API requests and requests per resource. The emulator is the
# bottleneck (it serves a few hundred objects per second), so this measures
# API manners (calls per resource), not cloudtab's speed.
#
#   scripts/bench-aws.sh [--delay-ms MS] [N ...]
#
# --delay-ms MS makes every request wait MS milliseconds before the
# emulator answers it (the waits of concurrent requests overlap): a
# stand-in for a real API's 50-150 ms round trips, which is what a scope
# with one detail call per resource spends its time on. CLOUDTAB_BIN picks
# the binary instead of building one (to compare builds).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/venv.sh   # the emulator and boto3, pinned
py="$CLOUDTAB_TEST_PYTHON"
# The emulator is the bottleneck, so the build profile hardly matters here:
# CLOUDTAB_BENCH_PROFILE=debug skips the long release build.
delay_ms=0
if [ "${1:-}" = --delay-ms ]; then delay_ms="$2"; shift 2; fi
profile="${CLOUDTAB_BENCH_PROFILE:-release}"
if [ -n "${CLOUDTAB_BIN:-}" ]; then
  bin="$CLOUDTAB_BIN"
else
  if [ "$profile" = release ]; then cargo build --release --bin cloudtab; else cargo build --bin cloudtab; fi
  bin="$CARGO_TARGET_DIR/$profile/cloudtab"
fi
work=$(mktemp -d)
trap 'kill $moto_pid 2>/dev/null || true; rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(50 250)
printf '%-6s %10s %8s %10s %14s\n' N resources seconds requests "requests/res"
for n in "${sizes[@]}"; do
  port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$py" scripts/moto_single.py "$port" "$delay_ms" >/dev/null 2>&1 &
  moto_pid=$!
  until "$py" -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do sleep 0.2; done
  "$py" scripts/bench_aws_seed.py "http://127.0.0.1:$port" "$n"
  cat >"$work/aws.yaml" <<YAML
sources:
  - type: aws
    regions: [us-east-1, eu-west-1]
    endpoint_url: http://127.0.0.1:$port
sinks:
  - type: parquet
    url: $work/data-$n
YAML
  start=$(date +%s.%N)
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
    AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent CLOUDTAB_LOG=error \
    "$bin" sync --progress never --config "$work/aws.yaml" >/dev/null
  end=$(date +%s.%N)
  "$bin" query --data "$work/data-$n" --format csv \
    "SELECT sum(resources) AS r, sum(api_calls) AS c FROM _scopes" | tail -1 >"$work/q"
  python3 - "$n" "$start" "$end" "$(cat "$work/q")" <<'PY'
import sys
n, start, end, q = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
r, c = (int(x) for x in q.split(","))
print(f"{n:<6} {r:>10} {end-start:>8.2f} {c:>10} {c/r:>14.2f}")
PY
  "$bin" query --data "$work/data-$n" --format csv \
    "SELECT service, sum(resources) AS resources, sum(api_calls) AS requests FROM _scopes GROUP BY service ORDER BY service" \
    | sed 's/^/         /' >>"$work/by-service"
  kill $moto_pid; wait $moto_pid 2>/dev/null || true
done
echo "per service (all sizes, in order):"
cat "$work/by-service"
