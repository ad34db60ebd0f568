"""Podium's media engine: Engine (a worker), Router, Transport, Producer, Consumer."""
