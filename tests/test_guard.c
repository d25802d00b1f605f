/* test_guard.c — the request checks that need no connection (server/guard.c): Content-Type,
 * Host, Origin, Content-Length, token. */
#include <criterion/criterion.h>
#include <string.h>

#include "guard.h"
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
