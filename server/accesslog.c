/* accesslog.c — the access log (see accesslog.h).
 *
 * Each line is formatted whole in a buffer and written with one write(2) under a mutex, so
 * lines from several HTTP threads never interleave and a reopen never splits one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accesslog.h"
#include "sl.h"

struct sl_accesslog {
    pthread_mutex_t mu;  /* guards fd and size */
    int fd;              /* the file, or 2 */
    int own;             /* 1: fd is our file (path set) */
    char path[1024];     /* the file's name */
    uint64_t max_bytes;  /* rotate past this size; 0 = never */
    uint64_t size;       /* bytes in the file now */
};

static int open_file(struct sl_accesslog *log)
{
    int fd = open(log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return -SL_EIO;
    struct stat st;
    log->size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (log->fd >= 0 && log->own)
        close(log->fd);
    log->fd = fd;
    return 0;
}

struct sl_accesslog *sl_accesslog_open(const char *path, uint64_t max_bytes, char *err,
                                       size_t errlen)
{
    struct sl_accesslog *log = calloc(1, sizeof *log);
    if (!log) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&log->mu, NULL);
    log->fd = 2;
    if (!path || !*path)
        return log;
    log->fd = -1;
    log->own = 1;
    log->max_bytes = max_bytes;
    snprintf(log->path, sizeof log->path, "%s", path);
    if (open_file(log) != 0) {
        snprintf(err, errlen, "cannot open the access log %s: %s", path, strerror(errno));
        free(log);
        return NULL;
    }
    return log;
}

void sl_accesslog_free(struct sl_accesslog *log)
{
    if (!log)
        return;
    if (log->own && log->fd >= 0)
        close(log->fd);
    pthread_mutex_destroy(&log->mu);
    free(log);
}

int sl_accesslog_reopen(struct sl_accesslog *log)
{
    if (!log || !log->own)
        return 0;
    pthread_mutex_lock(&log->mu);
    int rc = open_file(log);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

size_t sl_accesslog_escape(char *out, size_t outlen, const char *in, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!outlen)
        return 0;
    for (size_t i = 0; in && in[i] && i < max; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c > 0x20 && c < 0x7f && c != '\\' && c != '"') {
            if (o + 1 >= outlen)
                break;
            out[o++] = (char)c;
        } else {
            if (o + 4 >= outlen)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

/* Past the bound: FILE -> FILE.1 (replacing the older one), then a new FILE. */
static void rotate(struct sl_accesslog *log)
{
    char old[1100];
    snprintf(old, sizeof old, "%s.1", log->path);
    if (rename(log->path, old) == 0)
        open_file(log);
}

void sl_accesslog_write(struct sl_accesslog *log, const char *client, const char *method,
                        const char *url, unsigned status, double ms, int aborted)
{
    char m[64], u[4 * SL_ACCESSLOG_URL_MAX + 8], line[sizeof u + 256];
    if (!log)
        return;
    sl_accesslog_escape(m, sizeof m, method, 15);
    size_t ul = sl_accesslog_escape(u, sizeof u, url, SL_ACCESSLOG_URL_MAX);
    int n = snprintf(line, sizeof line, "%s %s %s%s %u %.3f ms%s\n", client, m, u,
                     url && strlen(url) > SL_ACCESSLOG_URL_MAX && ul ? "..." : "", status, ms,
                     aborted ? " (aborted)" : "");
    if (n <= 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    pthread_mutex_lock(&log->mu);
    if (log->own && log->max_bytes && log->size + len > log->max_bytes)
        rotate(log);
    if (write(log->fd, line, len) == (ssize_t)len)
        log->size += len;
    pthread_mutex_unlock(&log->mu);
}
