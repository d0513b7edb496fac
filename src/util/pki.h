/* The platform's PKI (OpenSSL 3): a private certificate authority that
 * issues the units' client certificates and the daemon's server
 * certificates, revokes units through a CRL, and builds the TLS 1.3
 * contexts of both ends of the device link.
 *
 * A PKI is a directory (default VG_PKI_DEFAULT_DIR):
 *
 *   ca.key  ca.crt  crl.pem  index.txt
 *   units/SERIAL.key  units/SERIAL.crt
 *   servers/NAME.key  servers/NAME.crt
 *
 * Keys are written with mode 0600, atomically, and never overwritten.
 * index.txt lists what was issued, one certificate a line (see pki.c).
 * Operations that change the directory take an exclusive lock on it, so
 * two `vigie pki` commands cannot interleave.
 *
 * Errors: every function returns 0 or a negative enum vg_err
 * (core/err.h) and writes a readable reason into err/err_len (which may be
 * NULL/0 when the caller does not want it). Strings passed in are borrowed.
 *
 * The unit's identity on the device link is the CN of its verified
 * certificate (vg_pki_peer_cn), never a field the unit sends. */
#ifndef VG_UTIL_PKI_H
#define VG_UTIL_PKI_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define VG_PKI_DEFAULT_DIR "./var/pki"
/* Longest unit serial or server name; buffers for one need +1. */
#define VG_PKI_NAME_MAX 64
/* Longest certificate serial number in hex (128 bits) and its NUL. */
#define VG_PKI_CERT_SERIAL_LEN 33
/* Validity periods and the CRL's lifetime, in days. */
#define VG_PKI_CA_DAYS     3653
#define VG_PKI_UNIT_DAYS   1096
#define VG_PKI_SERVER_DAYS 731
#define VG_PKI_CRL_DAYS    30

enum vg_pki_kind {
    VG_PKI_UNIT = 1,
    VG_PKI_SERVER = 2,
};

/* One line of the index. Times are UTC seconds since the epoch. */
struct vg_pki_entry {
    enum vg_pki_kind kind;
    char name[VG_PKI_NAME_MAX + 1];           /* unit serial or server name = the CN */
    char cert_serial[VG_PKI_CERT_SERIAL_LEN]; /* lower-case hex */
    int64_t not_after;
    int64_t revoked_at; /* 0: not revoked */
};

/* 1 if name is a valid unit serial or server name: 1 to VG_PKI_NAME_MAX
 * characters of [A-Za-z0-9._-], not starting with '.' or '-'. Checked by
 * every function below before a path is built from it. */
int vg_pki_name_valid(const char *name);

/* "unit" / "server". */
const char *vg_pki_kind_name(enum vg_pki_kind kind);

/* Create a CA in dir (created if missing, with units/ and servers/): key,
 * self-signed certificate (CN ca_name; NULL: "Vigie CA"), an empty CRL and
 * an empty index. VG_EDUPLICATE if dir already holds a CA. */
int vg_pki_init(const char *dir, const char *ca_name, char *err, size_t err_len);

/* Issue a client certificate for unit `serial` (CN = serial, EKU
 * clientAuth) into units/; its index entry goes to *issued (may be NULL).
 * VG_EINVAL for a bad serial, VG_EDUPLICATE if the unit already has a key,
 * a certificate or an unrevoked index entry, VG_ENOTFOUND if there is no
 * CA. Nothing is left behind on failure. */
int vg_pki_issue_unit(const char *dir, const char *serial, struct vg_pki_entry *issued, char *err,
                      size_t err_len);

/* Issue a server certificate for `name` (CN = name, EKU serverAuth) into
 * servers/. The SANs are name (DNS, or IP when it parses as an address)
 * and each of sans[0..n_sans) (a DNS name of the same alphabet, or an IPv4
 * or IPv6 address), e.g. "localhost", "127.0.0.1". Errors as issue_unit. */
