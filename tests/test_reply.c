/* test_reply.c — error bodies (server/reply.c): a message or field cut inside a UTF-8
 * character still makes a JSON body, cut on the character boundary. */
#include <criterion/criterion.h>
#include <string.h>

#include "reply.h"

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
