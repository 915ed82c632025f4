#!/usr/bin/env bash
# Installs Xapian 1.4's Python bindings (Debian's python3-xapian) if they
# are missing, for 'faildex bench --peers'. faildex-peers runs its Python
# side (bench/peers/cmd/faildex-peers/xapian_peer.py) with Debian's
# /usr/bin/python3, where the package installs them ($FAILDEX_XAPIAN_PYTHON
# names another interpreter).
set -euo pipefail
PY=${FAILDEX_XAPIAN_PYTHON:-/usr/bin/python3}
if "$PY" -c 'import xapian' >/dev/null 2>&1; then
  echo "Xapian is installed: $("$PY" -c 'import xapian; print(xapian.version_string())') for $PY"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y python3-xapian
"$PY" -c 'import xapian; print("Xapian", xapian.version_string())'
