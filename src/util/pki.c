/* The platform's PKI over OpenSSL 3 (EVP_PKEY, X509, X509_CRL; no
 * deprecated low-level API). See pki.h for the contract.
 *
 * Choices, and why:
 * - ECDSA P-256 keys: supported by every TLS 1.3 stack (the units' too),
 *   small certificates and fast handshakes on the units' modest CPUs, no
 *   parameters to get wrong. Ed25519 would do but is less widely accepted
 *   in TLS certificates by embedded stacks.
 * - SHA-256 signatures: the standard pairing with P-256 (ecdsa_secp256r1_sha256).
 * - Certificate serial numbers: 126 random bits with the top bits fixed
 *   (positive, always 16 bytes): unpredictable (defeats chosen-prefix
 *   attacks on the signature), and no counter to keep consistent between
 *   sites or after a restore from backup.
 * - CA 10 years: it is kept offline and used rarely; renewing it means
 *   re-issuing every certificate, so it outlives the units' hardware.
 * - Units 3 years: about the life of a unit's battery and hardware, and
 *   short enough that a lost unit's certificate dies on its own.
 * - Servers 2 years: the server is online and exposed; renewing it is one
 *   command on the centre's side.
 * - CRL v2 with nextUpdate 30 days: a unit is refused as soon as the
 *   daemon reloads the CRL; the 30 days only bound how long a stale CRL
 *   (one nobody refreshed) stays acceptable, after which every handshake
 *   fails loudly rather than silently accepting revoked units.
 * - notBefore one hour in the past: tolerates a clock a little behind on
 *   either end without weakening anything that matters.
 *
 * The index (index.txt) is the source of truth for revocations: the CRL
 * is always rebuilt from it, so revoke writes the index first and the CRL
 * second (a crash in between is repaired by the next refresh). Lines:
 *
 *   KIND NAME CERT_SERIAL_HEX NOT_AFTER REVOKED_AT
 *   unit VG-0001 5f0c...e1 2028-05-01T12:00:00Z -
 *
 * with times in UTC (ISO 8601) and '-' for "not revoked". */
#include "util/pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/err.h"

#define PATH_CAP         4096
#define INDEX_MAX_BYTES  (256L * 1024 * 1024)
#define BACKDATE_SECONDS 3600L
#define DNS_NAME_MAX     253
#define DEFAULT_CA_NAME  "Vigie CA"
#define INDEX_HEADER     "# vigie pki index v1\n# kind name cert_serial not_after revoked_at\n"

/* --- errors ----------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t err_len, int rc,
                                                      const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* fail() followed by OpenSSL's reason for the last error, whose queue is
 * then cleared so that it does not leak into an unrelated later report. */
__attribute__((format(printf, 4, 5))) static int fail_ssl(char *err, size_t err_len, int rc,
                                                          const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    unsigned long code = ERR_peek_last_error();
    char reason[256] = "no detail from OpenSSL";
    if (code) {
        const char *r = ERR_reason_error_string(code);
        if (r)
            snprintf(reason, sizeof reason, "%s", r);
        else
            ERR_error_string_n(code, reason, sizeof reason);
    }
    ERR_clear_error();
    return fail(err, err_len, rc, "%s: %s", what, reason);
}

/* --- names and paths -------------------------------------------------- */

static int name_char_ok(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

/* The file-name alphabet: no '/', no leading '.' (so no "..", no hidden
 * files), no leading '-' (no option look-alikes on command lines). */
static int word_ok(const char *s, size_t max)
{
    if (!s || !s[0] || s[0] == '.' || s[0] == '-')
        return 0;
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || !name_char_ok(s[n]))
            return 0;
    return 1;
}

int vg_pki_name_valid(const char *name)
{
    return word_ok(name, VG_PKI_NAME_MAX);
}

const char *vg_pki_kind_name(enum vg_pki_kind kind)
{
    switch (kind) {
    case VG_PKI_UNIT: return "unit";
    case VG_PKI_SERVER: return "server";
    }
    return "?";
}

/* dir/sub/name+ext, or dir/name+ext when sub is NULL. */
static int path_of(char *out, const char *dir, const char *sub, const char *name, const char *ext,
                   char *err, size_t err_len)
{
    int n = sub ? snprintf(out, PATH_CAP, "%s/%s/%s%s", dir, sub, name, ext)
                : snprintf(out, PATH_CAP, "%s/%s%s", dir, name, ext);
    if (n < 0 || n >= PATH_CAP)
        return fail(err, err_len, VG_ERANGE, "path too long under %s", dir);
    return VG_OK;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 || errno != ENOENT;
}

/* --- time --------------------------------------------------------------- */

static int asn1_to_epoch(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    *out = (int64_t)timegm(&tm);
    return 1;
}

static void format_time(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "?");
}

static int parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &used) != 6 ||
        s[used] != '\0')
        return 0;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return 1;
}

/* --- files -------------------------------------------------------------- */

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write a file atomically: a temporary file in the same directory (created
 * 0600 by mkstemp, so a key is never readable by others even for an
 * instant), fsync, then rename over the old one (replace) or link to the
 * new name, which fails if it exists (keys and certificates are never
 * overwritten), and fsync the directory so the name survives a crash. */
