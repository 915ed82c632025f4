#!/usr/bin/env bash
# Runs every check faildex must pass: formatting, vet, staticcheck (the
# version pinned in go.mod), the tests (race detector on; browser tests use
# Debian's chromium when installed) and a few seconds of fuzzing of each
# parser.
set -euo pipefail
cd "$(dirname "$0")"

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
go tool staticcheck ./...
go test -race -count=1 -timeout 20m ./...

# Short fuzzing runs; the corpus in testdata/fuzz is replayed by go test above.
# The budget is a count of executions, not a duration: Go 1.26's fuzzing
# coordinator can report a spurious "context deadline exceeded" when a
# duration budget ends while a worker is busy (golang/go#75804).
fuzz() { go test -run='^$' -fuzz="^$2\$" -fuzztime="${FUZZTIME:-3000x}" "$1"; }
fuzz ./index FuzzParseText
fuzz ./index FuzzReadCSV
fuzz ./index FuzzDecodeJSONL
fuzz ./index FuzzDecodeStored
fuzz ./index FuzzTaxonomyRow
fuzz ./index FuzzCut
fuzz ./search FuzzParseQuery
fuzz ./server FuzzBibTeX
