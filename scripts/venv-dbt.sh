# Creates ./.venv-dbt with the pinned dbt packages of
# scripts/requirements-dbt.txt (dbt-core, dbt-postgres, dbt-duckdb): a venv
# of its own, as dbt-duckdb pins another DuckDB than the test venv's.
# Sourced by scripts/test.sh; exports CLOUDTAB_DBT (the dbt executable).
. scripts/venv-lib.sh
cloudtab_venv .venv-dbt scripts/requirements-dbt.txt
export CLOUDTAB_DBT="$PWD/.venv-dbt/bin/dbt"
