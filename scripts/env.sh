# Shared settings for the project's scripts (sourced, not run).
# One target directory outside the clone, reused between runs and clones
# when it exists; created otherwise.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudtab/target}"
mkdir -p "$CARGO_TARGET_DIR"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
