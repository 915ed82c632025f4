#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages if it is missing, for
# 'faildex bench --peers'. faildex-peers starts its own throwaway cluster
# (initdb and pg_ctl in a temporary directory, on 127.0.0.1, as the postgres
# user when run as root); nothing here starts a server.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "PostgreSQL is installed: $(ls -d /usr/lib/postgresql/*/bin | tail -1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
# Debian starts a cluster of its own on install; the benchmark does not use it.
$SUDO service postgresql stop >/dev/null 2>&1 || true
ls -d /usr/lib/postgresql/*/bin
