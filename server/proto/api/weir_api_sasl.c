/*
 * weir_api_sasl.c: SASL sign-on - SaslHandshake (ApiKey 17) v0-1,
 * SaslAuthenticate (ApiKey 36) v0-1, raw SASL token frames, and the gate
 * that keeps unauthenticated connections to the sign-on APIs.
 *
 * Both client styles work on one listener, chosen by the handshake version:
 *   - SaslHandshake v0, then the PLAIN token as a raw length-prefixed frame,
 *     answered with a raw (empty) token; a failure closes the connection
 *     (kafka-python);
 *   - SaslHandshake v1, then SaslAuthenticate carrying the token (librdkafka
 *     v0, kafkajs v1); a failure answers SASL_AUTHENTICATION_FAILED with a
 *     message and closes the connection once the answer is written.
 * The password check runs on the worker pool (auth/weir_ldap.c): the request
 * is deferred meanwhile, and a connection that closes first cancels it.
 *
 * With connections.max.reauth.ms > 0, SaslAuthenticate v1 tells the client
 * its session lifetime; a connection used after it for anything but
 * re-authentication (SaslHandshake v1 + SaslAuthenticate, same user) is
 * closed, as KIP-368 specifies.
 */
#include <stdio.h>

#include <openssl/crypto.h>

#include "weir_api.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_ldap.h"
#include "weir_log.h"
#include "weir_sasl_plain.h"

#define WEIR_SASL_MSG_INVALID "Authentication failed: Invalid username or password"
#define WEIR_SASL_MSG_UNAVAILABLE                                                           \
    "Authentication failed: the LDAP directory is unavailable or too slow; try again later"
#define WEIR_SASL_MSG_ERROR "Authentication failed: the sign-on could not be checked"

/* A sign-on waiting for LDAP. */
typedef struct weir_sasl_pending_s {
    weir_req_t *req;
    weir_ldap_job_t *job;
    bool raw;        /* token came as a raw frame (SaslHandshake v0) */
    char *user;
} weir_sasl_pending_t;

static const char *
weir_sasl_api_name(int16_t key)
{
    const weir_api_desc_t *d = weir_api_desc(key);
    return d ? d->name : "unknown";
}

int
weir_sasl_gate(weir_req_t *req)
{
    weir_conn_t *conn = req->conn;
    int16_t key = req->ApiKey;
    char why[160];

    switch (conn->sasl_state) {
    case WEIR_SASL_NONE:
        return 0;
    case WEIR_SASL_HANDSHAKE:
        if (key == WEIR_API_ApiVersions || key == WEIR_API_SaslHandshake)
            return 0;
        snprintf(why, sizeof(why), "%s before SASL authentication", weir_sasl_api_name(key));
        break;
    case WEIR_SASL_AUTHENTICATE:
        if (key == WEIR_API_SaslAuthenticate)
            return 0;
        snprintf(why, sizeof(why), "%s during SASL authentication (expected SaslAuthenticate)",
                 weir_sasl_api_name(key));
        break;
    case WEIR_SASL_DONE:
        if (key == WEIR_API_SaslHandshake || key == WEIR_API_SaslAuthenticate)
            return 0;
        if (conn->session_expiry_ms && weir_mono_ms() >= conn->session_expiry_ms) {
            snprintf(why, sizeof(why), "SASL session expired (connections.max.reauth.ms) and "
                     "%s was not a re-authentication", weir_sasl_api_name(key));
            break;
        }
        return 0;
    default:
        snprintf(why, sizeof(why), "%s after a failed SASL authentication",
                 weir_sasl_api_name(key));
        break;
    }
    WEIR_LOG(WEIR_LOG_INFO, "sasl_illegal_request", "conn=%llu listener=%s peer=%s api=%s "
             "version=%d", (unsigned long long)conn->id, conn->lst->name, conn->peer,
             weir_sasl_api_name(key), req->ApiVersion);
    weir_conn_close(conn, why);
    return -1;
}