static int write_file(const char *path, const void *data, size_t len, mode_t mode, int replace,
                      char *err, size_t err_len)
{
    char dir[PATH_CAP], tmp[PATH_CAP];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int n = snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, base);
    if (n < 0 || n >= (int)sizeof tmp)
        return fail(err, err_len, VG_ERANGE, "path too long: %s", path);

    int fd = mkstemp(tmp);
    if (fd < 0)
        return fail(err, err_len, VG_ESTATE, "cannot create a file in %s: %s", dir,
                    strerror(errno));
    const char *what = "write";
    if (fchmod(fd, mode) != 0) {
        what = "chmod";
        goto fail_fd;
    }
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            goto fail_fd;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        what = "fsync";
        goto fail_fd;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto fail_fd;
    }
    if (replace) {
        if (rename(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            return fail(err, err_len, VG_ESTATE, "cannot rename to %s: %s", path, strerror(e));
        }
    } else {
        if (link(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            if (e == EEXIST)
                return fail(err, err_len, VG_EDUPLICATE, "%s already exists", path);
            return fail(err, err_len, VG_ESTATE, "cannot create %s: %s", path, strerror(e));
        }
        unlink(tmp);
    }
    if (fsync_dir(dir) != 0)
        return fail(err, err_len, VG_ESTATE, "cannot fsync %s: %s", dir, strerror(errno));
    return VG_OK;

fail_fd:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return fail(err, err_len, VG_ESTATE, "cannot %s %s: %s", what, tmp, strerror(e));
}

/* Serialise an object to PEM in memory, then write_file(). */
enum pem_kind { PEM_KEY, PEM_CERT, PEM_CRL };

static int write_pem(const char *path, enum pem_kind kind, void *obj, mode_t mode, int replace,
                     char *err, size_t err_len)
{
    BIO *mem = BIO_new(BIO_s_mem());
    if (!mem)
        return fail_ssl(err, err_len, VG_ENOSPC, "BIO_new");
    int ok = 0;
    switch (kind) {
    case PEM_KEY: ok = PEM_write_bio_PrivateKey(mem, obj, NULL, NULL, 0, NULL, NULL); break;
    case PEM_CERT: ok = PEM_write_bio_X509(mem, obj); break;
    case PEM_CRL: ok = PEM_write_bio_X509_CRL(mem, obj); break;
    }
    if (ok != 1) {
        BIO_free(mem);
        return fail_ssl(err, err_len, VG_ESTATE, "cannot encode %s", path);
    }
    char *data = NULL;
    long len = BIO_get_mem_data(mem, &data);
    int rc = len > 0 ? write_file(path, data, (size_t)len, mode, replace, err, err_len)
                     : fail(err, err_len, VG_ESTATE, "cannot encode %s", path);
    /* The PEM of a key sat in this buffer: wipe it before it is freed. */
    if (len > 0)
        OPENSSL_cleanse(data, (size_t)len);
    BIO_free(mem);
    return rc;
}

static int open_failed(const char *path, char *err, size_t err_len)
{
    int e = errno;
    ERR_clear_error();
    return fail(err, err_len, e == ENOENT ? VG_ENOTFOUND : VG_ESTATE, "cannot open %s: %s", path,
                strerror(e));
}

static int read_cert(const char *path, X509 **out, char *err, size_t err_len)
{
    BIO *in = BIO_new_file(path, "r");
    if (!in)
        return open_failed(path, err, err_len);
    *out = PEM_read_bio_X509(in, NULL, NULL, NULL);
    BIO_free(in);
    if (!*out)
        return fail_ssl(err, err_len, VG_EFORMAT, "%s is not a PEM certificate", path);
    return VG_OK;
}

static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)arg;
    return -1;
}

static int read_key(const char *path, EVP_PKEY **out, char *err, size_t err_len)
{
    BIO *in = BIO_new_file(path, "r");
    if (!in)
        return open_failed(path, err, err_len);
    /* A callback that gives no passphrase: a key with one is an error,
     * never a prompt on the terminal. */
    *out = PEM_read_bio_PrivateKey(in, NULL, no_passphrase, NULL);
    BIO_free(in);
    if (!*out)
        return fail_ssl(err, err_len, VG_EFORMAT, "%s is not an unencrypted PEM private key", path);
    return VG_OK;
}

static int read_crl(const char *path, X509_CRL **out, char *err, size_t err_len)
{
    BIO *in = BIO_new_file(path, "r");
    if (!in)
        return open_failed(path, err, err_len);
    *out = PEM_read_bio_X509_CRL(in, NULL, NULL, NULL);
    BIO_free(in);
    if (!*out)
        return fail_ssl(err, err_len, VG_EFORMAT, "%s is not a PEM CRL", path);
    return VG_OK;
}

static int mkdir_p(const char *dir, char *err, size_t err_len)
{
    char buf[PATH_CAP];
    int n = snprintf(buf, sizeof buf, "%s", dir);
    if (n < 0 || n >= (int)sizeof buf)
        return fail(err, err_len, VG_ERANGE, "path too long: %s", dir);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return fail(err, err_len, VG_ESTATE, "cannot create %s: %s", buf, strerror(errno));
        *p = saved;
        if (!saved)
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return fail(err, err_len, VG_ESTATE, "%s is not a directory", dir);
    return VG_OK;
}

/* An exclusive lock on the PKI directory for the duration of a change, so
 * two commands cannot both read the index and write it back. flock on the
 * directory itself: no lock file to leave behind. */
static int lock_dir(const char *dir, int *fd_out, char *err, size_t err_len)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, err_len, errno == ENOENT ? VG_ENOTFOUND : VG_ESTATE, "cannot open %s: %s",
                    dir, strerror(errno));
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return fail(err, err_len, VG_ESTATE, "cannot lock %s: %s", dir, strerror(e));
    }
    *fd_out = fd;
    return VG_OK;
}

static void unlock_dir(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

/* --- the index ---------------------------------------------------------- */

struct index {
    struct vg_pki_entry *v;
    size_t n, cap;
};

static void index_free(struct index *idx)
{
    free(idx->v);
    idx->v = NULL;
    idx->n = idx->cap = 0;
}

static int index_push(struct index *idx, const struct vg_pki_entry *e)
{
    if (idx->n == idx->cap) {
        size_t cap = idx->cap ? idx->cap * 2 : 64;
        struct vg_pki_entry *v = realloc(idx->v, cap * sizeof *v);
        if (!v)
            return VG_ENOSPC;
        idx->v = v;
        idx->cap = cap;
    }
    idx->v[idx->n++] = *e;
    return VG_OK;
}

static int hex_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= VG_PKI_CERT_SERIAL_LEN)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

static int parse_index_line(char *line, struct vg_pki_entry *e)
{
    char *save = NULL;
    char *f[6];
    int n = 0;
    for (char *tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (n == 6)
            return 0;
        f[n++] = tok;
    }
    if (n != 5)
        return 0;
    memset(e, 0, sizeof *e);
    if (strcmp(f[0], "unit") == 0)
        e->kind = VG_PKI_UNIT;
    else if (strcmp(f[0], "server") == 0)
        e->kind = VG_PKI_SERVER;
    else
        return 0;
    if (!vg_pki_name_valid(f[1]) || !hex_ok(f[2]) || !parse_time(f[3], &e->not_after))
        return 0;
    snprintf(e->name, sizeof e->name, "%s", f[1]);
    snprintf(e->cert_serial, sizeof e->cert_serial, "%s", f[2]);
    if (strcmp(f[4], "-") == 0)
        e->revoked_at = 0;
    else if (!parse_time(f[4], &e->revoked_at) || e->revoked_at == 0)
        return 0;
    return 1;
}

