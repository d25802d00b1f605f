/* test_accesslog.c — the access log's escaping (server/accesslog.c); the file, its bound
 * and SIGHUP are tested through the server (tests/api/hardening-accesslog.test.mjs). */
#include <criterion/criterion.h>

#include "accesslog.h"

Test(accesslog, escape)
{
    char out[64];
    sl_accesslog_escape(out, sizeof out, "/a b\r\n\"\\\x7f\xc3\xa9", 100);
    cr_expect_str_eq(out, "/a\\x20b\\x0d\\x0a\\x22\\x5c\\x7f\\xc3\\xa9");
    sl_accesslog_escape(out, 8, "\n\n\n\n", 100); /* never a half escape */
    cr_expect_str_eq(out, "\\x0a");
    sl_accesslog_escape(out, sizeof out, "abcdef", 3);
    cr_expect_str_eq(out, "abc");
}
