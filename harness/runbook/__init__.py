"""Runbooks: parse, lint, execute, match."""
