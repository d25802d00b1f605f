/* reply.h — answers: JSON bodies, plain bodies, and {"error": ...} bodies, all built with
 * Jansson so that every byte on the wire is well-formed JSON of the length it claims.
 *
 * Each sl_reply_* queues a response on the request's connection, records the status for the
 * access log and metrics, and returns MHD's result. A message that came from outside (a
 * job's refusal quoting the client's text) may be cut anywhere by a fixed buffer: it is
 * trimmed back to whole UTF-8 characters before Jansson sees it.
 */
#ifndef SL_REPLY_H
#define SL_REPLY_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

struct sl_req;

/* The body json as compact JSON with status; json is stolen (NULL: a 500). */
enum MHD_Result sl_reply_json(struct sl_req *r, unsigned status, json_t *json);
/* body[0..len) with Content-Type type. copy != 0: MHD copies it; else MHD frees it with
 * free(). disposition: a Content-Disposition value, or NULL. */
enum MHD_Result sl_reply_body(struct sl_req *r, unsigned status, const char *type,
                              const char *body, size_t len, int copy, const char *disposition);
/* {"error": {"code", "message"}} from a printf format. */
enum MHD_Result sl_reply_error(struct sl_req *r, unsigned status, const char *code,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same with "field" (the job field a refusal concerns; NULL or "" for none). */
enum MHD_Result sl_reply_refusal(struct sl_req *r, unsigned status, const char *code,
                                 const char *field, const char *msg);
/* Queue resp (destroyed here; NULL answers MHD_NO, which closes the connection). */
enum MHD_Result sl_reply_response(struct sl_req *r, unsigned status, struct MHD_Response *resp);

/* An {"error": {"code", "message"[, "field"]}} response for a caller that adds headers.
 * msg is trimmed to valid UTF-8 on a copy; never fails for bad text (the message becomes a
 * generic one), returns NULL only when memory runs out. Caller queues or destroys it. */
struct MHD_Response *sl_error_response(const char *code, const char *msg, const char *field);
/* The same body as JSON (caller decrefs); NULL only when memory runs out. */
json_t *sl_error_json(const char *code, const char *msg, const char *field);

/* Cut s (NUL-terminated, in place) so that it is valid UTF-8: an incomplete character at
 * the end (what snprintf leaves when it truncates) is removed, and any other invalid byte
 * becomes '?'. Returns the new length. */
size_t sl_utf8_trim(char *s);

#endif /* SL_REPLY_H */
