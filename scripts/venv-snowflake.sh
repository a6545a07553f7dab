# Creates ./.venv-snowflake with the pinned packages of
# scripts/requirements-snowflake.txt (the Snowflake emulator fakesnow and
# Snowflake's Python connector): a venv of its own, as fakesnow pins another
# DuckDB than the test venv's. Sourced by scripts/test.sh; exports
# CLOUDTAB_SNOWFLAKE_PYTHON.
. scripts/venv-lib.sh
cloudtab_venv .venv-snowflake scripts/requirements-snowflake.txt
export CLOUDTAB_SNOWFLAKE_PYTHON="$PWD/.venv-snowflake/bin/python"
