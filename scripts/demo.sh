#!/usr/bin/env bash
# The demo on a fresh machine: installs uv and the locked environment and the Debian packages of
# the real node (root), builds (or reuses) the Kubernetes binaries and the two images, then runs
# scripts/demo.py until Ctrl-C (`--once` stops after one run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
bash devcluster/node-setup.sh
bash devcluster/build.sh >/dev/null
bash scripts/images.sh >/dev/null
# The environment's python itself (not `uv run`), so Ctrl-C reaches one process, once.
PYTHONPATH="$PWD" exec .venv/bin/python scripts/demo.py "$@"
