/* static.c — the dashboard's files (see static.h).
 *
 * MHD has already decoded %xx, so a ".." segment seen here is a real one: it is refused
 * outright, and the resolved path must still lie inside the resolved root, so a symlink
 * placed in static/ cannot lead out of it either. The file is opened once and its
 * descriptor handed to MHD, so what was checked is what is sent.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reply.h"
#include "server.h"
#include "static.h"

static const struct {
    const char *ext, *type;
} mime[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
    {".ico", "image/x-icon"}, {".map", "application/json"}, {".txt", "text/plain; charset=utf-8"},
};

static const char *mime_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof mime / sizeof mime[0]; i++)
        if (strcmp(dot, mime[i].ext) == 0)
            return mime[i].type;
    return "application/octet-stream";
}

static enum MHD_Result not_found(struct sl_req *r)
{
    return sl_reply_error(r, 404, "not_found", "no such file");
}

enum MHD_Result sl_static_serve(struct sl_req *r)
{
    const char *url = strcmp(r->url, "/") == 0 ? "/index.html" : r->url;
    char path[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
    r->route = "static";
    if (strstr(url, "/..") || strchr(url, '\\') || strlen(url) > 512)
        return not_found(r);
    snprintf(path, sizeof path, "%s%s", r->srv->cfg.static_dir, url);
    if (!realpath(r->srv->cfg.static_dir, root) || !realpath(path, real) ||
        strncmp(real, root, strlen(root)) != 0 || real[strlen(root)] != '/')
        return not_found(r);
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return not_found(r);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", mime_type(real));
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    return sl_reply_response(r, 200, resp);
}
