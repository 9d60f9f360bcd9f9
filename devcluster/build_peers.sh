#!/usr/bin/env bash
# Builds the A2A peers that are not the project's own code, each into a cache folder outside git
# keyed by the hash of the files that define it, and reuses a complete folder:
#  - a2ago: an a2a-go v2 agent server (devcluster/go/a2ago), the A2A library of kagent's
#    controller, fronted like that controller;
#  - kagent: a virtual environment with kagent's Python agent runtime (kagent-langgraph), from
#    devcluster/kagent/requirements.txt. It cannot share the project's environment: it needs
#    a2a-sdk 0.3.x where the project uses 1.x.
# Prints "a2ago=<binary>" and "kagent=<python>" as its last two lines.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${SCHEDULEDRUN_BIN_CACHE:-$HOME/.cache/kagent-scheduledrun}"
mkdir -p "$cache_root"
exec 9>"$cache_root/.peers.lock"
flock 9  # one build at a time on this machine; a second caller waits, then reuses

go_key="$(cd "$here/go/a2ago" && cat go.mod go.sum main.go | sha256sum | cut -c1-16)"
go_out="$cache_root/a2ago/$go_key"
if [[ ! -f "$go_out/.complete" ]]; then
    echo "building a2ago ($(date -u +%H:%M:%S))" >&2
    mkdir -p "$go_out"
    (cd "$here/go/a2ago" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" \
        go build -trimpath -ldflags "-s -w" -o "$go_out/a2ago" .) >&2
    touch "$go_out/.complete"
fi

py_key="$(cat "$here/kagent/requirements.txt" | sha256sum | cut -c1-16)"
py_out="$cache_root/kagent-venv/$py_key"
if [[ ! -f "$py_out/.complete" ]]; then
    echo "creating kagent's runtime environment ($(date -u +%H:%M:%S))" >&2
    rm -rf "$py_out"
    uv venv -q --python 3.11 "$py_out" >&2
    VIRTUAL_ENV="$py_out" uv pip install -q --require-hashes -r "$here/kagent/requirements.txt" >&2
    touch "$py_out/.complete"
fi

echo "a2ago=$go_out/a2ago"
echo "kagent=$py_out/bin/python"
