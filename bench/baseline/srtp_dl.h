/* libsrtp 2.x for the benchmark's C programs, reached with dlopen/dlsym in the copy the engine uses.
 *
 * pylibsrtp's cffi extension exports libsrtp's functions (nm -D shows srtp_create, srtp_protect...).
 * It is a Python extension, so it references a few CPython symbols: the functions are bound lazily
 * and never called, but one data symbol, _Py_NoneStruct, must resolve when it is loaded: a program
 * including this header defines a placeholder and exports it (linked with -rdynamic, see build.py).
 * Declared here as engine/includes/srtp.pxd declares them. */
#ifndef PODIUM_BENCH_SRTP_DL_H
#define PODIUM_BENCH_SRTP_DL_H

#include <dlfcn.h>

__attribute__((visibility("default"))) void *_Py_NoneStruct[2];

typedef struct {
    uint32_t cipher_type;
    int cipher_key_len;
    uint32_t auth_type;
    int auth_key_len;
    int auth_tag_len;
    int sec_serv;
} srtp_crypto_policy_t;

typedef struct srtp_policy {
    struct { int type; uint32_t value; } ssrc;
    srtp_crypto_policy_t rtp;
    srtp_crypto_policy_t rtcp;
    unsigned char *key;
    void **keys;
    unsigned long num_master_keys;
    void *deprecated_ekt;
    unsigned long window_size;
    int allow_repeat_tx;
    int *enc_xtn_hdr;
    int enc_xtn_hdr_count;
    struct srtp_policy *next;
} srtp_policy_t;
_Static_assert(sizeof(srtp_policy_t) == 128, "srtp_policy_t of libsrtp 2.x on LP64");

enum { SSRC_ANY_INBOUND = 2, SSRC_ANY_OUTBOUND = 3 };
#define SRTP_MAX_TRAILER 16 /* GCM's tag: the longest of the profiles used, no MKI */

typedef int (*srtp_init_f)(void);
typedef int (*srtp_create_f)(void **session, const srtp_policy_t *policy);
typedef int (*srtp_crypt_f)(void *session, void *rtp, int *len);
typedef int (*srtp_policy_f)(srtp_crypto_policy_t *policy, int profile);

static struct {
    void *library;
    srtp_create_f create;
    srtp_policy_f rtp_policy, rtcp_policy;
    srtp_crypt_f protect, unprotect, protect_rtcp, unprotect_rtcp;
} srtp_dl;

static void *srtp_symbol(const char *name) {
    void *f = dlsym(srtp_dl.library, name);
    if (!f) {
        fprintf(stderr, "%s not found in the libsrtp library: %s\n", name, dlerror());
        exit(2);
    }
    return f;
}

/* Loads libsrtp from `path` (pylibsrtp's extension) and initialises it. */
static void srtp_dl_load(const char *path) {
    srtp_dl.library = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    if (!srtp_dl.library) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        exit(2);
    }
    srtp_dl.create = (srtp_create_f)srtp_symbol("srtp_create");
    srtp_dl.rtp_policy = (srtp_policy_f)srtp_symbol("srtp_crypto_policy_set_from_profile_for_rtp");
    srtp_dl.rtcp_policy = (srtp_policy_f)srtp_symbol("srtp_crypto_policy_set_from_profile_for_rtcp");
    srtp_dl.protect = (srtp_crypt_f)srtp_symbol("srtp_protect");
    srtp_dl.unprotect = (srtp_crypt_f)srtp_symbol("srtp_unprotect");
    srtp_dl.protect_rtcp = (srtp_crypt_f)srtp_symbol("srtp_protect_rtcp");
    srtp_dl.unprotect_rtcp = (srtp_crypt_f)srtp_symbol("srtp_unprotect_rtcp");
    if (((srtp_init_f)srtp_symbol("srtp_init"))()) {
        fprintf(stderr, "srtp_init failed\n");
        exit(2);
    }
}

static int srtp_hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A session of `profile` (RFC 5764 numbering, as libsrtp's) for any SSRC in one direction
 * (SSRC_ANY_INBOUND or SSRC_ANY_OUTBOUND), keyed with master key ‖ salt `key_hex`; exits on error. */
static void *srtp_dl_session(int profile, const char *key_hex, int direction) {
    unsigned char *key = calloc(64, 1); /* libsrtp keeps no pointer to it, but keep it simple: leaked once */
    size_t n = strlen(key_hex) / 2;
    if (!key || n == 0 || n > 64 || strlen(key_hex) % 2) {
        fprintf(stderr, "an SRTP key must be 1..64 bytes in hex\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        int hi = srtp_hex_value(key_hex[2 * i]), lo = srtp_hex_value(key_hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "an SRTP key is not hex\n");
            exit(2);
        }
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    int status = srtp_dl.rtp_policy(&policy.rtp, profile);
    if (!status) status = srtp_dl.rtcp_policy(&policy.rtcp, profile);
    if (!status && policy.rtp.auth_tag_len > SRTP_MAX_TRAILER) status = -1;
    policy.ssrc.type = direction;
    policy.key = key;
    policy.window_size = 1024;
    policy.allow_repeat_tx = 1;
    void *session = NULL;
    if (!status) status = srtp_dl.create(&session, &policy);
    if (status) {
        fprintf(stderr, "libsrtp refused profile %d (status %d)\n", profile, status);
        exit(2);
    }
    return session;
}

#endif
