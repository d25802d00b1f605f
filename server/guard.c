/* guard.c — framing, Host, Origin, Content-Type and token checks (see guard.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "guard.h"
#include "server.h"

/* --- the pure checks --- */

int sl_guard_content_length(const char *value, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    if (!value || !*value)
        return 0;
    for (; value[i]; i++) {
        if (value[i] < '0' || value[i] > '9' || i >= 18)
            return 0;
        v = v * 10 + (uint64_t)(value[i] - '0');
    }
    *out = v;
    return 1;
}

/* The name part of a Host value, lowercased, without brackets, port or one trailing dot,
 * into out. 1 when the value is well-formed (name, optional :port of 1-5 digits). */
static int host_name(const char *host, char *out, size_t outlen, int *bracketed)
{
    const char *end, *port;
    *bracketed = host[0] == '[';
    if (*bracketed) {
        host++;
        end = strchr(host, ']');
        if (!end)
            return 0;
        port = end + 1;
    } else {
        end = strchr(host, ':');
        if (!end)
            end = host + strlen(host);
        port = end;
    }
    if (*port) {
        size_t digits = strspn(port + 1, "0123456789");
        if (*port != ':' || digits < 1 || digits > 5 || port[1 + digits])
            return 0;
    }
    size_t n = (size_t)(end - host);
    if (n && host[n - 1] == '.' && !*bracketed)
        n--;
    if (n == 0 || n >= outlen)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)host[i];
        if (!(isalnum(c) || c == '-' || c == '.' || (*bracketed && c == ':')))
            return 0;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return 1;
}

/* name as an address (v4, or v6 when it came in brackets): family, and bytes in addr. */
static int ip_literal(const char *name, int bracketed, unsigned char addr[16])
{
    if (bracketed)
        return inet_pton(AF_INET6, name, addr) == 1 ? AF_INET6 : 0;
    return inet_pton(AF_INET, name, addr) == 1 ? AF_INET : 0;
}

int sl_guard_host_ok(const struct sl_config *cfg, const char *host)
{
    char name[256];
    int bracketed;
    unsigned char a[16], l[16];
    if (!host) /* HTTP/1.0 without Host: no browser sends that */
        return 1;
    if (!host_name(host, name, sizeof name, &bracketed))
        return 0;
    if (!bracketed && strcmp(name, "localhost") == 0) /* browsers resolve it to loopback */
        return 1;
    for (unsigned i = 0; i < cfg->n_allowed_hosts; i++)
        if (!bracketed && strcasecmp(name, cfg->allowed_hosts[i]) == 0)
            return 1;
    int fam = ip_literal(name, bracketed, a);
    if (!fam)
        return 0;
    /* The listen address itself; any address of this host when listening on all of them
     * (an address literal cannot be re-pointed by DNS, so rebinding cannot use it). */
    if (strcmp(cfg->listen_host, "0.0.0.0") == 0 || strcmp(cfg->listen_host, "::") == 0)
        return 1;
    int lfam = strchr(cfg->listen_host, ':') ? AF_INET6 : AF_INET;
    return lfam == fam && inet_pton(lfam, cfg->listen_host, l) == 1 &&
           memcmp(a, l, fam == AF_INET ? 4 : 16) == 0;
}

int sl_guard_origin_ok(const char *origin, const char *host)
{
    if (!origin) /* not a browser: browsers send Origin with every POST and DELETE */
        return 1;
    if (!host)
        return 0;
    const char *hp;
    const char *dflt;
    if (strncasecmp(origin, "http://", 7) == 0) {
        hp = origin + 7;
        dflt = ":80";
    } else if (strncasecmp(origin, "https://", 8) == 0) { /* behind a TLS proxy */
        hp = origin + 8;
        dflt = ":443";
    } else {
        return 0; /* "null" (sandboxed frames, file:) and anything else */
    }
    if (strcasecmp(hp, host) == 0)
        return 1;
    /* http://name and Host name:80 are the same origin */
    size_t hl = strlen(host), dl = strlen(dflt), ol = strlen(hp);
    return hl == ol + dl && strncasecmp(hp, host, ol) == 0 && strcmp(host + ol, dflt) == 0;
}