/* ------------------------------------------------------------------ */
/* SaslHandshake                                                      */

int
weir_api_SaslHandshake(weir_req_t *req)
{
    weir_conn_t *conn = req->conn;
    weir_str_t mechanism = weir_rd_str(&req->rd);
    weir_kerr_t err = WEIR_KERR_NONE;
    const char *close_why = NULL;
    weir_msg_t *resp;

    if (req->rd.err)
        return -1;
    switch (conn->sasl_state) {
    case WEIR_SASL_HANDSHAKE:
        break;
    case WEIR_SASL_DONE:
        /* KIP-368 re-authentication: only for clients that signed on with
         * SaslAuthenticate v1 or later, and with a v1 handshake.  Otherwise,
         * as on a listener without SASL, Kafka answers ILLEGAL_SASL_STATE and
         * the connection stays. */
        if (req->ApiVersion >= 1 && conn->sasl_auth_version >= 1)
            break;
        err = WEIR_KERR_ILLEGAL_SASL_STATE;
        break;
    case WEIR_SASL_NONE:
        err = WEIR_KERR_ILLEGAL_SASL_STATE;
        break;
    default:
        err = WEIR_KERR_ILLEGAL_SASL_STATE;
        close_why = "SaslHandshake out of sequence";
        break;
    }
    if (!err && !weir_str_eq(mechanism, "PLAIN")) {
        err = WEIR_KERR_UNSUPPORTED_SASL_MECHANISM;
        close_why = "unsupported SASL mechanism";
        WEIR_LOG(WEIR_LOG_INFO, "sasl_mechanism_unsupported", "conn=%llu peer=%s "
                 "mechanism=\"%.*s\" enabled=PLAIN", (unsigned long long)conn->id, conn->peer,
                 mechanism.len > 0 ? (mechanism.len > 64 ? 64 : mechanism.len) : 0,
                 mechanism.len > 0 ? mechanism.ptr : "");
    }
    resp = weir_resp_new(req, 64);
    weir_wr_i16(&resp->buf, (int16_t)err);
    weir_wr_array(&resp->buf, conn->sasl_state == WEIR_SASL_NONE ? 0 : 1);
    if (conn->sasl_state != WEIR_SASL_NONE)
        weir_wr_cstr(&resp->buf, "PLAIN");
    if (!err)
        conn->sasl_state = req->ApiVersion == 0 ? WEIR_SASL_RAW : WEIR_SASL_AUTHENTICATE;
    else if (close_why)
        weir_conn_close_after_write(conn, close_why, false);
    weir_req_respond(req, resp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The outcome of a sign-on                                           */

/* Answers a sign-on: success sets the principal; failure answers
 * SASL_AUTHENTICATION_FAILED (or, after raw frames, just closes), with
 * client_msg when given (a malformed token), else a message for the kind of
 * failure. */
static void
weir_sasl_finish(weir_req_t *req, bool raw, const char *user, const weir_ldap_result_t *res,
                 const char *client_msg)
{
    weir_conn_t *conn = req->conn;
    weir_broker_t *brk = req->brk;
    const char *msg = NULL;
    weir_msg_t *resp;
    int64_t lifetime = 0;

    if (!conn) {
        /* The client went away while LDAP was asked. */
        weir_req_free(req);
        return;
    }
    if (res->status == WEIR_LDAP_OK && conn->sasl_authenticated &&
        strcmp(conn->principal.user, res->user) != 0) {
        WEIR_LOG(WEIR_LOG_INFO, "sasl_reauthentication_refused", "conn=%llu peer=%s user=%s "
                 "new_user=%s reason=\"a connection cannot change principals\"",
                 (unsigned long long)conn->id, conn->peer, conn->principal.user, res->user);
        msg = "Authentication failed: cannot change principals during re-authentication";
    } else if (res->status == WEIR_LDAP_OK) {
        bool reauth = conn->sasl_authenticated;
        size_t glen = 0;
        char groups[512];

        weir_principal_set(&conn->principal, WEIR_AUTH_SASL_PLAIN, res->user, res->groups,
                           res->ngroups);
        conn->sasl_authenticated = true;
        conn->sasl_state = WEIR_SASL_DONE;
        conn->sasl_auth_version = raw ? -1 : req->ApiVersion;
        lifetime = brk->conf->connections_max_reauth_ms;
        conn->session_expiry_ms = lifetime > 0 ? weir_mono_ms() + lifetime : 0;
        groups[0] = '\0';
        for (size_t i = 0; i < res->ngroups && glen < sizeof(groups); i++)
            glen += (size_t)snprintf(groups + glen, sizeof(groups) - glen, "%sGroup:%s",
                                     i ? "," : "", res->groups[i]);
        WEIR_LOG(WEIR_LOG_INFO, reauth ? "sasl_reauthenticated" : "sasl_authenticated",
                 "conn=%llu listener=%s peer=%s principal=User:%s groups=\"%s\" cache=%s "
                 "session_lifetime_ms=%lld", (unsigned long long)conn->id, conn->lst->name,
                 conn->peer, res->user, groups, res->cached ? "hit" : "miss",
                 (long long)lifetime);
    } else {
        msg = client_msg                             ? client_msg
              : res->status == WEIR_LDAP_INVALID     ? WEIR_SASL_MSG_INVALID
              : res->status == WEIR_LDAP_UNAVAILABLE ? WEIR_SASL_MSG_UNAVAILABLE
                                                     : WEIR_SASL_MSG_ERROR;
        /* Wrong passwords are worth a line each; an LDAP outage or error was
         * reported once by the checker, so each refused sign-on is debug. */
        WEIR_LOG(res->status == WEIR_LDAP_INVALID ? WEIR_LOG_INFO : WEIR_LOG_DEBUG,
                 "sasl_authentication_failed", "conn=%llu listener=%s peer=%s user=\"%s\" "
                 "reason=\"%s\"", (unsigned long long)conn->id, conn->lst->name, conn->peer,
                 user, res->reason);
    }
    if (msg) {
        bool quiet = res->status != WEIR_LDAP_INVALID && res->status != WEIR_LDAP_OK;
        /* /metrics: credentials refused (not an LDAP outage). */
        if (!quiet || client_msg)
            conn->lst->auth_failures++;
        conn->sasl_state = WEIR_SASL_FAILED;
        weir_conn_close_after_write(conn, "SASL authentication failed", quiet);
        if (raw) {
            /* Raw frames have no way to carry an error: close. */
            weir_req_no_response(req);
            return;
        }
    }
    if (raw) {
        resp = weir_msg_new(16); /* an empty token: just its length, 0 */
    } else {
        resp = weir_resp_new(req, 128);
        weir_wr_i16(&resp->buf, (int16_t)(msg ? WEIR_KERR_SASL_AUTHENTICATION_FAILED
                                              : WEIR_KERR_NONE));
        weir_wr_cstr(&resp->buf, msg);                 /* ErrorMessage */
        weir_wr_bytes(&resp->buf, "", 0);              /* AuthBytes: empty */
        if (req->ApiVersion >= 1)
            weir_wr_i64(&resp->buf, msg ? 0 : lifetime); /* SessionLifetimeMs */
    }
    weir_req_respond(req, resp);
}

static void
weir_sasl_pending_free(weir_sasl_pending_t *p)
{
    free(p->user);
    free(p);
}

static void
weir_sasl_on_ldap(void *arg, const weir_ldap_result_t *res)
{
    weir_sasl_pending_t *p = arg;
    weir_req_t *req = p->req;

    req->cancel = NULL;
    req->ctx = NULL;
    weir_sasl_finish(req, p->raw, p->user, res, NULL);
    weir_sasl_pending_free(p);
}

/* The connection closed while LDAP was asked. */
static void
weir_sasl_cancel(weir_req_t *req)
{
    weir_sasl_pending_t *p = req->ctx;

    weir_ldap_cancel(p->job);
    weir_sasl_pending_free(p);
    req->ctx = NULL;
}

/* Checks a PLAIN token (inside the request's frame, wiped here). */
static void
weir_sasl_start(weir_req_t *req, const uint8_t *token, size_t len, bool raw)
{
    weir_conn_t *conn = req->conn;
    weir_sasl_plain_t m;
    weir_ldap_result_t res;
    weir_sasl_pending_t *p;
    char err[160];

    memset(&res, 0, sizeof(res));
    if (weir_sasl_plain_parse(token, len, &m, err, sizeof(err)) != 0) {
        OPENSSL_cleanse((void *)token, len);
        res.status = WEIR_LDAP_INVALID;
        snprintf(res.reason, sizeof(res.reason), "%s", err);
        weir_sasl_finish(req, raw, "", &res, err);
        return;
    }
    OPENSSL_cleanse((void *)token, len);
    p = weir_calloc(1, sizeof(*p));
    p->req = req;
    p->raw = raw;
    p->user = weir_strdup(m.user);
    /* The checker owns the password from here. */
    p->job = weir_ldap_authenticate(conn->brk->ldap, m.user, m.password, m.password_len,
                                    weir_sasl_on_ldap, p, &res);
    m.password = NULL;
    m.password_len = 0;
    weir_sasl_plain_clear(&m);
    if (!p->job) {
        /* Answered by the sign-on cache. */
        weir_sasl_finish(req, raw, p->user, &res, NULL);
        weir_ldap_result_clear(&res);
        weir_sasl_pending_free(p);
        return;
    }
    req->ctx = p;
    req->cancel = weir_sasl_cancel;
}

/* ------------------------------------------------------------------ */
/* SaslAuthenticate and raw tokens                                    */

int
weir_api_SaslAuthenticate(weir_req_t *req)
{
    weir_conn_t *conn = req->conn;
    weir_str_t bytes = weir_rd_bytes(&req->rd);
    weir_msg_t *resp;

    weir_rd_tags(&req->rd);
    if (req->rd.err) {
        OPENSSL_cleanse(req->frame, req->frame_len);
        return -1;
    }
    if (conn->sasl_state == WEIR_SASL_AUTHENTICATE && bytes.len >= 0) {
        weir_sasl_start(req, (const uint8_t *)bytes.ptr, (size_t)bytes.len, false);
        return 0;
    }
    OPENSSL_cleanse(req->frame, req->frame_len);
    resp = weir_resp_new(req, 128);
    weir_wr_i16(&resp->buf, (int16_t)WEIR_KERR_ILLEGAL_SASL_STATE);
    weir_wr_cstr(&resp->buf, conn->sasl_state == WEIR_SASL_NONE
                                 ? "SaslAuthenticate on a listener without SASL"
                                 : "SaslAuthenticate without a preceding SaslHandshake v1");
    weir_wr_bytes(&resp->buf, "", 0);
    if (req->ApiVersion >= 1)
        weir_wr_i64(&resp->buf, 0);
    /* As Kafka: on a listener without SASL (or after a finished sign-on)
     * the answer is an error and the connection stays. */
    if (conn->sasl_state != WEIR_SASL_NONE && conn->sasl_state != WEIR_SASL_DONE)
        weir_conn_close_after_write(conn, "SaslAuthenticate out of sequence", false);
    weir_req_respond(req, resp);
    return 0;
}

int
weir_sasl_raw_frame(weir_conn_t *conn, uint8_t *alloc, uint8_t *frame, size_t len)
{
    weir_req_t *req = weir_calloc(1, sizeof(*req));

    /* Not a Kafka request: a pseudo-request carries the frame through the
     * same deferral and cancellation as any other. */
    req->conn = conn;
    req->brk = conn->brk;
    req->ApiKey = -1;
    req->alloc = alloc;
    req->frame = frame;
    req->frame_len = len;
    req->recv_us = weir_mono_us();
    conn->cur = req;
    weir_sasl_start(req, frame, len, true);
    return 0;
}
