/* The device link's TLS contexts (util/pki) in real handshakes: a server
 * and a client SSL over a socketpair, driven in turn by one thread with
 * plain OpenSSL (no event loop). Two PKIs are created in a temporary
 * directory: ours, and a foreign one whose certificates must be refused. */
/* nftw() is XSI. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/err.h"
#include "util/pki.h"

#define PATH_CAP 1024

struct world {
    char root[PATH_CAP];  /* the temporary directory */
    char ours[PATH_CAP];  /* root/ours: our PKI */
    char other[PATH_CAP]; /* root/other: a foreign CA */
};

static struct world *world_of(void **state)
{
    return *state;
}

static void path_in(char *out, const char *dir, const char *rel)
{
    int n = snprintf(out, PATH_CAP, "%s/%s", dir, rel);
    assert_true(n > 0 && n < PATH_CAP);
}

static void check(int rc, const char *err)
{
    if (rc != VG_OK)
        fail_msg("%s (%s)", err, vg_strerror(rc));
}

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(w->root, sizeof w->root, "%s/vigie-tls-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(w->root)) {
        free(w);
        return -1;
    }
    path_in(w->ours, w->root, "ours");
    path_in(w->other, w->root, "other");
    *state = w;

    char err[512];
    static const char *const sans[] = {"localhost", "127.0.0.1"};
    check(vg_pki_init(w->ours, NULL, err, sizeof err), err);
    check(vg_pki_issue_server(w->ours, "gw", sans, 2, NULL, err, sizeof err), err);
    const char *units[] = {"VG-A", "VG-B", "VG-C", "VG-D"};
    for (size_t i = 0; i < 4; i++)
        check(vg_pki_issue_unit(w->ours, units[i], NULL, err, sizeof err), err);
    /* A foreign CA with the same name and a unit with the same serial:
     * only the keys tell them apart. */
    check(vg_pki_init(w->other, NULL, err, sizeof err), err);
    check(vg_pki_issue_unit(w->other, "VG-A", NULL, err, sizeof err), err);
    check(vg_pki_issue_server(w->other, "gw", sans, 2, NULL, err, sizeof err), err);
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct world *w = world_of(state);
    int rc = nftw(w->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(w);
    return rc;
}

/* --- one connection -------------------------------------------------------- */

struct outcome {
    int server_ok;     /* the server's handshake completed */
    int client_ok;     /* the client's handshake completed */
    int exchanged;     /* a message went both ways afterwards */
    long verify;       /* the server's verification result of the client */
    int server_reason; /* OpenSSL's reason when the server failed */
    int version;       /* the protocol version, when both completed */
    char cn[VG_PKI_NAME_MAX + 1];
    int cn_rc;
    int resumable; /* the client holds a session it could resume */
};

static int step(SSL *ssl, int *done, int *ok)
{
    if (*done)
        return 0;
    int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
        *done = *ok = 1;
        return 1;
    }
    int e = SSL_get_error(ssl, rc);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        *done = 1;
    return 0;
}

/* Write then read `len` bytes, driving both ends; 1 when the message got
 * through. */