static int index_load(const char *dir, struct index *idx, char *err, size_t err_len)
{
    char path[PATH_CAP];
    int rc = path_of(path, dir, NULL, "index", ".txt", err, err_len);
    if (rc)
        return rc;
    memset(idx, 0, sizeof *idx);
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, err_len, errno == ENOENT ? VG_ENOTFOUND : VG_ESTATE,
                    "cannot open %s: %s%s", path, strerror(errno),
                    errno == ENOENT ? " (no PKI here? run: vigie pki init)" : "");
    char line[512];
    long lineno = 0, total = 0;
    rc = VG_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        total += (long)len;
        if (total > INDEX_MAX_BYTES) {
            rc = fail(err, err_len, VG_ERANGE, "%s is too large", path);
            break;
        }
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (!feof(f)) {
            rc = fail(err, err_len, VG_EFORMAT, "%s:%ld: line too long", path, lineno);
            break;
        }
        if (line[0] == '#' || line[0] == '\0')
            continue;
        struct vg_pki_entry e;
        if (!parse_index_line(line, &e)) {
            rc = fail(err, err_len, VG_EFORMAT, "%s:%ld: malformed line", path, lineno);
            break;
        }
        if (index_push(idx, &e) != VG_OK) {
            rc = fail(err, err_len, VG_ENOSPC, "out of memory reading %s", path);
            break;
        }
    }
    if (rc == VG_OK && ferror(f))
        rc = fail(err, err_len, VG_ESTATE, "cannot read %s", path);
    fclose(f);
    if (rc)
        index_free(idx);
    return rc;
}

static int index_save(const char *dir, const struct index *idx, char *err, size_t err_len)
{
    char path[PATH_CAP];
    int rc = path_of(path, dir, NULL, "index", ".txt", err, err_len);
    if (rc)
        return rc;
    /* Each line is under 200 bytes: name 64, serial 32, two times 20. */
    size_t cap = sizeof INDEX_HEADER + (idx->n + 1) * 200;
    char *buf = malloc(cap);
    if (!buf)
        return fail(err, err_len, VG_ENOSPC, "out of memory writing %s", path);
    size_t len = (size_t)snprintf(buf, cap, "%s", INDEX_HEADER);
    for (size_t i = 0; i < idx->n; i++) {
        const struct vg_pki_entry *e = &idx->v[i];
        char not_after[32], revoked[32] = "-";
        format_time(e->not_after, not_after, sizeof not_after);
        if (e->revoked_at)
            format_time(e->revoked_at, revoked, sizeof revoked);
        int n = snprintf(buf + len, cap - len, "%s %s %s %s %s\n", vg_pki_kind_name(e->kind),
                         e->name, e->cert_serial, not_after, revoked);
        if (n < 0 || (size_t)n >= cap - len) {
            free(buf);
            return fail(err, err_len, VG_ENOSPC, "index line too long");
        }
        len += (size_t)n;
    }
    rc = write_file(path, buf, len, 0644, 1, err, err_len);
    free(buf);
    return rc;
}

/* --- building certificates and CRLs --------------------------------------- */

/* 16 random bytes with the top bit clear (positive) and the next one set
 * (always 16 bytes long, never zero). */
static int set_random_serial(X509 *cert)
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, (int)sizeof bytes) != 1)
        return 0;
    bytes[0] = (unsigned char)((bytes[0] & 0x7f) | 0x40);
    BIGNUM *bn = BN_bin2bn(bytes, (int)sizeof bytes, NULL);
    if (!bn)
        return 0;
    int ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    return ok;
}

static int serial_hex(const ASN1_INTEGER *serial, char *out, size_t cap)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
    if (!bn)
        return 0;
    char *hex = BN_bn2hex(bn);
    BN_free(bn);
    if (!hex)
        return 0;
    size_t n = strlen(hex);
    int ok = n > 0 && n < cap && hex[0] != '-';
    if (ok) {
        for (size_t i = 0; i <= n; i++)
            out[i] = (hex[i] >= 'A' && hex[i] <= 'F') ? (char)(hex[i] - 'A' + 'a') : hex[i];
    }
    OPENSSL_free(hex);
    return ok;
}

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    if (!ext)
        return 0;
    int ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* One SAN: an IP address when value parses as one, else a DNS name. */
static int push_san(GENERAL_NAMES *gens, const char *value)
{
    unsigned char ip[16];
    int ip_len = 0;
    if (inet_pton(AF_INET, value, ip) == 1)
        ip_len = 4;
    else if (inet_pton(AF_INET6, value, ip) == 1)
        ip_len = 16;
    GENERAL_NAME *gn = GENERAL_NAME_new();
    if (!gn)
        return 0;
    ASN1_STRING *s = ip_len ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    if (!s || ASN1_STRING_set(s, ip_len ? (const void *)ip : (const void *)value,
                              ip_len ? ip_len : (int)strlen(value)) != 1) {
        ASN1_STRING_free(s);
        GENERAL_NAME_free(gn);
        return 0;
    }
    GENERAL_NAME_set0_value(gn, ip_len ? GEN_IPADD : GEN_DNS, s);
    if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
        GENERAL_NAME_free(gn);
        return 0;
    }
    return 1;
}

struct cert_spec {
    const char *cn;
    int days;
    int is_ca;
    const char *eku;     /* "clientAuth", "serverAuth"; NULL for the CA */
    GENERAL_NAMES *sans; /* NULL: none */
};

