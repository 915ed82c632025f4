#!/usr/bin/env bash
# Installs Sphinx 2.2 (Debian's sphinxsearch: indexer and searchd) if it is
# missing, for 'faildex bench --peers'. faildex-peers builds its own index
# and starts its own searchd (config, pid file, log and data under the
# bench's --out directory, listening on a free port of 127.0.0.1) and stops
# it at the end; nothing here starts a server.
set -euo pipefail
if command -v indexer >/dev/null 2>&1 && command -v searchd >/dev/null 2>&1; then
  echo "Sphinx is installed: $(searchd -h 2>/dev/null | head -1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y sphinxsearch
# Debian's package may start a searchd of its own; the benchmark does not use it.
$SUDO service sphinxsearch stop >/dev/null 2>&1 || true
searchd -h 2>/dev/null | head -1
