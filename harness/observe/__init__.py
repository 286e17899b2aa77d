"""Observation during a drill: health probes and synthetic users in the background, verdicts computed afterwards."""
