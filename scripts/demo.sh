#!/usr/bin/env bash
# The demo on a fresh machine: installs uv and the locked environment, builds (or reuses) the
# control-plane binaries, then runs scripts/demo.py until Ctrl-C (`--once` stops after one run).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
fi
uv sync --frozen --extra operator
bash tests/controlplane/build.sh >/dev/null
PYTHONPATH="$PWD" exec uv run --frozen python scripts/demo.py "$@"
