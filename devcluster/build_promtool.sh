#!/usr/bin/env bash
# Builds Prometheus' promtool (checks and unit-tests the chart's alerting rules and the dashboard's
# queries) from the Go module pinned under go/promtool, into a cache folder outside git keyed by
# that module's go.mod/go.sum, apart from build.sh's binaries so that neither rebuilds the other.
# Reuses a complete folder. Prints the path of the promtool binary as its last line of output.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${SCHEDULEDRUN_BIN_CACHE:-$HOME/.cache/kagent-scheduledrun}/promtool"
recipe="recipe-1"
key="$(cd "$here/go/promtool" && { echo "$recipe"; cat go.mod go.sum; } | sha256sum | cut -c1-16)"
out="$cache_root/$key"

if [[ -f "$out/.complete" ]]; then
    echo "$out/promtool"
    exit 0
fi

export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
version="$(cd "$here/go/promtool" && go list -m -f '{{.Version}}' github.com/prometheus/prometheus)"
mkdir -p "$cache_root"
work="$(mktemp -d "$cache_root/.building-$key-XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
echo "building promtool $version ($(date -u +%H:%M:%S))" >&2
# The version ldflags are those of Prometheus' own build (promtool --version prints them).
(cd "$here/go/promtool" && go build -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=${version#v}" \
    -o "$work/promtool" github.com/prometheus/prometheus/cmd/promtool) >&2
echo "built in $(( $(date +%s) - start ))s" >&2
touch "$work/.complete"
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
echo "$out/promtool"
