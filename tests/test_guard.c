/* test_guard.c — the request checks that need no connection (server/guard.c), the UTF-8
 * trim of error messages (server/reply.c), strict JSON in (server/jsonin.c) and the access
 * log's escaping (server/accesslog.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "accesslog.h"
#include "guard.h"
#include "jsonin.h"
#include "reply.h"
#include "server.h"

static struct sl_config cfg_for(const char *listen)
{
    struct sl_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.listen_host, sizeof c.listen_host, "%s", listen);
    snprintf(c.allowed_hosts[0], sizeof c.allowed_hosts[0], "scalelab.example.org");
    c.n_allowed_hosts = 1;
    return c;
}

Test(guard, content_type_is_json_exactly)
{
    const char *ok[] = {"application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
                        " application/json ;x=y", "application/json\t;charset=UTF-8"};
    const char *bad[] = {NULL, "", "application/jsonx", "application/json-patch+json",
                         "application/json+x", "text/plain", "text/plain;charset=UTF-8",
                         "application/x-www-form-urlencoded", "multipart/form-data",
                         "application/jso", "json", "application/json,text/plain"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_expect(sl_guard_content_type_ok(ok[i]), "refused '%s'", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect(!sl_guard_content_type_ok(bad[i]), "accepted '%s'", bad[i] ? bad[i] : "(none)");
}

Test(guard, host_on_loopback)
{
    struct sl_config c = cfg_for("127.0.0.1");
    const char *ok[] = {NULL, "127.0.0.1", "127.0.0.1:8080", "localhost", "localhost:8080",
                        "LOCALHOST:1", "localhost.", "scalelab.example.org",
                        "Scalelab.Example.Org:443", "scalelab.example.org."};
    const char *bad[] = {"", "evil.example", "rebind.evil.example:8080", "127.0.0.2",
                         "[::1]:8080", "0.0.0.0", "localhost.evil.example", "evil.localhost",
                         "scalelab.example.org.evil", "127.0.0.1:", "127.0.0.1:x",
                         "127.0.0.1:123456", "127.0.0.1:80:80", "local host", "[127.0.0.1]",
                         "127.0.0.1@evil.example", "2130706433"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_expect(sl_guard_host_ok(&c, ok[i]), "refused Host '%s'", ok[i] ? ok[i] : "(none)");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect(!sl_guard_host_ok(&c, bad[i]), "accepted Host '%s'", bad[i]);
}

Test(guard, host_on_wildcard_and_ipv6)
{
    struct sl_config any = cfg_for("0.0.0.0"), v6 = cfg_for("::1");
    cr_expect(sl_guard_host_ok(&any, "192.0.2.7:8080"));
    cr_expect(sl_guard_host_ok(&any, "[2001:db8::1]:8080"));
    cr_expect(!sl_guard_host_ok(&any, "evil.example:8080"), "a name is never allowed by wildcard");
    cr_expect(sl_guard_host_ok(&v6, "[::1]:8080"));
    cr_expect(sl_guard_host_ok(&v6, "[0:0::1]"));
    cr_expect(!sl_guard_host_ok(&v6, "127.0.0.1"));
    cr_expect(!sl_guard_host_ok(&v6, "::1"), "an IPv6 literal without brackets");
}

Test(guard, origin_must_be_ours)
{
    cr_expect(sl_guard_origin_ok(NULL, "127.0.0.1:8080"), "no Origin: not a browser");
    cr_expect(sl_guard_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080"));
    cr_expect(sl_guard_origin_ok("http://LOCALHOST:8080", "localhost:8080"));
    cr_expect(sl_guard_origin_ok("https://scalelab.example.org", "scalelab.example.org"));
    cr_expect(sl_guard_origin_ok("http://scalelab.example.org", "scalelab.example.org:80"));
    cr_expect(sl_guard_origin_ok("https://scalelab.example.org", "scalelab.example.org:443"));
    cr_expect(!sl_guard_origin_ok("http://scalelab.example.org", "scalelab.example.org:443"));
    cr_expect(!sl_guard_origin_ok("http://evil.example", "127.0.0.1:8080"));
    cr_expect(!sl_guard_origin_ok("null", "127.0.0.1:8080"));
    cr_expect(!sl_guard_origin_ok("http://127.0.0.1:8081", "127.0.0.1:8080"));
    cr_expect(!sl_guard_origin_ok("http://127.0.0.1:8080.evil.example", "127.0.0.1:8080"));
    cr_expect(!sl_guard_origin_ok("http://127.0.0.1", "127.0.0.1:8080"));
    cr_expect(!sl_guard_origin_ok("file://", "127.0.0.1:8080"));
    cr_expect(!sl_guard_origin_ok("http://127.0.0.1:8080", NULL));
}

Test(guard, content_length_digits_only)
{
    uint64_t v = 0;
    cr_expect(sl_guard_content_length("0", &v) && v == 0);
    cr_expect(sl_guard_content_length("65536", &v) && v == 65536);
    cr_expect(sl_guard_content_length("999999999999999999", &v) && v == 999999999999999999ull);
    const char *bad[] = {NULL, "", "-1", "+2", " 2", "2 ", "1x", "0x10", "1,2", "9999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect(!sl_guard_content_length(bad[i], &v), "accepted '%s'", bad[i] ? bad[i] : "(none)");
}

Test(guard, token_exact)
{
    cr_expect(sl_guard_token_ok("Bearer s3cret", "s3cret"));
    cr_expect(!sl_guard_token_ok("Bearer s3cre", "s3cret"));
    cr_expect(!sl_guard_token_ok("Bearer s3cretx", "s3cret"));
    cr_expect(!sl_guard_token_ok("bearer s3cret", "s3cret"));
    cr_expect(!sl_guard_token_ok("s3cret", "s3cret"));
    cr_expect(!sl_guard_token_ok(NULL, "s3cret"));
}

Test(reply, utf8_trim_cuts_on_a_character_boundary)
{
    char s[16];
    strcpy(s, "ab\xc3\xa9\xc3"); /* é then the first byte of another */
    cr_expect_eq(sl_utf8_trim(s), 4);
    cr_expect_str_eq(s, "ab\xc3\xa9");
    strcpy(s, "x\xf0\x9f\x98"); /* 3 of the 4 bytes of an emoji */
    cr_expect_eq(sl_utf8_trim(s), 1);
    cr_expect_str_eq(s, "x");
    strcpy(s, "a\xff" "b\xc0\xaf" "c"); /* invalid bytes and an overlong '/' in the middle */
    sl_utf8_trim(s);
    cr_expect_str_eq(s, "a?b??c");
    strcpy(s, "\xed\xa0\x80"); /* a UTF-16 surrogate */
    sl_utf8_trim(s);
    cr_expect_str_eq(s, "???");
    /* Whatever comes in, the result packs as a JSON string. */
    for (unsigned b = 1; b < 256; b++)
        for (unsigned c = 0; c < 256; c += 17) {
            char t[4] = {(char)b, (char)c, 0, 0};
            sl_utf8_trim(t);
            json_t *j = json_string(t);
            cr_expect(j != NULL, "bytes %02x %02x", b, c);
            json_decref(j);
        }
}

Test(reply, error_json_survives_a_cut_message_and_field)
{
    char msg[600];
    memset(msg, 0, sizeof msg);
    strcpy(msg, "workload \"");
    for (int i = 0; i < 300 && strlen(msg) < sizeof msg - 3; i++)
        strcat(msg, "\xc3\xa9");
    msg[511] = '\0'; /* what a 512-byte buffer leaves: cut inside an é */
    json_t *o = sl_error_json("unknown", msg, "work\xc3");
    cr_assert(o);
    json_t *e = json_object_get(o, "error");
    cr_expect_str_eq(json_string_value(json_object_get(e, "code")), "unknown");
    cr_expect_eq(strlen(json_string_value(json_object_get(e, "message"))), 510);
    cr_expect_str_eq(json_string_value(json_object_get(e, "field")), "work");
    json_decref(o);
}

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
