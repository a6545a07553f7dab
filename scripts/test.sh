#!/usr/bin/env bash
# Installs what the tests need (a project-local Python venv with pinned
# packages, PostgreSQL's server binaries) and runs every test of the workspace. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! cmp -s scripts/requirements-test.txt .venv/.installed 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
  cp scripts/requirements-test.txt .venv/.installed
fi
export CLOUDTAB_TEST_PYTHON="$PWD/.venv/bin/python"
# PostgreSQL server binaries for the tests' throwaway servers (installed
# from Debian's packages when missing).
CLOUDTAB_PG_BIN="$(./scripts/ensure-postgres.sh)"
export CLOUDTAB_PG_BIN

# Unit and end-to-end tests (benches are run by scripts/bench.sh, not here).
cargo test --workspace --lib --bins --tests "$@"
