# Shared settings for the project's scripts (sourced, not run).

# Prerequisites, checked before anything is built, with what to do.
cloudtab_need() { # command, what it is for, how to get it
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "error: \`$1\` is missing: $2. $3" >&2
    exit 2
  fi
}
cloudtab_need cargo "cloudtab is built with Rust" "Install Rust from https://rustup.rs (rustup), then open a new shell"
cloudtab_need cc "jemalloc and ring compile C code" "Debian/Ubuntu: apt-get install build-essential; Fedora: dnf install gcc make"
cloudtab_need make "jemalloc's build runs make" "Debian/Ubuntu: apt-get install build-essential; Fedora: dnf install make"
# The locked dependencies need this Rust (Cargo.toml's rust-version).
cloudtab_rust_needed="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
cloudtab_rust_have="$(rustc --version 2>/dev/null | awk '{print $2}')"
if [ -n "$cloudtab_rust_needed" ] && [ "$(printf '%s\n%s\n' "$cloudtab_rust_needed" "${cloudtab_rust_have:-0}" | sort -V | head -n 1)" != "$cloudtab_rust_needed" ]; then
  echo "error: Rust ${cloudtab_rust_have:-(none)} is too old; cloudtab's locked dependencies need Rust $cloudtab_rust_needed or newer. Run: rustup update stable" >&2
  exit 2
fi

# One target directory outside the clone, reused between runs and clones
# when it exists; created otherwise.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudtab/target}"
mkdir -p "$CARGO_TARGET_DIR"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
