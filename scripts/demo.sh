#!/usr/bin/env bash
# The demo on a fresh machine: installs uv and the locked environment, builds (or reuses) the
# control-plane binaries, then runs scripts/demo.py until Ctrl-C (`--once` stops after one run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
bash devcluster/build.sh >/dev/null
# The environment's python itself (not `uv run`), so Ctrl-C reaches one process, once.
PYTHONPATH="$PWD" exec .venv/bin/python scripts/demo.py "$@"
