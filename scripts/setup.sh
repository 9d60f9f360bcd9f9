#!/usr/bin/env bash
# Shared first steps of the README's two commands, sourced by them: uv and the locked
# environment. Installing nothing else: the machine has Python 3.11, Go and kubectl.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
fi
uv sync --frozen --extra operator --extra server