/* A certificate for key, signed by issuer_key; issuer NULL: self-signed. */
static X509 *make_cert(EVP_PKEY *key, const struct cert_spec *spec, X509 *issuer,
                       EVP_PKEY *issuer_key, char *err, size_t err_len)
{
    time_t now = time(NULL);
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    if (!cert || !name)
        goto fail;
    if (X509_set_version(cert, X509_VERSION_3) != 1 || !set_random_serial(cert))
        goto fail;
    if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)spec->cn, -1, -1, 0) != 1)
        goto fail;
    if (X509_set_subject_name(cert, name) != 1 ||
        X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) != 1)
        goto fail;
    if (!X509_time_adj_ex(X509_getm_notBefore(cert), 0, -BACKDATE_SECONDS, &now) ||
        !X509_time_adj_ex(X509_getm_notAfter(cert), spec->days, 0, &now))
        goto fail;
    if (X509_set_pubkey(cert, key) != 1)
        goto fail;

    /* Extensions. The subject key identifier goes first: the authority
     * key identifier of a self-signed certificate is taken from it. */
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    if (spec->is_ca) {
        if (!add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
            !add_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"))
            goto fail;
    } else {
        /* digitalSignature is all a TLS 1.3 ECDSA end-entity key does. */
        if (!add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
            !add_ext(cert, &ctx, NID_key_usage, "critical,digitalSignature") ||
            !add_ext(cert, &ctx, NID_ext_key_usage, spec->eku))
            goto fail;
    }
    if (!add_ext(cert, &ctx, NID_subject_key_identifier, "hash") ||
        !add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always"))
        goto fail;
    if (spec->sans &&
        X509_add1_ext_i2d(cert, NID_subject_alt_name, spec->sans, 0, X509V3_ADD_DEFAULT) != 1)
        goto fail;
    if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0)
        goto fail;
    X509_NAME_free(name);
    return cert;

fail:
    fail_ssl(err, err_len, VG_ESTATE, "cannot build the certificate of %s", spec->cn);
    X509_NAME_free(name);
    X509_free(cert);
    return NULL;
}

static EVP_PKEY *new_key(char *err, size_t err_len)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!key)
        fail_ssl(err, err_len, VG_ESTATE, "cannot generate a P-256 key");
    return key;
}

/* The number of the CRL in path, 0 when there is none or it has none. */
static int64_t crl_number_of(const char *path)
{
    X509_CRL *crl = NULL;
    int64_t number = 0;
    if (read_crl(path, &crl, NULL, 0) != VG_OK)
        return 0;
    ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    if (num && ASN1_INTEGER_get_int64(&number, num) != 1)
        number = 0;
    ASN1_INTEGER_free(num);
    X509_CRL_free(crl);
    ERR_clear_error();
    return number;
}

static int revoked_push(X509_CRL *crl, const struct vg_pki_entry *e)
{
    X509_REVOKED *rev = X509_REVOKED_new();
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;
    ASN1_TIME *when = ASN1_TIME_new();
    time_t at = (time_t)e->revoked_at;
    int ok = 0;
    if (!rev || !when || !BN_hex2bn(&bn, e->cert_serial))
        goto done;
    serial = BN_to_ASN1_INTEGER(bn, NULL);
    if (!serial || X509_REVOKED_set_serialNumber(rev, serial) != 1)
        goto done;
    if (!X509_time_adj_ex(when, 0, 0, &at) || X509_REVOKED_set_revocationDate(rev, when) != 1)
        goto done;
    if (X509_CRL_add0_revoked(crl, rev) != 1)
        goto done;
    rev = NULL; /* the CRL owns it now */
    ok = 1;
done:
    X509_REVOKED_free(rev);
    BN_free(bn);
    ASN1_INTEGER_free(serial);
    ASN1_TIME_free(when);
    return ok;
}

/* Build and sign the CRL from the index's revocations and write it. */
static int write_crl(const char *dir, X509 *ca, EVP_PKEY *ca_key, const struct index *idx,
                     int64_t *next_update, char *err, size_t err_len)
{
    char path[PATH_CAP];
    int rc = path_of(path, dir, NULL, "crl", ".pem", err, err_len);
    if (rc)
        return rc;
    time_t now = time(NULL);
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_INTEGER *number = ASN1_INTEGER_new();
    X509_EXTENSION *aki = NULL;
    rc = VG_ESTATE;
    if (!crl || !t || !number)
        goto ssl_fail;
    if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1)
        goto ssl_fail;
    if (!X509_time_adj_ex(t, 0, 0, &now) || X509_CRL_set1_lastUpdate(crl, t) != 1 ||
        !X509_time_adj_ex(t, VG_PKI_CRL_DAYS, 0, &now) || X509_CRL_set1_nextUpdate(crl, t) != 1)
        goto ssl_fail;
    for (size_t i = 0; i < idx->n; i++)
        if (idx->v[i].revoked_at && !revoked_push(crl, &idx->v[i]))
            goto ssl_fail;
    if (X509_CRL_sort(crl) != 1)
        goto ssl_fail;
    /* A CRL number that only grows lets a relying party tell the newer of
     * two CRLs apart (RFC 5280 §5.2.3); it is taken from the CRL it replaces,
     * so no counter file is needed. */
    if (ASN1_INTEGER_set_int64(number, crl_number_of(path) + 1) != 1 ||
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) != 1)
        goto ssl_fail;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
    aki = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
    if (!aki || X509_CRL_add_ext(crl, aki, -1) != 1)
        goto ssl_fail;
    if (X509_CRL_sign(crl, ca_key, EVP_sha256()) <= 0)
        goto ssl_fail;
    rc = write_pem(path, PEM_CRL, crl, 0644, 1, err, err_len);
    if (rc == VG_OK && next_update)
        *next_update = (int64_t)now + (int64_t)VG_PKI_CRL_DAYS * 86400;
    goto done;
ssl_fail:
    rc = fail_ssl(err, err_len, VG_ESTATE, "cannot build the CRL");
done:
    X509_EXTENSION_free(aki);
    ASN1_INTEGER_free(number);
    ASN1_TIME_free(t);
    X509_CRL_free(crl);
    return rc;
}

/* The CA's certificate and key, checked to belong together. */
static int load_ca(const char *dir, X509 **ca, EVP_PKEY **ca_key, char *err, size_t err_len)
{
    char crt_path[PATH_CAP], key_path[PATH_CAP];
    *ca = NULL;
    *ca_key = NULL;
    int rc = path_of(crt_path, dir, NULL, "ca", ".crt", err, err_len);
    if (!rc)
        rc = path_of(key_path, dir, NULL, "ca", ".key", err, err_len);
    if (rc)
        return rc;
    if (!exists(crt_path))
        return fail(err, err_len, VG_ENOTFOUND, "no CA in %s (create one with: vigie pki init)",
                    dir);
    rc = read_cert(crt_path, ca, err, err_len);
    if (!rc)
        rc = read_key(key_path, ca_key, err, err_len);
    if (!rc && X509_check_private_key(*ca, *ca_key) != 1)
        rc = fail_ssl(err, err_len, VG_EFORMAT, "%s does not match %s", key_path, crt_path);
    if (rc) {
        X509_free(*ca);
        EVP_PKEY_free(*ca_key);
        *ca = NULL;
        *ca_key = NULL;
    }
    return rc;
}

/* --- the operations ----------------------------------------------------- */

