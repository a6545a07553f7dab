# cloudtab_venv DIR REQUIREMENTS: makes the Python venv DIR with the pinned
# packages of REQUIREMENTS when missing or out of date. A venv that exists
# but cannot run pip (made without ensurepip, or by a Python that has since
# gone) is made again. Sourced by scripts/venv*.sh.
cloudtab_venv() {
  local dir="$1" req="$2"
  if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 is missing; the tests need Python 3.9 or newer with its venv module (Debian: apt-get install python3 python3-venv)" >&2
    exit 2
  fi
  if [ -d "$dir" ] && ! "$dir/bin/python" -m pip --version >/dev/null 2>&1; then
    echo "scripts/venv.sh: ./$dir has no working pip; making it again" >&2
    rm -rf "$dir"
  fi
  if [ ! -x "$dir/bin/python" ]; then
    if ! python3 -m venv "$dir"; then
      rm -rf "$dir"
      echo "error: python3 cannot make a virtual environment; install its venv module (Debian: apt-get install python3-venv)" >&2
      exit 2
    fi
  fi
  if ! cmp -s "$req" "$dir/.installed" 2>/dev/null; then
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$dir/.installed"
  fi
}