static int transfer(SSL *from, SSL *to, const char *msg)
{
    size_t len = strlen(msg);
    char buf[64];
    size_t got = 0;
    int written = 0;
    for (int i = 0; i < 1000 && got < len; i++) {
        if (!written) {
            int w = SSL_write(from, msg, (int)len);
            if (w == (int)len)
                written = 1;
            else if (SSL_get_error(from, w) != SSL_ERROR_WANT_WRITE &&
                     SSL_get_error(from, w) != SSL_ERROR_WANT_READ)
                return 0;
        }
        int r = SSL_read(to, buf + got, (int)(sizeof buf - got));
        if (r > 0) {
            got += (size_t)r;
        } else {
            int e = SSL_get_error(to, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                return 0;
        }
    }
    return got == len && memcmp(buf, msg, len) == 0;
}

static struct outcome connect_pair(SSL_CTX *server_ctx, SSL_CTX *client_ctx)
{
    struct outcome out = {.verify = -1, .cn_rc = VG_ESTATE};
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(fcntl(sv[i], F_SETFL, fcntl(sv[i], F_GETFL) | O_NONBLOCK), 0);
    SSL *server = SSL_new(server_ctx);
    SSL *client = SSL_new(client_ctx);
    assert_non_null(server);
    assert_non_null(client);
    assert_int_equal(SSL_set_fd(server, sv[0]), 1);
    assert_int_equal(SSL_set_fd(client, sv[1]), 1);
    SSL_set_accept_state(server);
    SSL_set_connect_state(client);

    int server_done = 0, client_done = 0;
    for (int i = 0; i < 1000 && !(server_done && client_done); i++) {
        step(client, &client_done, &out.client_ok);
        ERR_clear_error();
        if (!server_done) {
            step(server, &server_done, &out.server_ok);
            if (server_done && !out.server_ok)
                out.server_reason = ERR_GET_REASON(ERR_peek_last_error());
            ERR_clear_error();
        }
    }
    assert_true(server_done && client_done);
    out.verify = SSL_get_verify_result(server);
    if (out.server_ok && out.client_ok) {
        out.version = SSL_version(server);
        out.cn_rc = vg_pki_peer_cn(server, out.cn, sizeof out.cn);
        /* TLS 1.3: the client is done before the server has judged its
         * certificate, so only a round trip proves the server agreed. */
        out.exchanged = transfer(client, server, "ping") && transfer(server, client, "pong");
        /* Tickets arrive after the handshake: the exchange has read them. */
        SSL_SESSION *session = SSL_get1_session(client);
        out.resumable = session && SSL_SESSION_is_resumable(session);
        SSL_SESSION_free(session);
    } else if (out.client_ok) {
        /* The server refused: the client learns it on its next read. */
        assert_false(transfer(client, server, "ping"));
    }
    ERR_clear_error();
    SSL_free(server);
    SSL_free(client);
    close(sv[0]);
    close(sv[1]);
    return out;
}

static SSL_CTX *server_ctx(const struct world *w)
{
    SSL_CTX *ctx = NULL;
    char err[512];
    check(vg_pki_server_ctx_new(&ctx, w->ours, "gw", err, sizeof err), err);
    return ctx;
}

static SSL_CTX *unit_ctx(const char *dir, const char *serial, const char *host)
{
    SSL_CTX *ctx = NULL;
    char err[512];
    check(vg_pki_client_ctx_new(&ctx, dir, serial, host, err, sizeof err), err);
    return ctx;
}

static void assert_accepted(struct outcome o, const char *cn)
{
    assert_true(o.server_ok);
    assert_true(o.client_ok);
    assert_true(o.exchanged);
    assert_int_equal(o.version, TLS1_3_VERSION);
    assert_int_equal(o.verify, X509_V_OK);
    assert_int_equal(o.cn_rc, VG_OK);
    assert_string_equal(o.cn, cn);
    /* No tickets: a resumed session would skip the certificate and CRL. */
    assert_false(o.resumable);
}

/* --- tests ------------------------------------------------------------------- */

static void test_valid_unit_is_accepted_with_its_cn(void **state)
{
    struct world *w = world_of(state);
    SSL_CTX *server = server_ctx(w);
    const char *units[] = {"VG-A", "VG-B"};
    for (size_t i = 0; i < 2; i++) {
        SSL_CTX *client = unit_ctx(w->ours, units[i], "localhost");
        assert_accepted(connect_pair(server, client), units[i]);
        SSL_CTX_free(client);
    }
    /* The server's name as an IP address SAN. */
    SSL_CTX *client = unit_ctx(w->ours, "VG-A", "127.0.0.1");
    assert_accepted(connect_pair(server, client), "VG-A");
    SSL_CTX_free(client);
    SSL_CTX_free(server);
}

static void test_client_without_certificate_is_refused(void **state)
{
    struct world *w = world_of(state);
    char ca[PATH_CAP];
    path_in(ca, w->ours, "ca.crt");
    SSL_CTX *client = SSL_CTX_new(TLS_client_method());
    assert_non_null(client);
    assert_int_equal(SSL_CTX_load_verify_locations(client, ca, NULL), 1);
    SSL_CTX_set_verify(client, SSL_VERIFY_PEER, NULL);
    SSL_CTX *server = server_ctx(w);
    struct outcome o = connect_pair(server, client);
    assert_false(o.server_ok);
    assert_int_equal(o.server_reason, SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE);
    SSL_CTX_free(client);
    SSL_CTX_free(server);
}

static void test_certificate_of_another_ca_is_refused(void **state)
{
    struct world *w = world_of(state);
    /* The client trusts our server but presents the foreign unit VG-A. */
    char ca[PATH_CAP], crt[PATH_CAP], key[PATH_CAP], err[512];
    path_in(ca, w->ours, "ca.crt");
    path_in(crt, w->other, "units/VG-A.crt");
    path_in(key, w->other, "units/VG-A.key");
    struct vg_pki_tls_files files = {.ca_cert = ca, .cert = crt, .key = key};
    SSL_CTX *client = NULL;
    check(vg_pki_client_ctx_new_files(&client, &files, "localhost", err, sizeof err), err);
    SSL_CTX *server = server_ctx(w);
    struct outcome o = connect_pair(server, client);
    assert_false(o.server_ok);
    assert_int_not_equal(o.verify, X509_V_OK);
    assert_int_equal(o.server_reason, SSL_R_CERTIFICATE_VERIFY_FAILED);
    SSL_CTX_free(client);
    SSL_CTX_free(server);
}

static void test_unit_refuses_a_server_of_another_ca(void **state)
{
    struct world *w = world_of(state);
    SSL_CTX *server = server_ctx(w);
    SSL_CTX *client = unit_ctx(w->other, "VG-A", "localhost");
    struct outcome o = connect_pair(server, client);
    assert_false(o.client_ok);
    assert_false(o.server_ok);
    SSL_CTX_free(client);
    SSL_CTX_free(server);
}

static void test_unit_refuses_a_server_with_another_name(void **state)
{
    struct world *w = world_of(state);
    SSL_CTX *server = server_ctx(w);
    SSL_CTX *client = unit_ctx(w->ours, "VG-A", "gateway.example.org");
    struct outcome o = connect_pair(server, client);
    assert_false(o.client_ok);
    SSL_CTX_free(client);
    SSL_CTX_free(server);
}

static void test_server_certificate_is_refused_as_a_unit(void **state)
{
    struct world *w = world_of(state);
    char ca[PATH_CAP], crt[PATH_CAP], key[PATH_CAP], err[512];
    path_in(ca, w->ours, "ca.crt");
    path_in(crt, w->ours, "servers/gw.crt");
    path_in(key, w->ours, "servers/gw.key");
    struct vg_pki_tls_files files = {.ca_cert = ca, .cert = crt, .key = key};
    SSL_CTX *client = NULL;
    check(vg_pki_client_ctx_new_files(&client, &files, NULL, err, sizeof err), err);
    SSL_CTX *server = server_ctx(w);
    struct outcome o = connect_pair(server, client);
    assert_false(o.server_ok);
    assert_int_equal(o.verify, X509_V_ERR_INVALID_PURPOSE);
    SSL_CTX_free(client);
    SSL_CTX_free(server);
}

static void test_revoked_unit_is_refused_after_crl_reload(void **state)
{
    struct world *w = world_of(state);
    char crl[PATH_CAP], err[512];
    path_in(crl, w->ours, "crl.pem");
    SSL_CTX *server = server_ctx(w);
    SSL_CTX *revoked = unit_ctx(w->ours, "VG-C", "localhost");
    SSL_CTX *other = unit_ctx(w->ours, "VG-B", "localhost");
    assert_accepted(connect_pair(server, revoked), "VG-C");

    check(vg_pki_revoke(w->ours, "VG-C", err, sizeof err), err);
    /* The context holds the CRL it loaded: the revocation applies when
     * the daemon reloads it. */
    assert_accepted(connect_pair(server, revoked), "VG-C");
    check(vg_pki_server_ctx_reload_crl(server, crl, err, sizeof err), err);

    struct outcome o = connect_pair(server, revoked);
    assert_false(o.server_ok);
    assert_int_equal(o.verify, X509_V_ERR_CERT_REVOKED);
    assert_accepted(connect_pair(server, other), "VG-B");

    /* A new context built from the files refuses it from the start. */
    SSL_CTX *fresh = server_ctx(w);
    o = connect_pair(fresh, revoked);
    assert_int_equal(o.verify, X509_V_ERR_CERT_REVOKED);
    SSL_CTX_free(fresh);
    SSL_CTX_free(other);
    SSL_CTX_free(revoked);
    SSL_CTX_free(server);
}

static void test_crl_reload_keeps_the_old_crl_on_failure(void **state)
{
    struct world *w = world_of(state);
    char foreign[PATH_CAP], missing[PATH_CAP], err[512];
    path_in(foreign, w->other, "crl.pem");
    path_in(missing, w->root, "no-such.pem");
    SSL_CTX *server = server_ctx(w);
    assert_int_equal(vg_pki_server_ctx_reload_crl(server, foreign, err, sizeof err), VG_EFORMAT);
    assert_int_equal(vg_pki_server_ctx_reload_crl(server, missing, err, sizeof err), VG_ENOTFOUND);
    SSL_CTX *client = unit_ctx(w->ours, "VG-A", NULL);
    assert_accepted(connect_pair(server, client), "VG-A");
    SSL_CTX_free(client);
    SSL_CTX_free(server);
}

static void test_tls12_is_refused(void **state)
{
    struct world *w = world_of(state);
    SSL_CTX *server = server_ctx(w);
    SSL_CTX *client = unit_ctx(w->ours, "VG-A", "localhost");
    assert_int_equal(SSL_CTX_set_min_proto_version(client, TLS1_2_VERSION), 1);
    assert_int_equal(SSL_CTX_set_max_proto_version(client, TLS1_2_VERSION), 1);
    struct outcome o = connect_pair(server, client);
    assert_false(o.server_ok);
    assert_false(o.client_ok);
    assert_int_equal(o.server_reason, SSL_R_UNSUPPORTED_PROTOCOL);
    SSL_CTX_free(client);
    SSL_CTX_free(server);
}

/* Write a CRL of our CA whose nextUpdate has passed. */
static void write_lapsed_crl(const struct world *w, const char *path)
{
    char key_path[PATH_CAP], ca_path[PATH_CAP];
    path_in(key_path, w->ours, "ca.key");
    path_in(ca_path, w->ours, "ca.crt");
    FILE *f = fopen(key_path, "r");
    assert_non_null(f);
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen(ca_path, "r");
    assert_non_null(f);
    X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(key);
    assert_non_null(ca);
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    time_t now = time(NULL);
    assert_non_null(crl);
    assert_non_null(t);
    assert_int_equal(X509_CRL_set_version(crl, X509_CRL_VERSION_2), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)), 1);
    assert_non_null(X509_time_adj_ex(t, -40, 0, &now));
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
    assert_non_null(X509_time_adj_ex(t, -10, 0, &now));
    assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509_CRL(f, crl), 1);
    assert_int_equal(fclose(f), 0);
    ASN1_TIME_free(t);
    X509_CRL_free(crl);
    X509_free(ca);
    EVP_PKEY_free(key);
}