int vg_pki_init(const char *dir, const char *ca_name, char *err, size_t err_len)
{
    if (!dir || !dir[0])
        return fail(err, err_len, VG_EINVAL, "no PKI directory given");
    if (!ca_name)
        ca_name = DEFAULT_CA_NAME;
    if (!ca_name[0] || strlen(ca_name) > 64)
        return fail(err, err_len, VG_EINVAL, "the CA's name must have 1 to 64 characters");
    static const char *const files[][2] = {
        {"ca", ".key"}, {"ca", ".crt"}, {"crl", ".pem"}, {"index", ".txt"}};
    char paths[4][PATH_CAP], sub[PATH_CAP];
    for (size_t i = 0; i < 4; i++) {
        int rc = path_of(paths[i], dir, NULL, files[i][0], files[i][1], err, err_len);
        if (rc)
            return rc;
    }
    int rc = mkdir_p(dir, err, err_len);
    if (rc)
        return rc;
    int lock = -1;
    rc = lock_dir(dir, &lock, err, err_len);
    if (rc)
        return rc;

    EVP_PKEY *key = NULL;
    X509 *ca = NULL;
    int written = 0; /* how many of paths[] this call created */
    for (size_t i = 0; i < 4; i++)
        if (exists(paths[i])) {
            rc = fail(err, err_len, VG_EDUPLICATE,
                      "%s already exists: %s already holds a PKI (refusing to overwrite it)",
                      paths[i], dir);
            goto done;
        }
    const char *subs[] = {"units", "servers"};
    for (size_t i = 0; i < 2; i++) {
        rc = path_of(sub, dir, NULL, subs[i], "", err, err_len);
        if (!rc)
            rc = mkdir_p(sub, err, err_len);
        if (rc)
            goto done;
    }
    rc = VG_ESTATE;
    key = new_key(err, err_len);
    if (!key)
        goto done;
    struct cert_spec spec = {.cn = ca_name, .days = VG_PKI_CA_DAYS, .is_ca = 1};
    ca = make_cert(key, &spec, NULL, key, err, err_len);
    if (!ca)
        goto done;
    rc = write_pem(paths[0], PEM_KEY, key, 0600, 0, err, err_len);
    if (rc)
        goto done;
    written = 1;
    rc = write_pem(paths[1], PEM_CERT, ca, 0644, 0, err, err_len);
    if (rc)
        goto done;
    written = 2;
    struct index empty = {0};
    rc = write_crl(dir, ca, key, &empty, NULL, err, err_len);
    if (rc)
        goto done;
    written = 3;
    rc = index_save(dir, &empty, err, err_len);
    if (!rc)
        written = 4;
done:
    if (rc)
        for (int i = 0; i < written && i < 4; i++)
            unlink(paths[i]);
    X509_free(ca);
    EVP_PKEY_free(key);
    unlock_dir(lock);
    return rc;
}

static int issue(const char *dir, enum vg_pki_kind kind, const char *name, const char *const *sans,
                 size_t n_sans, struct vg_pki_entry *issued, char *err, size_t err_len)
{
    const char *what = vg_pki_kind_name(kind);
    if (!dir || !dir[0])
        return fail(err, err_len, VG_EINVAL, "no PKI directory given");
    if (!vg_pki_name_valid(name))
        return fail(err, err_len, VG_EINVAL,
                    "'%.80s' is not a valid %s %s: 1 to %d characters of A-Z a-z 0-9 . _ -, "
                    "not starting with '.' or '-'",
                    name ? name : "", what, kind == VG_PKI_UNIT ? "serial" : "name",
                    VG_PKI_NAME_MAX);
    for (size_t i = 0; i < n_sans; i++) {
        unsigned char ip[16];
        if (!sans[i] || (!word_ok(sans[i], DNS_NAME_MAX) && inet_pton(AF_INET, sans[i], ip) != 1 &&
                         inet_pton(AF_INET6, sans[i], ip) != 1))
            return fail(err, err_len, VG_EINVAL, "'%.80s' is neither a DNS name nor an IP address",
                        sans[i] ? sans[i] : "");
    }
    const char *sub = kind == VG_PKI_UNIT ? "units" : "servers";
    char key_path[PATH_CAP], crt_path[PATH_CAP];
    int rc = path_of(key_path, dir, sub, name, ".key", err, err_len);
    if (!rc)
        rc = path_of(crt_path, dir, sub, name, ".crt", err, err_len);
    if (rc)
        return rc;

    int lock = -1;
    rc = lock_dir(dir, &lock, err, err_len);
    if (rc)
        return rc;
    X509 *ca = NULL, *cert = NULL;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    GENERAL_NAMES *gens = NULL;
    struct index idx = {0};
    int written = 0;
    rc = load_ca(dir, &ca, &ca_key, err, err_len);
    if (rc)
        goto done;
    rc = index_load(dir, &idx, err, err_len);
    if (rc)
        goto done;
    for (size_t i = 0; i < idx.n; i++)
        if (idx.v[i].kind == kind && strcmp(idx.v[i].name, name) == 0 && !idx.v[i].revoked_at) {
            rc = fail(err, err_len, VG_EDUPLICATE,
                      "%s %s already has a valid certificate (serial %s)", what, name,
                      idx.v[i].cert_serial);
            goto done;
        }
    if (exists(key_path) || exists(crt_path)) {
        rc = fail(err, err_len, VG_EDUPLICATE,
                  "%s already exists: %s %s was issued before (move its files away to issue it "
                  "again)",
                  exists(key_path) ? key_path : crt_path, what, name);
        goto done;
    }

    rc = VG_ESTATE;
    if (kind == VG_PKI_SERVER) {
        gens = sk_GENERAL_NAME_new_null();
        if (!gens || !push_san(gens, name)) {
            rc = fail_ssl(err, err_len, VG_ENOSPC, "cannot build the SANs");
            goto done;
        }
        for (size_t i = 0; i < n_sans; i++) {
            int seen = strcmp(sans[i], name) == 0;
            for (size_t j = 0; j < i && !seen; j++)
                seen = strcmp(sans[i], sans[j]) == 0;
            if (!seen && !push_san(gens, sans[i])) {
                rc = fail_ssl(err, err_len, VG_ENOSPC, "cannot build the SANs");
                goto done;
            }
        }
    }
    key = new_key(err, err_len);
    if (!key)
        goto done;
    struct cert_spec spec = {
        .cn = name,
        .days = kind == VG_PKI_UNIT ? VG_PKI_UNIT_DAYS : VG_PKI_SERVER_DAYS,
        .eku = kind == VG_PKI_UNIT ? "clientAuth" : "serverAuth",
        .sans = gens,
    };
    cert = make_cert(key, &spec, ca, ca_key, err, err_len);
    if (!cert)
        goto done;

    struct vg_pki_entry e = {.kind = kind};
    snprintf(e.name, sizeof e.name, "%s", name);
    if (!serial_hex(X509_get0_serialNumber(cert), e.cert_serial, sizeof e.cert_serial) ||
        !asn1_to_epoch(X509_get0_notAfter(cert), &e.not_after)) {
        rc = fail(err, err_len, VG_ESTATE, "cannot read back the new certificate");
        goto done;
    }
    if (index_push(&idx, &e) != VG_OK) {
        rc = fail(err, err_len, VG_ENOSPC, "out of memory");
        goto done;
    }
    rc = write_pem(key_path, PEM_KEY, key, 0600, 0, err, err_len);
    if (rc)
        goto done;
    written = 1;
    rc = write_pem(crt_path, PEM_CERT, cert, 0644, 0, err, err_len);
    if (rc)
        goto done;
    written = 2;
    rc = index_save(dir, &idx, err, err_len);
    if (!rc && issued)
        *issued = e;
done:
    if (rc && written >= 1)
        unlink(key_path);
    if (rc && written >= 2)
        unlink(crt_path);
    index_free(&idx);
    GENERAL_NAMES_free(gens);
    X509_free(cert);
    EVP_PKEY_free(key);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    unlock_dir(lock);
    return rc;
}

