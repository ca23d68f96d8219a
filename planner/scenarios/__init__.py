"""Scenarios: the YAML spec, how a scenario changes the feeds and the network, run-time model."""
