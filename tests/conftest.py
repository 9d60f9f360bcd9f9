"""Shared pytest set-up: the development cluster's fixtures live in tests/fixtures.py."""

pytest_plugins = ["tests.fixtures"]