int vg_pki_issue_unit(const char *dir, const char *serial, struct vg_pki_entry *issued, char *err,
                      size_t err_len)
{
    return issue(dir, VG_PKI_UNIT, serial, NULL, 0, issued, err, err_len);
}

int vg_pki_issue_server(const char *dir, const char *name, const char *const *sans, size_t n_sans,
                        struct vg_pki_entry *issued, char *err, size_t err_len)
{
    if (n_sans && !sans)
        return fail(err, err_len, VG_EINVAL, "no SAN list");
    return issue(dir, VG_PKI_SERVER, name, sans, n_sans, issued, err, err_len);
}

/* Mark unit `serial` revoked (revoke) or nothing (refresh), then re-sign. */
static int resign(const char *dir, const char *serial, int64_t *next_update, char *err,
                  size_t err_len)
{
    if (!dir || !dir[0])
        return fail(err, err_len, VG_EINVAL, "no PKI directory given");
    if (serial && !vg_pki_name_valid(serial))
        return fail(err, err_len, VG_EINVAL, "'%.80s' is not a valid unit serial", serial);
    int lock = -1;
    int rc = lock_dir(dir, &lock, err, err_len);
    if (rc)
        return rc;
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    struct index idx = {0};
    rc = load_ca(dir, &ca, &ca_key, err, err_len);
    if (!rc)
        rc = index_load(dir, &idx, err, err_len);
    if (rc)
        goto done;
    if (serial) {
        size_t found = 0, marked = 0;
        int64_t now = (int64_t)time(NULL);
        for (size_t i = 0; i < idx.n; i++) {
            struct vg_pki_entry *e = &idx.v[i];
            if (e->kind != VG_PKI_UNIT || strcmp(e->name, serial) != 0)
                continue;
            found++;
            if (!e->revoked_at) {
                e->revoked_at = now;
                marked++;
            }
        }
        if (!found) {
            rc = fail(err, err_len, VG_ENOTFOUND, "no certificate was issued to unit %s", serial);
            goto done;
        }
        if (!marked) {
            rc = fail(err, err_len, VG_ESTATE, "unit %s is already revoked", serial);
            goto done;
        }
        /* The index first: it is what the CRL is rebuilt from. */
        rc = index_save(dir, &idx, err, err_len);
        if (rc)
            goto done;
    }
    rc = write_crl(dir, ca, ca_key, &idx, next_update, err, err_len);
done:
    index_free(&idx);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    unlock_dir(lock);
    return rc;
}

int vg_pki_revoke(const char *dir, const char *serial, char *err, size_t err_len)
{
    if (!serial)
        return fail(err, err_len, VG_EINVAL, "no unit serial given");
    return resign(dir, serial, NULL, err, err_len);
}

int vg_pki_crl_refresh(const char *dir, int64_t *next_update, char *err, size_t err_len)
{
    return resign(dir, NULL, next_update, err, err_len);
}

int vg_pki_list(const char *dir, int (*fn)(const struct vg_pki_entry *entry, void *arg), void *arg,
                char *err, size_t err_len)
{
    if (!dir || !fn)
        return fail(err, err_len, VG_EINVAL, "no PKI directory or callback given");
    struct index idx;
    int rc = index_load(dir, &idx, err, err_len);
    if (rc)
        return rc;
    for (size_t i = 0; i < idx.n && rc == 0; i++)
        rc = fn(&idx.v[i], arg);
    index_free(&idx);
    return rc;
}

int vg_pki_crl_times(const char *crl_file, int64_t *last_update, int64_t *next_update, char *err,
                     size_t err_len)
{
    X509_CRL *crl = NULL;
    int rc = read_crl(crl_file, &crl, err, err_len);
    if (rc)
        return rc;
    int64_t last = 0, next = 0;
    if (!asn1_to_epoch(X509_CRL_get0_lastUpdate(crl), &last) ||
        !asn1_to_epoch(X509_CRL_get0_nextUpdate(crl), &next))
        rc = fail(err, err_len, VG_EFORMAT, "%s has no valid lastUpdate/nextUpdate", crl_file);
    X509_CRL_free(crl);
    if (!rc && last_update)
        *last_update = last;
    if (!rc && next_update)
        *next_update = next;
    return rc;
}

/* --- TLS contexts --------------------------------------------------------- */

/* The CA certificate in ca_file that signed crl, if any (borrowed). */
static X509 *crl_issuer(STACK_OF(X509) * cas, X509_CRL *crl)
{
    for (int i = 0; i < sk_X509_num(cas); i++) {
        X509 *ca = sk_X509_value(cas, i);
        EVP_PKEY *pub = X509_get0_pubkey(ca);
        if (pub && X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0 &&
            X509_CRL_verify(crl, pub) == 1)
            return ca;
    }
    ERR_clear_error();
    return NULL;
}

