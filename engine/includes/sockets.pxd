# Linux datagram socket API used by the fast path: batched I/O and IPv6 addresses.
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from posix.uio cimport iovec


cdef extern from "<errno.h>" nogil:
    int errno
    enum:
        EAGAIN
        EWOULDBLOCK
        EINTR
        EIO
        EINVAL


cdef extern from "<sys/socket.h>" nogil:
    ctypedef unsigned int socklen_t
    ctypedef unsigned short sa_family_t

    struct sockaddr:
        sa_family_t sa_family

    struct msghdr:
        void* msg_name
        socklen_t msg_namelen
        iovec* msg_iov
        size_t msg_iovlen
        void* msg_control
        size_t msg_controllen
        int msg_flags

    struct mmsghdr:
        msghdr msg_hdr
        unsigned int msg_len

    enum:
        AF_INET
        AF_INET6
        MSG_DONTWAIT
        MSG_TRUNC

    struct cmsghdr:
        size_t cmsg_len
        int cmsg_level
        int cmsg_type

    size_t CMSG_SPACE(size_t length)
    size_t CMSG_LEN(size_t length)
    cmsghdr* CMSG_FIRSTHDR(msghdr* msg)
    unsigned char* CMSG_DATA(cmsghdr* cmsg)

    int recvmmsg(int fd, mmsghdr* msgvec, unsigned int vlen, int flags, void* timeout)
    int sendmmsg(int fd, mmsghdr* msgvec, unsigned int vlen, int flags)
    ssize_t sendmsg(int fd, const msghdr* msg, int flags)
    int getsockopt(int fd, int level, int name, void* value, socklen_t* length)
    ssize_t sendto(int fd, const void* buf, size_t length, int flags,
                   const sockaddr* dest, socklen_t dest_len)


cdef extern from "<netinet/in.h>" nogil:
    struct in6_addr:
        uint8_t s6_addr[16]

    struct sockaddr_in6:
        sa_family_t sin6_family
        uint16_t sin6_port          # network byte order
        uint32_t sin6_flowinfo
        in6_addr sin6_addr
        uint32_t sin6_scope_id

    uint16_t htons(uint16_t)
    uint16_t ntohs(uint16_t)
    uint32_t htonl(uint32_t)
    uint32_t ntohl(uint32_t)


# UDP generic segmentation offload (Linux 4.18, <linux/udp.h>): one sendmsg carries several equal-size
# datagrams to one destination; the kernel (or the NIC) cuts them apart.
cdef enum:
    SOL_UDP = 17
    UDP_SEGMENT = 103
