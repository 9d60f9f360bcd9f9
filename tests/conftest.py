"""Shared pytest set-up: the control-plane fixtures live in tests/controlplane/fixtures.py."""

pytest_plugins = ["tests.controlplane.fixtures"]
