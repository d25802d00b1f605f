/* static.h — the dashboard's files, served from one directory (--static) for any GET that
 * is not an API route. */
#ifndef SL_STATIC_H
#define SL_STATIC_H

#include <microhttpd.h>

struct sl_req;

/* Answer r with the file its URL names under the server's static directory ("/" is
 * index.html): 200 with the file, or a JSON 404 for anything missing, not a regular file,
 * or outside the directory (a ".." segment, or a symlink that resolves elsewhere). */
enum MHD_Result sl_static_serve(struct sl_req *r);

#endif /* SL_STATIC_H */
