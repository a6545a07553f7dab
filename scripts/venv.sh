# Creates ./.venv with the pinned packages of scripts/requirements-test.txt
# (DuckDB, the AWS API emulator) when missing or out of date. Sourced by
# scripts/test.sh and scripts/bench-aws.sh; exports CLOUDTAB_TEST_PYTHON.
# A venv that exists but cannot run pip (made without ensurepip, or by a
# Python that has since gone) is made again.
if ! command -v python3 >/dev/null 2>&1; then
  echo "error: python3 is missing; the tests need Python 3.9 or newer with its venv module (Debian: apt-get install python3 python3-venv)" >&2
  exit 2
fi
if [ -d .venv ] && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  echo "scripts/venv.sh: ./.venv has no working pip; making it again" >&2
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv; then
    rm -rf .venv
    echo "error: python3 cannot make a virtual environment; install its venv module (Debian: apt-get install python3-venv)" >&2
    exit 2
  fi
fi
if ! cmp -s scripts/requirements-test.txt .venv/.installed 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
  cp scripts/requirements-test.txt .venv/.installed
fi
export CLOUDTAB_TEST_PYTHON="$PWD/.venv/bin/python"
