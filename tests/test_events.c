/* test_events.c — the live events hub: caps on listeners, the bounded buffer of a listener
 * (dropped with a final event), and the backlog read a page at a time outside the lock.
 *
 * Listeners here have no connection: the tests only read when data is pending or the
 * stream has ended, so the hub never has a connection to suspend or resume.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "events.h"
#include "sl.h"

static json_t *measurement(int seq)
{
    return json_pack("{sisssi}", "seq", seq, "backend", "serial", "wall_ns", 1000 + seq);
}

/* Read everything pending into out (NUL-terminated); returns 1 when the stream has ended. */
static int read_all(struct sl_listener *l, char *out, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = sl_listener_read(l, out + len, cap - 1 - len);
        if (n == MHD_CONTENT_READER_END_OF_STREAM) {
            out[len] = '\0';
            return 1;
        }
        cr_assert(n > 0, "read %zd: the listener would suspend", n);
        len += (size_t)n;
        cr_assert(len < cap - 1, "more than %zu bytes", cap);
    }
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

Test(events, caps_per_address_then_in_all)
{
    struct sl_events_limits lim = {60, 3, 2, 0};
    struct sl_events *ev = sl_events_new(&lim);
    int why = 0;
    struct sl_listener *a = sl_listener_new(ev, 1, NULL, "10.0.0.1", NULL, NULL, NULL, &why);
    struct sl_listener *b = sl_listener_new(ev, 1, NULL, "10.0.0.1", NULL, NULL, NULL, &why);
    cr_assert(a && b && why == 0);
    cr_assert_null(sl_listener_new(ev, 2, NULL, "10.0.0.1", NULL, NULL, NULL, &why));
    cr_assert_eq(why, -SL_ELIMIT, "third of one address: %d", why);
    struct sl_listener *c = sl_listener_new(ev, 1, NULL, "10.0.0.2", NULL, NULL, NULL, &why);
    cr_assert(c && why == 0);
    cr_assert_null(sl_listener_new(ev, 1, NULL, "10.0.0.3", NULL, NULL, NULL, &why));
    cr_assert_eq(why, -SL_EUNAVAIL, "fourth in all: %d", why);
    cr_assert_eq(sl_events_listeners(ev), 3);
    sl_listener_free(a); /* a slot frees up */
    struct sl_listener *d = sl_listener_new(ev, 1, NULL, "10.0.0.1", NULL, NULL, NULL, &why);
    cr_assert(d && why == 0);
    sl_listener_free(b);
    sl_listener_free(c);
    sl_listener_free(d);
    cr_assert_eq(sl_events_listeners(ev), 0);
    sl_events_free(ev);
}

Test(events, a_listener_that_falls_behind_is_dropped_with_a_final_event)
{
    struct sl_events_limits lim = {60, 10, 10, 2048};
    struct sl_events *ev = sl_events_new(&lim);
    int why = 0;
    struct sl_listener *slow = sl_listener_new(ev, 7, NULL, "a", NULL, NULL, NULL, &why);
    struct sl_listener *other = sl_listener_new(ev, 8, NULL, "a", NULL, NULL, NULL, &why);
    for (int seq = 1; seq <= 1000; seq++) { /* ~60 bytes each: far past 2048 */
        json_t *m = measurement(seq);
        sl_events_publish(ev, 7, "measurement", m, 0);
        json_decref(m);
    }
    cr_assert_eq(sl_events_dropped(ev), 1);
    static char out[1 << 20];
    cr_assert(read_all(slow, out, sizeof out), "the dropped stream does not end");
    cr_assert(strlen(out) <= 2048 + 512, "%zu bytes were kept for a 2048-byte bound", strlen(out));
    int sent = count(out, "event: measurement\n");
    cr_assert(sent > 0 && sent < 1000, "%d measurements kept", sent);
    char want[64];
    snprintf(want, sizeof want, "\"seq\":%d,", sent); /* whole events, in order, up to the drop */
    cr_assert(strstr(out, want), "measurement %d is not the last one kept:\n%s", sent, out);
    const char *last = strstr(out, "event: dropped\ndata: {");
    cr_assert(last, "no dropped event:\n%s", out);
    cr_assert(strstr(last, "\"id\":7") && strstr(last, "reconnect"), "%s", last);
    cr_assert_eq(count(out, "event: "), sent + 1, "events after the dropped one");
    /* The other run's listener was not touched. */
    cr_assert_eq(sl_events_dropped(ev), 1);
    sl_listener_free(slow);
    sl_listener_free(other);
    sl_events_free(ev);
}

/* A store of 300 measurements, read by the backlog a page at a time. */
static int calls, largest_page;
static json_t *fake_backlog(void *ctx, int64_t id, int64_t after, unsigned max)
{
    int stored = *(int *)ctx;
    json_t *page = json_array();
    cr_assert_eq(id, 5);
    calls++;
    for (int seq = (int)after + 1; seq <= stored && json_array_size(page) < max; seq++)
        json_array_append_new(page, measurement(seq));
    if ((int)json_array_size(page) > largest_page)
        largest_page = (int)json_array_size(page);
    return page;
}

static void prime_final(void *ctx, int64_t id, struct sl_listener *l)
{
    (void)ctx;
    json_t *st = json_pack("{sIss}", "id", (json_int_t)id, "status", "done");
    sl_listener_send(l, "status", st, 1);
    json_decref(st);
}

Test(events, a_late_listener_reads_the_store_a_page_at_a_time_then_the_final_status)
{
    struct sl_events_limits lim = {60, 10, 10, 4096};
    struct sl_events *ev = sl_events_new(&lim);
    int stored = 300, why = 0;
    calls = largest_page = 0;
    struct sl_listener *l = sl_listener_new(ev, 5, NULL, "a", prime_final, fake_backlog, &stored, &why);
    cr_assert_eq(calls, 0, "the backlog was read while registering (under the lock)");
    static char out[1 << 20];
    cr_assert(read_all(l, out, sizeof out));
    cr_assert_eq(count(out, "event: measurement\n"), 300);
    cr_assert_eq(sl_events_dropped(ev), 0, "a backlog bigger than the bound dropped its listener");
    cr_assert(calls >= 300 / largest_page && largest_page <= 64, "%d calls, pages of %d", calls, largest_page);
    const char *fin = strstr(out, "event: status\n");
    cr_assert(fin && strstr(out, "\"seq\":300,") < fin, "the final status is not after the backlog");
    cr_assert_eq(count(out, "event: status\n"), 1);
    sl_listener_free(l);
    sl_events_free(ev);
}
