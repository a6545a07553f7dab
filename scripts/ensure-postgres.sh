#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, postgres, pg_ctl, psql)
# and openssl (for the TLS tests' certificates) are on this machine,
# installing Debian's packages when they are missing. Prints the server's
# bin directory. The tests start their own servers from it; nothing is
# started here.
set -euo pipefail

find_bin() {
  if [ -n "${CLOUDTAB_PG_BIN:-}" ] && [ -x "$CLOUDTAB_PG_BIN/initdb" ]; then
    echo "$CLOUDTAB_PG_BIN"; return 0
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && [ -x "$d/psql" ]; then
      echo "$d"; return 0
    fi
  done
  return 1
}

missing=()
find_bin >/dev/null || missing+=(postgresql postgresql-client)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${missing[*]}; install them (apt-get install ${missing[*]}) or set CLOUDTAB_PG_BIN" >&2
    exit 1
  fi
  echo "installing ${missing[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # The package's own cluster is not needed: tests run their own servers.
  mkdir -p /etc/postgresql-common
  grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf \
    || echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >&2
fi
find_bin
