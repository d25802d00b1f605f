/* jsonin.c — strict JSON in (see jsonin.h). */
#include <stdio.h>

#include "jsonin.h"
#include "sl.h"

/* Depth of nesting of j: a scalar is 0, {} or [] is 1. Stops counting past limit. */
static int depth(const json_t *j, int limit)
{
    int d = 0;
    if (limit < 0)
        return 1;
    if (json_is_object(j)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            int x = depth(v, limit - 1);
            if (x > d)
                d = x;
        }
        return d + 1;
    }
    if (json_is_array(j)) {
        size_t i;
        const json_t *v;
        json_array_foreach(j, i, v) {
            int x = depth(v, limit - 1);
            if (x > d)
                d = x;
        }
        return d + 1;
    }
    return 0;
}

int sl_jsonin_object(const char *buf, size_t len, json_t **out, char *err, size_t errlen)
{
    json_error_t e;
    *out = NULL;
    if (!buf || len == 0) {
        snprintf(err, errlen, "the body must be a JSON object such as {\"workload\": \"pi\"}");
        return -SL_EINVAL;
    }
    /* No JSON_DISABLE_EOF_CHECK: anything but white space after the value is an error. */
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        snprintf(err, errlen, "the body is not valid JSON: %s (line %d, column %d)", e.text,
                 e.line, e.column);
        return -SL_EINVAL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(err, errlen, "the body must be a JSON object such as {\"workload\": \"pi\"}");
        return -SL_EINVAL;
    }
    if (depth(j, SL_JSON_MAX_DEPTH) > SL_JSON_MAX_DEPTH) {
        json_decref(j);
        snprintf(err, errlen, "the body nests objects and arrays more than %d deep",
                 SL_JSON_MAX_DEPTH);
        return -SL_EINVAL;
    }
    *out = j;
    return 0;
}
