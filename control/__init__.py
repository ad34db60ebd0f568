"""Podium's control plane."""
