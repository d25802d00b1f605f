/* guard.h — what a request must satisfy before any handler runs: sound HTTP framing, a
 * Host this server answers to, and for mutating routes a same-origin Origin, a JSON
 * Content-Type and the bearer token.
 *
 * Why each check (see docs/API.md, "Cross-site protection"):
 * - Framing: libmicrohttpd 0.9.75 reads the body by the first Content-Length and passes
 *   conflicting or extra ones through; a request that could be read two ways (two
 *   Content-Lengths, one that is not a number, Transfer-Encoding other than chunked or
 *   together with Content-Length) is refused with 400 and the connection closed, so no
 *   second request can be read out of its body. A declared body over the limit is refused
 *   with 413 before a byte of it is read.
 * - Host: a DNS-rebinding page reaches us under its own name; only the listen address, any
 *   IP literal when listening on a wildcard address, "localhost", and names given with
 *   --allowed-host are answered; anything else gets 421 (Misdirected Request), reads
 *   included. An HTTP/1.0 request without Host comes from no browser and passes; HTTP/1.1
 *   without one, or any with two, is a 400.
 * - Origin: browsers send it on every POST/DELETE; one that is not this server's own
 *   origin (or is "null") gets 403.
 * - Content-Type: a page can send a "simple" cross-site POST (form, no-cors fetch,
 *   sendBeacon) only as text/plain, form or multipart; requiring exactly application/json
 *   (parameters allowed) on every mutating route, bodiless cancel and DELETE included,
 *   forces a CORS preflight that this server never grants. Missing or other: 415.
 *
 * The checks on strings are pure functions, so the fuzzer and the unit tests call them
 * directly.
 */
#ifndef SL_GUARD_H
#define SL_GUARD_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

struct sl_config;

/* Why a request is refused: the status, the error code and message, and one header to add
 * (NULL for none). */
struct sl_refusal {
    unsigned status;       /* 400, 401, 403, 413, 415, 421 */
    const char *code;      /* the error body's code */
    char message[256];     /* what is wrong and how to fix it */
    const char *header;    /* e.g. "WWW-Authenticate" */
    const char *value;
};

/* Framing of the request on conn (version: "HTTP/1.1" or "HTTP/1.0"): exactly one Host
 * (none allowed in HTTP/1.0), Content-Length (at most one, digits only, at most max_body)
 * and Transfer-Encoding (only "chunked", never with Content-Length).
 * Returns 0, or -1 with *why filled. */
int sl_guard_framing(struct MHD_Connection *conn, const char *version, uint64_t max_body,
                     struct sl_refusal *why);

/* Host, Origin, Content-Type and token checks of conn for a route (mutating != 0: it
 * changes state). Returns 0, or -1 with *why filled. */
int sl_guard_request(const struct sl_config *cfg, struct MHD_Connection *conn, int mutating,
                     struct sl_refusal *why);

/* The pure checks, each 1 when the value is acceptable, 0 when not. */
/* A Content-Length value: 1*DIGIT, no sign or space, < 10^18; the number in *out. */
int sl_guard_content_length(const char *value, uint64_t *out);
/* host (a Host header value, NULL when absent) is one this server answers to. */
int sl_guard_host_ok(const struct sl_config *cfg, const char *host);
/* origin (NULL when absent) is the origin of host (the request's Host value). */
int sl_guard_origin_ok(const char *origin, const char *host);
/* ct is application/json, optionally with parameters. */
int sl_guard_content_type_ok(const char *ct);
/* auth is "Bearer <token>" (compared in constant time). */
int sl_guard_token_ok(const char *auth, const char *token);

#endif /* SL_GUARD_H */
