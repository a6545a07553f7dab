# Creates ./.venv-dbt with the pinned dbt packages of
# scripts/requirements-dbt.txt (dbt-core, dbt-postgres, dbt-duckdb) when
# missing or out of date: a venv of its own, as dbt-duckdb pins another
# DuckDB than the test venv's. Sourced by scripts/test.sh; exports
# CLOUDTAB_DBT (the dbt executable).
if [ -d .venv-dbt ] && ! .venv-dbt/bin/python -m pip --version >/dev/null 2>&1; then
  echo "scripts/venv-dbt.sh: ./.venv-dbt has no working pip; making it again" >&2
  rm -rf .venv-dbt
fi
if [ ! -x .venv-dbt/bin/python ]; then
  if ! python3 -m venv .venv-dbt; then
    rm -rf .venv-dbt
    echo "error: python3 cannot make a virtual environment; install its venv module (Debian: apt-get install python3-venv)" >&2
    exit 2
  fi
fi
if ! cmp -s scripts/requirements-dbt.txt .venv-dbt/.installed 2>/dev/null; then
  .venv-dbt/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-dbt.txt
  cp scripts/requirements-dbt.txt .venv-dbt/.installed
fi
export CLOUDTAB_DBT="$PWD/.venv-dbt/bin/dbt"
