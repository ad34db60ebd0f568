# cython: language_level=3
"""The engine's fast path: batched UDP I/O, packet views, the forwarding table, rewrite, SRTP.

Split into included files, one concept each; this module only stitches them together.
"""

include "packet.pxi"
