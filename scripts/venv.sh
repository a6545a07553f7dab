#!/usr/bin/env bash
# Creates ./.venv with the pinned packages of scripts/requirements-test.txt
# (DuckDB, the AWS API emulator) when missing or out of date. Sourced by
# scripts/test.sh and scripts/bench-aws.sh; exports CLOUDTAB_TEST_PYTHON.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! cmp -s scripts/requirements-test.txt .venv/.installed 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
  cp scripts/requirements-test.txt .venv/.installed
fi
export CLOUDTAB_TEST_PYTHON="$PWD/.venv/bin/python"
