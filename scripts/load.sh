#!/usr/bin/env bash
# Load test: builds faildex, indexes the real reports plus a synthetic corpus,
# starts `faildex serve` on 127.0.0.1 under a memory limit, then runs
# `faildex load` twice against it: plain, and with an index reload every few
# seconds. Every request goes to the loopback interface; each run is bounded
# by --duration. Prints both reports (JSON with --json).
#
#   scripts/load.sh [--n 5000] [--duration 60s] [--clients 50] [--memlimit 256MiB] [--json]
set -euo pipefail
cd "$(dirname "$0")/.."

n=5000 duration=60s clients=50 memlimit=256MiB reload=3s json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --memlimit) memlimit=$2; shift 2 ;;
    --reload-every) reload=$2; shift 2 ;;
    --json) json=--json; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill -INT "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/faildex" ./cmd/faildex
paths=(data)
[ -d ../shared/data/seeds ] && paths+=(../shared/data/seeds ../shared/data/fail/incident_data.csv)
if [ "$n" -gt 0 ]; then
  "$work/faildex" gen --n "$n" --corpus data --out "$work/gen" 2>/dev/null
  paths+=("$work/gen")
fi
"$work/faildex" index --index "$work/ix" "${paths[@]}" 2>"$work/index.log" || { tail -3 "$work/index.log"; exit 1; }
grep -o '"message":"[0-9]* indexed, [0-9]* rejected"' "$work/index.log" | tail -1

token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
GOMEMLIMIT=$memlimit FAILDEX_ADMIN_TOKEN=$token "$work/faildex" serve --index "$work/ix" --addr 127.0.0.1:0 2>"$work/serve.log" &
server=$!
url=""
for _ in $(seq 600); do
  url=$(grep -o '"url":"http://127.0.0.1:[0-9]*"' "$work/serve.log" | head -1 | cut -d'"' -f4 || true)
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "serve did not start" >&2; exit 1; }
echo "serving $url (pid $server, GOMEMLIMIT=$memlimit)"

echo "== load: $clients clients, $duration, 10% pathological"
"$work/faildex" load --url "$url" --clients "$clients" --duration "$duration" --pathological 0.1 --pid "$server" $json
echo "== load with a reload every $reload"
FAILDEX_ADMIN_TOKEN=$token "$work/faildex" load --url "$url" --clients "$clients" --duration "$duration" \
  --pathological 0.1 --reload-every "$reload" --pid "$server" $json

if ! kill -0 "$server" 2>/dev/null; then echo "the server died" >&2; exit 1; fi
echo "server errors logged: $(grep -c '"level":"error"' "$work/serve.log" || true)"
