#!/usr/bin/env bash
# Installs what the tests need (a project-local Python venv with pinned
# packages, PostgreSQL's server binaries) and runs every test of the workspace. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

. scripts/venv.sh
. scripts/venv-dbt.sh
. scripts/venv-snowflake.sh
# PostgreSQL server binaries for the tests' throwaway servers (installed
# from Debian's packages when missing).
CLOUDTAB_PG_BIN="$(./scripts/ensure-postgres.sh)"
export CLOUDTAB_PG_BIN

# The quick start's build (demo cloud and Parquet, the `quick` profile),
# so that it cannot rot: it builds, syncs and queries the demo cloud, and a
# source it left out says which feature brings it back. `cargo test` then
# builds the full set.
cargo build --no-default-features --profile quick --bin cloudtab
quick_bin="$CARGO_TARGET_DIR/quick/cloudtab"
quick_data="$(mktemp -d)"
trap 'rm -rf "$quick_data"' EXIT
"$quick_bin" sync --source demo --scale 1 --sink "$quick_data" --progress never >/dev/null
"$quick_bin" query --data "$quick_data" --format csv "SELECT count(*) AS n FROM _resources" | grep -qx '[0-9]*[1-9][0-9]*' \
  || { echo "error: the quick start's build synced or queried nothing" >&2; exit 1; }
# (`--max-concurrency 0` makes even a full build stop before any I/O.)
minimal_out="$(AWS_EC2_METADATA_DISABLED=true "$quick_bin" sync --source aws --max-concurrency 0 2>&1)" && minimal_rc=0 || minimal_rc=$?
if [ "$minimal_rc" != 2 ] || ! grep -q -- "--features aws" <<<"$minimal_out"; then
  echo "error: the minimal build should refuse --source aws with exit 2 naming its feature; got exit $minimal_rc: $minimal_out" >&2
  exit 1
fi

# Unit and end-to-end tests (benches are run by scripts/bench.sh, not here).
cargo test --workspace --lib --bins --tests "$@"
