#!/usr/bin/env bash
# Builds cloudtab, syncs the embedded demo cloud into ./cloudtab-data and
# queries it. No cloud account and no server needed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

# Only what the demo needs: no AWS SDK, no PostgreSQL client (the default
# features, which `cargo install` builds, add them).
cargo build --bin cloudtab --no-default-features --profile quick
bin="$CARGO_TARGET_DIR/quick/cloudtab"
"$bin" sync --source demo --scale 10 --sink ./cloudtab-data
"$bin" query --data ./cloudtab-data \
  "SELECT kind, count(*) AS resources, count(*) FILTER (WHERE tag(tags, 'owner') IS NULL) AS without_owner
   FROM _resources GROUP BY kind ORDER BY resources DESC"