static void test_lapsed_crl_refuses_every_unit(void **state)
{
    struct world *w = world_of(state);
    char lapsed[PATH_CAP], ca[PATH_CAP], crt[PATH_CAP], key[PATH_CAP], crl[PATH_CAP], err[512];
    path_in(lapsed, w->root, "lapsed.pem");
    path_in(ca, w->ours, "ca.crt");
    path_in(crt, w->ours, "servers/gw.crt");
    path_in(key, w->ours, "servers/gw.key");
    path_in(crl, w->ours, "crl.pem");
    write_lapsed_crl(w, lapsed);

    struct vg_pki_tls_files files = {.ca_cert = ca, .crl = lapsed, .cert = crt, .key = key};
    SSL_CTX *server = NULL;
    check(vg_pki_server_ctx_new_files(&server, &files, err, sizeof err), err);
    SSL_CTX *client = unit_ctx(w->ours, "VG-D", "localhost");
    struct outcome o = connect_pair(server, client);
    assert_false(o.server_ok);
    assert_int_equal(o.verify, X509_V_ERR_CRL_HAS_EXPIRED);

    /* A current CRL brings the units back; going back to the lapsed one,
     * older than the CRL in force, is refused. */
    check(vg_pki_server_ctx_reload_crl(server, crl, err, sizeof err), err);
    assert_accepted(connect_pair(server, client), "VG-D");
    assert_int_equal(vg_pki_server_ctx_reload_crl(server, lapsed, err, sizeof err), VG_ESTALE);
    assert_accepted(connect_pair(server, client), "VG-D");
    SSL_CTX_free(client);
    SSL_CTX_free(server);
}

