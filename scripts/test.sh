#!/usr/bin/env bash
# Runs every check and test from a fresh machine: installs uv and the locked environment, the
# Debian packages of the real node and the image build (root), builds (or reuses) the local
# Kubernetes binaries and the two images, installs Debian's Chromium (for the UI tests) if
# missing, then lint, types (mypy, and tsc for the web UI: Node.js 20 and npm are needed) and
# pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== ruff"
uv run --frozen ruff check .
uv run --frozen ruff format --check .
echo "== mypy --strict"
uv run --frozen mypy

echo "== tsc: the web UI's modules (TypeScript pinned by package-lock.json; nothing is built)"
npm ci --no-audit --no-fund --loglevel=error
npx --no-install tsc --project tsconfig.json

echo "== node packages (containerd, runc, CNI plugins, nftables, buildah, debootstrap)"
bash devcluster/node-setup.sh

echo "== control plane binaries"
bash devcluster/build.sh

echo "== headless Chromium for the UI tests (Debian's package)"
bash devcluster/browser.sh

echo "== promtool (the chart's alerts and dashboard queries)"
bash devcluster/build_promtool.sh

echo "== A2A peers (kagent-langgraph and kagent-adk environments, a2a-go v2 server)"
bash devcluster/build_peers.sh

echo "== images"
bash scripts/images.sh

echo "== pytest"
uv run --frozen pytest -q -p no:cacheprovider "$@"
