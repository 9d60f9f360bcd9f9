"""Placeholder until the control-plane fixtures land."""
