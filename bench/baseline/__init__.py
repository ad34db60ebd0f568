"""Baselines the engine is measured against, and the C load generator and sink that drive them."""
