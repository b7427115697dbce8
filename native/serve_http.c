/* hearth serve's HTTP layer on libmicrohttpd: a thread per connection (a
 * connection waits on its generation while the one worker runs the model,
 * so blocking there is the simple, bounded choice: --max-connections
 * threads at most), request bodies and headers capped, the API key, and a
 * Host check against DNS rebinding. Everything else is serve_routes.c's. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "serve.h"

struct serve_server {
    struct MHD_Daemon *d;
    serve_config cfg;
    int port;
};

/* One connection's request as it arrives. */
typedef struct {
    char *body;
    size_t len, cap;
    bool too_large;
} upload;

enum MHD_Result serve_respond(serve_request *r, unsigned status, struct MHD_Response *resp) {
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result res = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return res;
}

enum MHD_Result serve_respond_json(serve_request *r, unsigned status, char *json, size_t len) {
    if (!json) return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, json, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(json);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return serve_respond(r, status, resp);
}

enum MHD_Result serve_respond_error(serve_request *r, unsigned status, const char *type, const char *code,
                                    const char *fmt, ...) {
    char message[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    serve_text t;
    if (!serve_text_open(&t)) return MHD_NO;
    serve_json_error(t.f, message, type, code);
    if (!serve_text_close(&t)) return MHD_NO;
    return serve_respond_json(r, status, t.p, t.len);
}

bool serve_client_gone(int fd) {
    if (fd < 0) return false;
#ifdef POLLRDHUP
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
#else
    /* (no POLLRDHUP outside Linux: a readable socket with nothing to read has been shut by the client;
     * a request's body was read before its generation began, so nothing else is waiting there) */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) return true;
    char c;
    return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
#endif
}

bool serve_wait(const serve_request *r, serve_job *j, serve_ready_fn ready, const void *arg) {
    pthread_mutex_lock(&j->lock);
    while (!ready(j, arg)) {
        /* A short sleep between looks at the socket: a hang-up cancels the
         * job within one token of the model, or sooner. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 20 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&j->changed, &j->lock, &until);
        if (ready(j, arg)) break;
        pthread_mutex_unlock(&j->lock);
        if (serve_client_gone(r->fd)) {
            atomic_store(&j->cancelled, true);
            serve_pool_poke(r->cfg->pool);
            return false;
        }
        pthread_mutex_lock(&j->lock);
    }
    pthread_mutex_unlock(&j->lock);
    return true;
}

/* A comparison that takes as long for every wrong key of a length. */
static bool key_matches(const char *given, const char *key) {
    size_t gl = strlen(given), kl = strlen(key);
    unsigned char diff = gl != kl;
    for (size_t i = 0; i < kl; i++) diff |= (unsigned char)(given[i < gl ? i : 0] ^ key[i]);
    return diff == 0;
}

static bool authorized(serve_request *r) {
    const char *key = r->cfg->api_key;
    if (!key) return true;
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    return h && strncasecmp(h, "Bearer ", 7) == 0 && key_matches(h + 7, key);
}

static enum MHD_Result answer(serve_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                              upload *u) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    serve_request r = {.conn = conn, .cfg = &s->cfg, .fd = ci ? ci->connect_fd : -1, .method = method, .path = url,
                       .body = u->body ? u->body : "", .body_len = u->len};
    if (u->too_large)
        return serve_respond_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "invalid_request_error", "request_too_large",
                                   "the request body is larger than the server takes (%zu bytes; --max-body)",
                                   s->cfg.max_body);
    if (serve_address_is_loopback(s->cfg.host) &&
        !serve_host_is_local(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host")))
        return serve_respond_error(&r, MHD_HTTP_FORBIDDEN, "invalid_request_error", "forbidden_host",
                                   "this server answers requests for localhost only (the Host header names another)");
    if (strncmp(url, "/v1/", 4) == 0 && !authorized(&r))
        return serve_respond_error(&r, MHD_HTTP_UNAUTHORIZED, "invalid_request_error", "invalid_api_key",
                                   "a valid API key is needed: send the header \"Authorization: Bearer KEY\"");
    return serve_route(&r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **con_cls) {
    (void)version;
    serve_server *s = cls;
    upload *u = *con_cls;
    if (!u) {
        u = calloc(1, sizeof *u);
        if (!u) return MHD_NO;
        *con_cls = u;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body) {
            u->too_large = true;
            return answer(s, conn, url, method, u); /* at once: the body is never read (MHD closes) */
        }
        return MHD_YES;
    }
    if (*data_size) {
        size_t n = *data_size;
        *data_size = 0;
        if (u->too_large || n > s->cfg.max_body - u->len) {
            u->too_large = true; /* the rest is read and dropped, then 413 */
            return MHD_YES;
        }
        if (u->len + n + 1 > u->cap) {
            size_t cap = u->cap ? u->cap : 4096;
            while (cap < u->len + n + 1) cap *= 2;
            char *b = realloc(u->body, cap);
            if (!b) return MHD_NO;
            u->body = b;
            u->cap = cap;
        }
        memcpy(u->body + u->len, data, n);
        u->len += n;
        u->body[u->len] = 0;
        return MHD_YES;
    }
    return answer(s, conn, url, method, u);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode tc) {
    (void)cls, (void)conn, (void)tc;
    upload *u = *con_cls;
    if (!u) return;
    free(u->body);
    free(u);
    *con_cls = NULL;
}

hearth_status serve_start(serve_server **out, const serve_config *cfg, hearth_error *err) {
    *out = NULL;
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)cfg->port)};
    const struct sockaddr *addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    if (inet_pton(AF_INET, cfg->host, &a4.sin_addr) == 1) {
        addr = (const struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, cfg->host, &a6.sin6_addr) == 1) {
        addr = (const struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        return hearth_fail(err, HEARTH_E_ARG, "--host %s: give a numeric IPv4 or IPv6 address", cfg->host);
    }
    serve_server *s = calloc(1, sizeof *s);
    if (!s) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    s->cfg = *cfg;
    /* The connection's memory pool holds the request line and headers (and
     * the body in pieces): its size is the header cap. */
    s->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, addr,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->max_header,
                            MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                            MHD_OPTION_THREAD_STACK_SIZE, (size_t)512 * 1024,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_END);
    if (!s->d) {
        free(s);
        return hearth_fail(err, HEARTH_E_IO, "cannot listen on %s port %d (in use, or not an address of this machine)",
                           cfg->host, cfg->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    *out = s;
    return HEARTH_OK;
}

int serve_port(const serve_server *s) { return s->port; }

void serve_stop(serve_server *s) {
    if (!s) return;
    MHD_stop_daemon(s->d);
    free(s);
}
