"""The contract between the control plane and its engine workers: the engine channel's framing,
handshake, typed table operations, acknowledgements and the replicated table; and the dominant-speaker
detector both ends run (a worker over its routers, the control plane over a meeting spanning workers).

Both ends import it, and it imports only the standard library, so the control plane runs on a host
with no built engine. No I/O and no clock here. The wire format is described in
docs/engine-channel.md.
"""
