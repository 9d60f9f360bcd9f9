#!/usr/bin/env bash
# Debian's headless Chromium for the UI tests (tests/e2e/test_ui.py drive it with Playwright's
# Python client; Playwright's own browser download is not used). A no-op when it is installed.
# Prints the browser's path on its last line.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "chromium is missing: run as root or apt-get install chromium chromium-driver" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >&2
fi
command -v chromium