/* A store trusting cas, with crl when not NULL (then checked on the leaf:
 * our chains are leaf -> root, so the leaf is all there is to check). */
static X509_STORE *new_store(STACK_OF(X509) * cas, X509_CRL *crl)
{
    X509_STORE *store = X509_STORE_new();
    if (!store)
        return NULL;
    for (int i = 0; i < sk_X509_num(cas); i++)
        if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) != 1)
            goto fail;
    if (crl && (X509_STORE_add_crl(store, crl) != 1 ||
                X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK) != 1))
        goto fail;
    return store;
fail:
    X509_STORE_free(store);
    return NULL;
}

/* The common part of both ends: TLS 1.3 only (its handshake hides the
 * certificates from eavesdroppers, and it has no weak cipher suites to
 * configure away), this end's certificate and key. */
static int new_ctx(SSL_CTX **out, const SSL_METHOD *method, const struct vg_pki_tls_files *files,
                   char *err, size_t err_len)
{
    *out = NULL;
    if (!files || !files->ca_cert || !files->cert || !files->key)
        return fail(err, err_len, VG_EINVAL, "the CA, certificate and key files are all needed");
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx)
        return fail_ssl(err, err_len, VG_ENOSPC, "SSL_CTX_new");
    int rc;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
        rc = fail_ssl(err, err_len, VG_ESTATE, "cannot restrict the context to TLS 1.3");
    else if (SSL_CTX_use_certificate_chain_file(ctx, files->cert) != 1)
        rc = fail_ssl(err, err_len, VG_EFORMAT, "cannot load the certificate %s", files->cert);
    else if (SSL_CTX_use_PrivateKey_file(ctx, files->key, SSL_FILETYPE_PEM) != 1)
        rc = fail_ssl(err, err_len, VG_EFORMAT, "cannot load the key %s", files->key);
    else if (SSL_CTX_check_private_key(ctx) != 1)
        rc = fail_ssl(err, err_len, VG_EFORMAT, "%s does not match %s", files->key, files->cert);
    else
        rc = VG_OK;
    if (rc)
        SSL_CTX_free(ctx);
    else
        *out = ctx;
    return rc;
}

static int read_cas(const char *path, STACK_OF(X509) * *out, char *err, size_t err_len)
{
    X509 *ca = NULL;
    int rc = read_cert(path, &ca, err, err_len);
    if (rc)
        return rc;
    *out = sk_X509_new_null();
    if (!*out || sk_X509_push(*out, ca) <= 0) {
        sk_X509_free(*out);
        *out = NULL;
        X509_free(ca);
        return fail(err, err_len, VG_ENOSPC, "out of memory");
    }
    return VG_OK;
}

int vg_pki_server_ctx_new_files(SSL_CTX **out, const struct vg_pki_tls_files *files, char *err,
                                size_t err_len)
{
    *out = NULL;
    if (!files || !files->crl)
        return fail(err, err_len, VG_EINVAL, "the server needs a CRL file");
    STACK_OF(X509) *cas = NULL;
    X509_CRL *crl = NULL;
    X509_STORE *store = NULL;
    SSL_CTX *ctx = NULL;
    int rc = new_ctx(&ctx, TLS_server_method(), files, err, err_len);
    if (rc)
        return rc;
    rc = read_cas(files->ca_cert, &cas, err, err_len);
    if (!rc)
        rc = read_crl(files->crl, &crl, err, err_len);
    if (rc)
        goto done;
    if (!crl_issuer(cas, crl)) {
        rc = fail(err, err_len, VG_EFORMAT, "%s is not signed by the CA of %s", files->crl,
                  files->ca_cert);
        goto done;
    }
    store = new_store(cas, crl);
    if (!store) {
        rc = fail_ssl(err, err_len, VG_ENOSPC, "cannot build the trust store");
        goto done;
    }
    SSL_CTX_set_cert_store(ctx, store); /* the context owns it now */
    store = NULL;
    /* The checks live in the context's parameters too (they are merged
     * into each verification), so replacing the store on a CRL reload
     * cannot lose them. The purpose refuses a server certificate (EKU
     * serverAuth only) presented as a unit's. */
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    if (X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK) != 1 ||
        SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1 ||
        SSL_CTX_add_client_CA(ctx, sk_X509_value(cas, 0)) != 1) {
        rc = fail_ssl(err, err_len, VG_ESTATE, "cannot set the verification parameters");
        goto done;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    /* No resumption: a resumed session skips certificate verification,
     * so a unit revoked after its first handshake could come back on a
     * ticket. A full handshake with P-256 costs about a millisecond. */
    if (SSL_CTX_set_num_tickets(ctx, 0) != 1) {
        rc = fail_ssl(err, err_len, VG_ESTATE, "cannot disable session tickets");
        goto done;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    static const unsigned char sid_ctx[] = "vigie-gateway";
    if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1) != 1) {
        rc = fail_ssl(err, err_len, VG_ESTATE, "cannot set the session id context");
        goto done;
    }
    *out = ctx;
    ctx = NULL;
done:
    X509_STORE_free(store);
    X509_CRL_free(crl);
    sk_X509_pop_free(cas, X509_free);
    SSL_CTX_free(ctx);
    return rc;
}

int vg_pki_server_ctx_new(SSL_CTX **out, const char *dir, const char *name, char *err,
                          size_t err_len)
{
    *out = NULL;
    if (!dir || !vg_pki_name_valid(name))
        return fail(err, err_len, VG_EINVAL, "'%.80s' is not a valid server name",
                    name ? name : "");
    char ca[PATH_CAP], crl[PATH_CAP], crt[PATH_CAP], key[PATH_CAP];
    int rc = path_of(ca, dir, NULL, "ca", ".crt", err, err_len);
    if (!rc)
        rc = path_of(crl, dir, NULL, "crl", ".pem", err, err_len);
    if (!rc)
        rc = path_of(crt, dir, "servers", name, ".crt", err, err_len);
    if (!rc)
        rc = path_of(key, dir, "servers", name, ".key", err, err_len);
    if (rc)
        return rc;
    struct vg_pki_tls_files files = {.ca_cert = ca, .crl = crl, .cert = crt, .key = key};
    return vg_pki_server_ctx_new_files(out, &files, err, err_len);
}

