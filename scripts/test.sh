#!/usr/bin/env bash
# Installs what the tests need (a project-local Python venv with pinned
# packages, PostgreSQL's server binaries) and runs every test of the workspace. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

. scripts/venv.sh
# PostgreSQL server binaries for the tests' throwaway servers (installed
# from Debian's packages when missing).
CLOUDTAB_PG_BIN="$(./scripts/ensure-postgres.sh)"
export CLOUDTAB_PG_BIN

# The minimal build (demo cloud and Parquet, what the quick start runs),
# so that it cannot rot: it builds, and a source it left out says which
# feature brings it back. Built first: `cargo test` then builds the full set.
cargo build --no-default-features --bin cloudtab
# (`--max-concurrency 0` makes even a full build stop before any I/O.)
minimal_out="$(AWS_EC2_METADATA_DISABLED=true "$CARGO_TARGET_DIR/debug/cloudtab" sync --source aws --max-concurrency 0 2>&1)" && minimal_rc=0 || minimal_rc=$?
if [ "$minimal_rc" != 2 ] || ! grep -q -- "--features aws" <<<"$minimal_out"; then
  echo "error: the minimal build should refuse --source aws with exit 2 naming its feature; got exit $minimal_rc: $minimal_out" >&2
  exit 1
fi

# Unit and end-to-end tests (benches are run by scripts/bench.sh, not here).
cargo test --workspace --lib --bins --tests "$@"
