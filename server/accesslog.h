/* accesslog.h — one line per answered request, to stderr or to a file.
 *
 * A line is: client method url status duration-ms [(aborted)]. The method and URL come from
 * the client: every byte outside printable ASCII, the space, the backslash and the double
 * quote is written as \xHH (so each field stays one word), so a request can never start a line of its own (no forged entries) or
 * smuggle terminal escapes; the URL is cut at SL_ACCESSLOG_URL_MAX bytes.
 * A file is opened for appending; sl_accesslog_reopen() (on SIGHUP) reopens it after
 * logrotate moved it away; past max_bytes it is renamed to FILE.1 (one old file kept) and a
 * new one started, so the log never grows without bound even without logrotate.
 */
#ifndef SL_ACCESSLOG_H
#define SL_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

#define SL_ACCESSLOG_URL_MAX 1024

struct sl_accesslog;

/* A log writing to path, or to stderr when path is NULL or "" (then max_bytes is not
 * applied: the process's supervisor owns stderr). max_bytes 0 = no bound. Returns NULL
 * with a sentence in err when the file cannot be opened. Free with sl_accesslog_free. */
struct sl_accesslog *sl_accesslog_open(const char *path, uint64_t max_bytes, char *err,
                                       size_t errlen);
void sl_accesslog_free(struct sl_accesslog *log);
/* Reopen the file (after a rotation by someone else). Returns 0 or -SL_EIO; on failure the
 * old descriptor is kept. A no-op for stderr. */
int sl_accesslog_reopen(struct sl_accesslog *log);
/* Write one line (thread-safe). client: an address as text. */
void sl_accesslog_write(struct sl_accesslog *log, const char *client, const char *method,
                        const char *url, unsigned status, double ms, int aborted);
/* in as text safe for one log line, into out (always NUL-terminated); at most max bytes of
 * in are read. Returns the length written. */
size_t sl_accesslog_escape(char *out, size_t outlen, const char *in, size_t max);

#endif /* SL_ACCESSLOG_H */
