/* http.h — the libmicrohttpd daemon: start, stop, the port bound, and how it is run.
 *
 * bench/hello_mhd.c, the bare server scalelab-server is measured against, includes this
 * header for SL_HTTP_POOL_BYTES, so that the two differ only by scalelab's own code.
 */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include <stddef.h>

struct sl_server;

/* Each connection's memory pool: the request line, headers and read buffer must fit, so it
 * bounds them (past it MHD answers 431/414). libmicrohttpd 0.9.75 zeroes the whole pool
 * for every request, so its size is also a cost per request: measured with callgrind, 32 KiB
 * (MHD's default) spends 49,000 instructions per GET in memset, 16 KiB 24,600. */
#define SL_HTTP_POOL_BYTES ((size_t)16 * 1024)

/* Start HTTP on srv->cfg's address. Returns 0 or a negative SL_E* code with a sentence in
 * err. */
int sl_http_start(struct sl_server *srv, char *err, size_t errlen);
void sl_http_stop(struct sl_server *srv);
/* The port actually bound. */
unsigned sl_http_port(struct sl_server *srv);

#endif /* SL_HTTP_H */