int vg_pki_server_ctx_reload_crl(SSL_CTX *ctx, const char *crl_file, char *err, size_t err_len)
{
    if (!ctx || !crl_file)
        return fail(err, err_len, VG_EINVAL, "no context or CRL file");
    X509_STORE *old = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509) *cas = sk_X509_new_null();
    X509_CRL *crl = NULL;
    X509_STORE *store = NULL;
    const X509_CRL *current = NULL;
    int rc = cas ? VG_OK : fail(err, err_len, VG_ENOSPC, "out of memory");
    if (rc)
        return rc;
    rc = read_crl(crl_file, &crl, err, err_len);
    if (rc)
        goto done;

    /* The CA certificates (borrowed from the current store) and its CRL. */
    STACK_OF(X509_OBJECT) *objs = old ? X509_STORE_get0_objects(old) : NULL;
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509_OBJECT *obj = sk_X509_OBJECT_value(objs, i);
        if (X509_OBJECT_get_type(obj) == X509_LU_X509) {
            if (sk_X509_push(cas, X509_OBJECT_get0_X509(obj)) <= 0) {
                rc = fail(err, err_len, VG_ENOSPC, "out of memory");
                goto done;
            }
        } else if (X509_OBJECT_get_type(obj) == X509_LU_CRL) {
            current = X509_OBJECT_get0_X509_CRL(obj);
        }
    }
    if (sk_X509_num(cas) == 0) {
        rc = fail(err, err_len, VG_ESTATE, "the context trusts no CA (not a gateway context?)");
        goto done;
    }
    if (!crl_issuer(cas, crl)) {
        rc = fail(err, err_len, VG_EFORMAT, "%s is not signed by the gateway's CA; CRL kept",
                  crl_file);
        goto done;
    }
    /* Refuse to go back in time: an older CRL may lack revocations. */
    int64_t new_last = 0, cur_last = 0;
    if (!asn1_to_epoch(X509_CRL_get0_lastUpdate(crl), &new_last)) {
        rc = fail(err, err_len, VG_EFORMAT, "%s has no valid lastUpdate; CRL kept", crl_file);
        goto done;
    }
    if (current && asn1_to_epoch(X509_CRL_get0_lastUpdate(current), &cur_last) &&
        new_last < cur_last) {
        rc = fail(err, err_len, VG_ESTALE, "%s is older than the CRL in force; CRL kept", crl_file);
        goto done;
    }
    /* A new store rather than adding to the old one: a store holding two
     * CRLs of the same issuer picks one by its own rules, and the old CRL
     * would linger forever. Handshakes look the store up when they verify,
     * so connections in progress are unaffected. */
    store = new_store(cas, crl);
    if (!store) {
        rc = fail_ssl(err, err_len, VG_ENOSPC, "cannot build the trust store; CRL kept");
        goto done;
    }
    SSL_CTX_set_cert_store(ctx, store); /* frees the old store */
    store = NULL;
done:
    X509_STORE_free(store);
    X509_CRL_free(crl);
    sk_X509_free(cas); /* the certificates were borrowed */
    return rc;
}

int vg_pki_client_ctx_new_files(SSL_CTX **out, const struct vg_pki_tls_files *files,
                                const char *host, char *err, size_t err_len)
{
    *out = NULL;
    STACK_OF(X509) *cas = NULL;
    X509_STORE *store = NULL;
    SSL_CTX *ctx = NULL;
    int rc = new_ctx(&ctx, TLS_client_method(), files, err, err_len);
    if (rc)
        return rc;
    rc = read_cas(files->ca_cert, &cas, err, err_len);
    if (rc)
        goto done;
    /* No CRL here: the CRL revokes units; the server's certificate is
     * replaced, not revoked, and units have no way to fetch CRLs. */
    store = new_store(cas, NULL);
    if (!store) {
        rc = fail_ssl(err, err_len, VG_ENOSPC, "cannot build the trust store");
        goto done;
    }
    SSL_CTX_set_cert_store(ctx, store);
    store = NULL;
    if (SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1) {
        rc = fail_ssl(err, err_len, VG_ESTATE, "cannot set the verification purpose");
        goto done;
    }
    if (host) {
        X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
        unsigned char ip[16];
        int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
                   : X509_VERIFY_PARAM_set1_host(param, host, 0)) != 1) {
            rc = fail_ssl(err, err_len, VG_EINVAL, "'%.80s' is not a usable host name", host);
            goto done;
        }
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    *out = ctx;
    ctx = NULL;
done:
    X509_STORE_free(store);
    sk_X509_pop_free(cas, X509_free);
    SSL_CTX_free(ctx);
    return rc;
}

int vg_pki_client_ctx_new(SSL_CTX **out, const char *dir, const char *serial, const char *host,
                          char *err, size_t err_len)
{
    *out = NULL;
    if (!dir || !vg_pki_name_valid(serial))
        return fail(err, err_len, VG_EINVAL, "'%.80s' is not a valid unit serial",
                    serial ? serial : "");
    char ca[PATH_CAP], crt[PATH_CAP], key[PATH_CAP];
    int rc = path_of(ca, dir, NULL, "ca", ".crt", err, err_len);
    if (!rc)
        rc = path_of(crt, dir, "units", serial, ".crt", err, err_len);
    if (!rc)
        rc = path_of(key, dir, "units", serial, ".key", err, err_len);
    if (rc)
        return rc;
    struct vg_pki_tls_files files = {.ca_cert = ca, .cert = crt, .key = key};
    return vg_pki_client_ctx_new_files(out, &files, host, err, err_len);
}

int vg_pki_peer_cn(SSL *ssl, char *out, size_t cap)
{
    if (!ssl || !out || cap == 0)
        return VG_EINVAL;
    out[0] = '\0';
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (!peer || SSL_get_verify_result(ssl) != X509_V_OK)
        return VG_ESTATE;
    const X509_NAME *subject = X509_get_subject_name(peer);
    int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    /* Exactly one CN: with two, which one is "the" identity is ambiguous. */
    if (at < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, at) >= 0)
        return VG_EFORMAT;
    const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) {
        ERR_clear_error();
        return VG_EFORMAT;
    }
    int rc = VG_OK;
    /* No NUL inside, and the alphabet of serials (so the CN is safe in
     * logs, file names and SQL alike). */
    if (strlen((const char *)utf8) != (size_t)len || !vg_pki_name_valid((const char *)utf8))
        rc = VG_EFORMAT;
    else if ((size_t)len >= cap)
        rc = VG_ENOSPC;
    else
        memcpy(out, utf8, (size_t)len + 1);
    OPENSSL_free(utf8);
    return rc;
}
