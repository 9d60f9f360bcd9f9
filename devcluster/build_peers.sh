#!/usr/bin/env bash
# Builds the A2A peers that are not the project's own code, each into a cache folder outside git
# keyed by the hash of the files that define it, and reuses a complete folder:
#  - a2ago: an a2a-go v2 agent server (devcluster/go/a2ago), the A2A library of kagent's
#    controller, fronted like that controller;
#  - kagent: a virtual environment with kagent's Python agent runtime (kagent-langgraph), from
#    devcluster/kagent/requirements.txt. It cannot share the project's environment: it needs
#    a2a-sdk 0.3.x where the project uses 1.x.
#  - kagent_adk: the same for kagent's runtime for declarative Agents (kagent-adk, Google ADK),
#    from devcluster/kagent_adk/requirements.txt (its own: its pins differ from kagent-langgraph's).
# Prints "a2ago=<binary>", "kagent=<python>" and "kagent_adk=<python>" as its last three lines.
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

venv() {  # venv <requirements folder> <cache name>: prints the environment's python
    local key out
    key="$(cat "$here/$1/requirements.txt" | sha256sum | cut -c1-16)"
    out="$cache_root/$2/$key"
    if [[ ! -f "$out/.complete" ]]; then
        echo "creating the $1 environment ($(date -u +%H:%M:%S))" >&2
        rm -rf "$out"
        uv venv -q --python 3.11 "$out" >&2
        VIRTUAL_ENV="$out" uv pip install -q --require-hashes -r "$here/$1/requirements.txt" >&2
        touch "$out/.complete"
    fi
    echo "$out/bin/python"
}
kagent="$(venv kagent kagent-venv)"
kagent_adk="$(venv kagent_adk kagent-adk-venv)"

echo "a2ago=$go_out/a2ago"
echo "kagent=$kagent"
echo "kagent_adk=$kagent_adk"
