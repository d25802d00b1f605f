/* fuzz_job.c — libFuzzer target: a request body through the server's strict JSON entry
 * (jsonin.c) and the engine's job parser (job.c), as POST /api/runs does.
 *
 * What must hold for any input: no crash or sanitizer report; a refusal's message, once
 * trimmed (reply.c), always packs as JSON (the 422 a client gets is well-formed); an
 * accepted job turns back into JSON that the parser accepts again, unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "jsonin.h"
#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct sl_job_limits lim;

/* The error body the server would send: it must carry this message, not the fallback that
 * stands for text that could not be sent. */
static void refusal(const char *msg, const char *field)
{
    json_t *o = sl_error_json("invalid", msg, field);
    if (!o || strcmp(json_string_value(json_object_get(json_object_get(o, "error"), "code")),
                     "invalid") != 0)
        abort();
    json_decref(o);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sl_job_limits_default(&lim); /* probes the host: once */
    lim.max_cores = 4;
    lim.oversubscribe_max = 16;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body;
    char err[512];
    if (size > 64 * 1024)
        return 0;
    if (sl_jsonin_object((const char *)data, size, &body, err, sizeof err) != 0) {
        refusal(err, NULL);
        return 0;
    }
    struct sl_job job, again;
    if (sl_job_from_json(body, &lim, &job, err, sizeof err) != 0) {
        refusal(err, sl_job_error_field());
    } else {
        json_t *normal = sl_job_to_json(&job);
        if (!normal || sl_job_from_json(normal, &lim, &again, err, sizeof err) != 0)
            abort(); /* the normal form of an accepted job must be accepted */
        json_t *twice = sl_job_to_json(&again);
        if (!json_equal(normal, twice))
            abort();
        json_decref(twice);
        json_decref(normal);
    }
    json_decref(body);
    return 0;
}