int vg_pki_issue_server(const char *dir, const char *name, const char *const *sans, size_t n_sans,
                        struct vg_pki_entry *issued, char *err, size_t err_len);

/* Revoke the certificate(s) of unit `serial` and re-sign the CRL. The
 * unit's files stay (they are evidence); the index records the time.
 * VG_ENOTFOUND if no certificate was issued to it, VG_ESTATE if all of
 * them are already revoked. */
int vg_pki_revoke(const char *dir, const char *serial, char *err, size_t err_len);

/* Re-sign the CRL with the same revocations, lastUpdate now and
 * nextUpdate in VG_PKI_CRL_DAYS. Must run before the current CRL's
 * nextUpdate, or every unit is refused. next_update (may be NULL)
 * receives the new nextUpdate. */
int vg_pki_crl_refresh(const char *dir, int64_t *next_update, char *err, size_t err_len);

/* Call fn for each index entry, in the index's order (oldest first); a
 * non-zero return from fn stops the walk and is returned. The entry is
 * valid during the call only. */
int vg_pki_list(const char *dir, int (*fn)(const struct vg_pki_entry *entry, void *arg), void *arg,
                char *err, size_t err_len);

/* nextUpdate and lastUpdate of a CRL file (either may be NULL), e.g. for
 * the daemon to warn before it lapses. */
int vg_pki_crl_times(const char *crl_file, int64_t *last_update, int64_t *next_update, char *err,
                     size_t err_len);

/* --- TLS contexts ---------------------------------------------------- */

/* Files of one end of the device link (borrowed). */
struct vg_pki_tls_files {
    const char *ca_cert; /* the trust anchor: ca.crt */
    const char *crl;     /* the server's CRL (crl.pem); ignored by the client */
    const char *cert;    /* this end's certificate */
    const char *key;     /* and its key */
};

/* The gateway's context: TLS 1.3 only, this server's certificate and key,
 * a client certificate REQUIRED and verified against the CA for client
 * use, with the CRL checked; no session resumption (a resumed session
 * would skip the CRL). *out is owned by the caller (SSL_CTX_free). */
int vg_pki_server_ctx_new_files(SSL_CTX **out, const struct vg_pki_tls_files *files, char *err,
                                size_t err_len);
/* The same from a PKI directory: servers/NAME.{crt,key}, ca.crt, crl.pem. */
int vg_pki_server_ctx_new(SSL_CTX **out, const char *dir, const char *name, char *err,
                          size_t err_len);

/* Replace the CRL that ctx (from vg_pki_server_ctx_new*) checks against
 * by the one in crl_file; connections accepted afterwards use it. The new
 * CRL must be signed by the context's CA and not older than the current
 * one; on any failure the old CRL stays in force. Call it from the thread
 * that runs the handshakes (the daemon: on SIGHUP, in its event loop). */
int vg_pki_server_ctx_reload_crl(SSL_CTX *ctx, const char *crl_file, char *err, size_t err_len);

/* A unit's context: TLS 1.3 only, its certificate and key, the server
 * verified against the CA for server use; when host is not NULL the
 * server's certificate must also carry it as a SAN (DNS or IP).
 * files->crl is ignored. *out is owned by the caller. */
int vg_pki_client_ctx_new_files(SSL_CTX **out, const struct vg_pki_tls_files *files,
                                const char *host, char *err, size_t err_len);
/* The same from a PKI directory: units/SERIAL.{crt,key} and ca.crt
 * (tests, the simulator, the benchmarks). */
int vg_pki_client_ctx_new(SSL_CTX **out, const char *dir, const char *serial, const char *host,
                          char *err, size_t err_len);

/* The CN of the peer's certificate on an established connection: the
 * unit's serial, on the gateway. VG_ESTATE if there is no peer
 * certificate or it did not verify, VG_EFORMAT if its CN is missing,
 * repeated or not a valid name, VG_ENOSPC if cap is too small. */
int vg_pki_peer_cn(SSL *ssl, char *out, size_t cap);

#endif