int sl_guard_content_type_ok(const char *ct)
{
    static const char json[] = "application/json";
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, json, sizeof json - 1) != 0)
        return 0;
    ct += sizeof json - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

int sl_guard_token_ok(const char *auth, const char *token)
{
    static const char bearer[] = "Bearer ";
    if (!auth || strncmp(auth, bearer, sizeof bearer - 1) != 0)
        return 0;
    /* Constant time in the token's content, so it cannot be guessed byte by byte. */
    const char *a = auth + sizeof bearer - 1;
    size_t la = strlen(a), lb = strlen(token);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ token[i]);
    return d == 0;
}

/* --- the checks on a connection --- */

static int refuse(struct sl_refusal *why, unsigned status, const char *code, const char *msg)
{
    why->status = status;
    why->code = code;
    snprintf(why->message, sizeof why->message, "%s", msg);
    why->header = why->value = NULL;
    return -1;
}

struct framing {
    unsigned lengths, encodings, hosts; /* headers seen */
    const char *length, *encoding; /* the first values */
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (strcasecmp(key, "Content-Length") == 0 && f->lengths++ == 0)
        f->length = value ? value : "";
    else if (strcasecmp(key, "Transfer-Encoding") == 0 && f->encodings++ == 0)
        f->encoding = value ? value : "";
    else if (strcasecmp(key, "Host") == 0)
        f->hosts++;
    return MHD_YES;
}

int sl_guard_framing(struct MHD_Connection *conn, const char *version, uint64_t max_body,
                     struct sl_refusal *why)
{
    struct framing f = {0, 0, 0, NULL, NULL};
    uint64_t len = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
    /* Two Hosts could be read as two different servers by a proxy and by us; HTTP/1.1
     * requires one (MHD 0.9.75 lets both through). */
    if (f.hosts > 1 || (f.hosts == 0 && version && strcmp(version, "HTTP/1.0") != 0))
        return refuse(why, 400, "bad_request", "send exactly one Host header");
    if (f.lengths > 1)
        return refuse(why, 400, "bad_request",
                      "more than one Content-Length header: send exactly one");
    if (f.lengths && !sl_guard_content_length(f.length, &len))
        return refuse(why, 400, "bad_request",
                      "Content-Length must be a whole number of bytes, digits only");
    if (f.encodings > 1 || (f.encodings && strcasecmp(f.encoding, "chunked") != 0))
        return refuse(why, 400, "bad_request",
                      "the only Transfer-Encoding accepted is one 'chunked'");
    if (f.encodings && f.lengths)
        return refuse(why, 400, "bad_request",
                      "send Content-Length or Transfer-Encoding: chunked, not both");
    if (len > max_body) {
        refuse(why, 413, "too_large", "");
        snprintf(why->message, sizeof why->message,
                 "the request body is larger than %llu bytes", (unsigned long long)max_body);
        return -1;
    }
    return 0;
}

int sl_guard_request(const struct sl_config *cfg, struct MHD_Connection *conn, int mutating,
                     struct sl_refusal *why)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    if (!sl_guard_host_ok(cfg, host))
        return refuse(why, 421, "wrong_host",
                      "this server does not answer to that Host name: use its address, "
                      "localhost, or a name it was started with (--allowed-host)");
    if (!mutating)
        return 0;
    if (!sl_guard_origin_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"), host))
        return refuse(why, 403, "cross_origin",
                      "changes are accepted only from this server's own pages (Origin differs "
                      "from Host)");
    if (!sl_guard_content_type_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type")))
        return refuse(why, 415, "unsupported_media_type",
                      "send 'Content-Type: application/json' with every POST and DELETE, "
                      "even without a body");
    if (cfg->token[0] &&
        !sl_guard_token_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
                           cfg->token)) {
        refuse(why, 401, "unauthorized",
               "this server needs 'Authorization: Bearer <token>' for changes");
        why->header = "WWW-Authenticate";
        why->value = "Bearer";
        return -1;
    }
    return 0;
}
