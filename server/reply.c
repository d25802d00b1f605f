/* reply.c — every answer the server sends goes through here (see reply.h).
 *
 * No JSON is written by hand: error bodies are json_pack'ed, and when that fails (a message
 * that is not UTF-8, or no memory) the fallback is another json_pack of a constant message,
 * then an empty body; never a literal with a counted length.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "server.h"

/* Length of the UTF-8 character at s (1..4), 0 when s[0] cannot start or continue one,
 * -1 when the string ends (NUL) inside a character that was valid so far. */
static int utf8_char(const unsigned char *s)
{
    unsigned char c = s[0];
    int n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing past U+10FFFF */
    } else
        return 0;
    for (int i = 1; i < n; i++) {
        unsigned char b = s[i];
        if (b == 0)
            return -1;
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
            return 0;
    }
    return n;
}

size_t sl_utf8_trim(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t i = 0;
    while (p[i]) {
        int n = utf8_char(p + i);
        if (n < 0) { /* cut inside the last character: drop its head */
            p[i] = '\0';
            break;
        }
        if (n == 0) {
            p[i++] = '?';
            continue;
        }
        i += (size_t)n;
    }
    return i;
}

enum MHD_Result sl_reply_response(struct sl_req *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    r->status = status;
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A response around body (MHD frees it), with our usual headers; NULL on OOM (body freed). */
static struct MHD_Response *json_response(char *body, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return NULL;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return resp;
}

enum MHD_Result sl_reply_body(struct sl_req *r, unsigned status, const char *type,
                              const char *body, size_t len, int copy, const char *disposition)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)body, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        if (!copy)
            free((void *)body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (disposition)
        MHD_add_response_header(resp, "Content-Disposition", disposition);
    return sl_reply_response(r, status, resp);
}

enum MHD_Result sl_reply_json(struct sl_req *r, unsigned status, json_t *json)
{
    char *s = json ? json_dumps(json, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(json);
    if (!s)
        return sl_reply_refusal(r, 500, "internal", NULL, "the answer could not be built");
    return sl_reply_body(r, status, "application/json", s, strlen(s), 0, NULL);
}

json_t *sl_error_json(const char *code, const char *msg, const char *field)
{
    char text[1024];
    snprintf(text, sizeof text, "%s", msg ? msg : "");
    sl_utf8_trim(text);
    json_t *o = json_pack("{s{ssss}}", "error", "code", code, "message", text);
    if (!o) /* code itself was not text we can send */
        o = json_pack("{s{ssss}}", "error", "code", "internal", "message",
                      "the error could not be described");
    if (o && field && *field) {
        char f[64];
        snprintf(f, sizeof f, "%s", field);
        sl_utf8_trim(f);
        json_object_set_new(json_object_get(o, "error"), "field", json_string(f));
    }
    return o;
}

struct MHD_Response *sl_error_response(const char *code, const char *msg, const char *field)
{
    json_t *o = sl_error_json(code, msg, field);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s)
        return json_response(s, strlen(s));
    /* Out of memory: an empty body still tells the status truthfully. */
    return MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
}

enum MHD_Result sl_reply_refusal(struct sl_req *r, unsigned status, const char *code,
                                 const char *field, const char *msg)
{
    return sl_reply_response(r, status, sl_error_response(code, msg, field));
}

enum MHD_Result sl_reply_error(struct sl_req *r, unsigned status, const char *code,
                               const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_reply_refusal(r, status, code, NULL, msg);
}
