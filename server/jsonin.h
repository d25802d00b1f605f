/* jsonin.h — strict JSON in: what a request body must be before a handler looks at it.
 *
 * One JSON object, nothing after it, no key twice (Jansson's JSON_REJECT_DUPLICATES: with
 * "last one wins" a proxy or a log and the server could read two different jobs out of one
 * body), nested at most SL_JSON_MAX_DEPTH deep; the size is bounded before (SL_MAX_BODY).
 */
#ifndef SL_JSONIN_H
#define SL_JSONIN_H

#include <jansson.h>
#include <stddef.h>

#define SL_JSON_MAX_DEPTH 8

/* Parse buf[0..len) as a JSON object. Returns 0 with *out (caller decrefs), or -SL_EINVAL
 * with a sentence naming the problem (with line and column where Jansson gives them) in
 * err. */
int sl_jsonin_object(const char *buf, size_t len, json_t **out, char *err, size_t errlen);

#endif /* SL_JSONIN_H */
