/* test_jsonin.c — strict JSON in (server/jsonin.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "jsonin.h"

Test(jsonin, strict)
{
    json_t *j;
    char err[256];
    cr_expect(sl_jsonin_object("{\"a\":1}", 7, &j, err, sizeof err) == 0);
    json_decref(j);
    cr_expect(sl_jsonin_object("{\"a\":1,\"a\":2}", 13, &j, err, sizeof err) != 0);
    cr_expect(strstr(err, "duplicate") != NULL, "%s", err);
    cr_expect(sl_jsonin_object("{\"a\":1} x", 9, &j, err, sizeof err) != 0);
    cr_expect(sl_jsonin_object("[1]", 3, &j, err, sizeof err) != 0);
    cr_expect(sl_jsonin_object("", 0, &j, err, sizeof err) != 0);
    const char *deep8 = "{\"a\":[[[[[[[1]]]]]]]}", *deep9 = "{\"a\":[[[[[[[[1]]]]]]]]}";
    cr_expect(sl_jsonin_object(deep8, strlen(deep8), &j, err, sizeof err) == 0, "%s", err);
    json_decref(j);
    cr_expect(sl_jsonin_object(deep9, strlen(deep9), &j, err, sizeof err) != 0);
    cr_expect(strstr(err, "8 deep") != NULL, "%s", err);
}