static void test_peer_cn_needs_a_verified_peer(void **state)
{
    struct world *w = world_of(state);
    SSL_CTX *server = server_ctx(w);
    SSL *ssl = SSL_new(server);
    assert_non_null(ssl);
    char cn[VG_PKI_NAME_MAX + 1] = "x";
    assert_int_equal(vg_pki_peer_cn(ssl, cn, sizeof cn), VG_ESTATE);
    assert_string_equal(cn, "");
    assert_int_equal(vg_pki_peer_cn(NULL, cn, sizeof cn), VG_EINVAL);
    SSL_free(ssl);
    SSL_CTX_free(server);
}

/* The library's own refusals (the CLI's are in test_pki.sh). */
static void test_pki_refusals(void **state)
{
    struct world *w = world_of(state);
    char err[512], path[PATH_CAP];
    assert_int_equal(vg_pki_init(w->ours, NULL, err, sizeof err), VG_EDUPLICATE);
    assert_int_equal(vg_pki_issue_unit(w->ours, "VG-A", NULL, err, sizeof err), VG_EDUPLICATE);
    assert_int_equal(vg_pki_issue_server(w->ours, "gw", NULL, 0, NULL, err, sizeof err),
                     VG_EDUPLICATE);
    assert_int_equal(vg_pki_revoke(w->ours, "VG-NONE", err, sizeof err), VG_ENOTFOUND);
    assert_int_equal(vg_pki_revoke(w->ours, "VG-C", err, sizeof err), VG_ESTATE);
    assert_int_equal(vg_pki_list(w->ours, NULL, NULL, err, sizeof err), VG_EINVAL);
    path_in(path, w->root, "nowhere");
    assert_int_equal(vg_pki_issue_unit(path, "VG-A", NULL, err, sizeof err), VG_ENOTFOUND);

    static const char *const bad[] = {
        "",     "../x", "a/b", ".hidden",
        "-opt", "a b",  "é",   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(vg_pki_name_valid(bad[i]));
        assert_int_equal(vg_pki_issue_unit(w->ours, bad[i], NULL, err, sizeof err), VG_EINVAL);
    }
    assert_false(vg_pki_name_valid(NULL));
    static const char *const good[] = {
        "a", "VG-0001", "unit_7.b", "10.0.0.1",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(vg_pki_name_valid(good[i]));
    static const char *const bad_sans[] = {"a,DNS:evil", "x y"};
    assert_int_equal(vg_pki_issue_server(w->ours, "gw2", bad_sans, 1, NULL, err, sizeof err),
                     VG_EINVAL);
    assert_int_equal(vg_pki_issue_server(w->ours, "gw2", bad_sans + 1, 1, NULL, err, sizeof err),
                     VG_EINVAL);
    path_in(path, w->ours, "servers/gw2.key");
    assert_int_equal(access(path, F_OK), -1);
}

static void test_crl_refresh_sets_30_days(void **state)
{
    struct world *w = world_of(state);
    char err[512], crl[PATH_CAP];
    path_in(crl, w->ours, "crl.pem");
    int64_t next = 0, last = 0, file_next = 0;
    check(vg_pki_crl_refresh(w->ours, &next, err, sizeof err), err);
    check(vg_pki_crl_times(crl, &last, &file_next, err, sizeof err), err);
    assert_int_equal(file_next, next);
    assert_int_equal(next - last, (int64_t)VG_PKI_CRL_DAYS * 86400);

    /* Revocations survive a refresh. */
    SSL_CTX *server = server_ctx(w);
    SSL_CTX *revoked = unit_ctx(w->ours, "VG-C", NULL);
    assert_int_equal(connect_pair(server, revoked).verify, X509_V_ERR_CERT_REVOKED);
    SSL_CTX_free(revoked);
    SSL_CTX_free(server);
}

static int count_entry(const struct vg_pki_entry *e, void *arg)
{
    int *n = arg;
    n[0]++;
    n[1] += e->revoked_at != 0;
    return 0;
}

static void test_list_reports_the_index(void **state)
{
    struct world *w = world_of(state);
    char err[512];
    int n[2] = {0, 0};
    check(vg_pki_list(w->ours, count_entry, n, err, sizeof err), err);
    assert_int_equal(n[0], 5); /* gw and four units */
    assert_int_equal(n[1], 1); /* VG-C */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_unit_is_accepted_with_its_cn),
        cmocka_unit_test(test_client_without_certificate_is_refused),
        cmocka_unit_test(test_certificate_of_another_ca_is_refused),
        cmocka_unit_test(test_unit_refuses_a_server_of_another_ca),
        cmocka_unit_test(test_unit_refuses_a_server_with_another_name),
        cmocka_unit_test(test_server_certificate_is_refused_as_a_unit),
        cmocka_unit_test(test_tls12_is_refused),
        cmocka_unit_test(test_peer_cn_needs_a_verified_peer),
        cmocka_unit_test(test_crl_reload_keeps_the_old_crl_on_failure),
        cmocka_unit_test(test_lapsed_crl_refuses_every_unit),
        /* These change the PKI: VG-C is revoked from here on. */
        cmocka_unit_test(test_revoked_unit_is_refused_after_crl_reload),
        cmocka_unit_test(test_crl_refresh_sets_30_days),
        cmocka_unit_test(test_list_reports_the_index),
        cmocka_unit_test(test_pki_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
