# Socket addresses between Python's (host, port) tuples and the C sockaddr_in6 every table keeps:
# one dual-stack socket per worker, so IPv4 peers are stored IPv4-mapped (::ffff:a.b.c.d).
import socket as _socket

from engine.includes.sockets cimport AF_INET6, htons, ntohs


cdef bytes _V4_MAPPED = b"\x00" * 10 + b"\xff\xff"


cdef int addr_from_python(sockaddr_in6* out, str host, int port) except -1:
    cdef bytes raw
    if not 0 <= port <= 0xFFFF:
        raise ValueError(f"port out of range: {port}")
    try:
        raw = _socket.inet_pton(_socket.AF_INET6, host)
    except OSError:
        try:
            raw = _V4_MAPPED + _socket.inet_pton(_socket.AF_INET, host)
        except OSError:
            raise ValueError(f"not an IP address: {host!r}") from None
    memset(out, 0, sizeof(sockaddr_in6))
    out.sin6_family = AF_INET6
    out.sin6_port = htons(port)
    memcpy(&out.sin6_addr.s6_addr[0], <const char*>raw, 16)
    return 0


cdef tuple addr_to_python(const sockaddr_in6* addr):
    cdef bytes raw = (<const char*>&addr.sin6_addr.s6_addr[0])[:16]
    if raw[:12] == _V4_MAPPED:
        host = _socket.inet_ntop(_socket.AF_INET, raw[12:])
    else:
        host = _socket.inet_ntop(_socket.AF_INET6, raw)
    return (host, ntohs(addr.sin6_port))
