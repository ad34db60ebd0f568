"""The `podium` command: one entry point for the control plane and engine workers."""
