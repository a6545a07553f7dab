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

# Unit and end-to-end tests (benches are run by scripts/bench.sh, not here).
cargo test --workspace --lib --bins --tests "$@"
