# Creates ./.venv with the pinned packages of scripts/requirements-test.txt
# (DuckDB, pyarrow, the AWS API emulator) when missing or out of date.
# Sourced by scripts/test.sh and the benchmarks; exports
# CLOUDTAB_TEST_PYTHON.
. scripts/venv-lib.sh
cloudtab_venv .venv scripts/requirements-test.txt
export CLOUDTAB_TEST_PYTHON="$PWD/.venv/bin/python"
