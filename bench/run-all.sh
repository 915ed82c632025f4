#!/usr/bin/env bash
# Regenerates docs/performance.md's figures: faildex and its peers at 1k,
# 10k, 50k and 100k reports, then the plot. Corpora, indexes, peer
# databases and results are kept in $OUT (default /tmp/faildex-bench;
# about 10 GB at 100k) and reused; results of an earlier run are kept for
# the sizes not run again.
#
#   bench/run-all.sh                  # every size
#   SIZES=1000,10000 bench/run-all.sh # some sizes
#   PEER_SIZES=1000,10000             # sizes at which peers run (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-1000,10000,50000,100000}
PEER_SIZES=${PEER_SIZES:-$SIZES}
OUT=${OUT:-${TMPDIR:-/tmp}/faildex-bench}
mkdir -p "$OUT"
bench/setup-postgres.sh
bench/setup-sphinx.sh
bench/setup-xapian.sh
go build -o "$OUT/faildex" ./cmd/faildex
(cd bench/peers && go build -o "$OUT/faildex-peers" ./cmd/faildex-peers)
for n in ${SIZES//,/ }; do
  peers=""
  case ",$PEER_SIZES," in *",$n,"*) peers="--peers" ;; esac
  "$OUT/faildex" bench --n "$n" $peers --out "$OUT" --reps "${REPS:-200}"
done
"$OUT/faildex" bench --n "" --out "$OUT" --svg docs/performance.svg
