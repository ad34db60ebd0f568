"""Podium side by side with Janus (VideoRoom) under the same meeting load: see bench.peer_sfu.run."""
