#!/usr/bin/env bash
# Throughput of replicas behind HAProxy, as reported in docs/deploy.md:
# builds faildex, indexes the bundled corpus plus N synthetic reports,
# packs the index into an artifact directory, then for 1, 2 and 3 replicas
# (`faildex serve --index-from`) behind Debian's HAProxy runs `faildex load`
# through the proxy, and once against one replica directly. Everything
# listens on 127.0.0.1; each run is bounded by --duration. The correctness
# test of the same set-up (publications, a damaged artifact, SIGKILL) is
# e2e/replicas_test.go.
#
#   scripts/replicas.sh [--n 10000] [--duration 20s] [--clients 16] [--index DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

n=10000 duration=20s clients=16 index=""
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --index) index=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v haproxy >/dev/null || { echo "haproxy is not installed (apt-get install haproxy)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/faildex" ./cmd/faildex
fx="$work/faildex"
if [ -z "$index" ]; then
  index="$work/writer"
  paths=(data)
  if [ "$n" -gt 0 ]; then
    "$fx" gen --n "$n" --corpus data --out "$work/gen" 2>/dev/null
    paths+=("$work/gen")
  fi
  "$fx" index --index "$index" "${paths[@]}" 2>"$work/index.log" || { tail -3 "$work/index.log"; exit 1; }
fi
start=$(date +%s.%N)
"$fx" pack --index "$index" --out "$work/artifacts/" >/dev/null 2>&1
echo "pack: $(ls -l "$work"/artifacts/faildex-*.tar | awk '{print $5}') bytes in $(echo "$(date +%s.%N) - $start" | bc) s"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ports=()
for i in 1 2 3; do
  p=$(port); ports+=("$p")
  start=$(date +%s.%N)
  "$fx" serve --index-from "$work/artifacts/latest.sha256" --index "$work/replica$i" --addr "127.0.0.1:$p" \
    --drain 1s 2>"$work/replica$i.log" &
  pids+=($!)
  until curl -sf "http://127.0.0.1:$p/readyz" >/dev/null; do sleep 0.05; done
  echo "replica $i ready (unpacked and opened) in $(echo "$(date +%s.%N) - $start" | bc) s"
done

front=$(port)
report() { python3 -c 'import json,sys; r=json.load(sys.stdin); print("%6.0f req/s  p50 %6.1f ms  p99 %6.1f ms  errors %d" % (r["requests_per_s"], r["p50_ms"], r["p99_ms"], r["errors"]))'; }
for k in 1 2 3; do
  {
    printf 'global\n    maxconn 4000\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\n'
    printf '    retries 3\n    option redispatch 1\n    retry-on conn-failure empty-response\n    default-server inter 1s fall 2 rise 2\n'
    printf 'frontend faildex\n    bind 127.0.0.1:%s\n    default_backend replicas\n' "$front"
    printf 'backend replicas\n    balance leastconn\n    option httpchk\n    http-check send meth GET uri /readyz\n'
    for i in $(seq 1 "$k"); do printf '    server r%s 127.0.0.1:%s check\n' "$i" "${ports[$((i-1))]}"; done
  } >"$work/haproxy.cfg"
  haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  hp=$!
  until curl -sf "http://127.0.0.1:$front/readyz" >/dev/null; do sleep 0.05; done
  printf '%s replica(s) behind HAProxy: ' "$k"
  "$fx" load --url "http://127.0.0.1:$front" --clients "$clients" --duration "$duration" --pathological 0 --json | report
  kill "$hp"; wait "$hp" 2>/dev/null || true
done
printf '1 replica, direct:             '
"$fx" load --url "http://127.0.0.1:${ports[0]}" --clients "$clients" --duration "$duration" --pathological 0 --json | report
