/* The chat app from hearth serve's own origin (--app DIR: web/app after
 * `make app`), with the headers docs/app.md says a deployment must send:
 * cross-origin isolation on everything, a Content-Security-Policy on pages
 * and on scripts (a worker's policy is its script's own header). Only the
 * files the app's pages load are served, by the same rule as web/serve.mjs
 * (its /web/app/ mount): no dotfiles, no other folders, nothing a symlink
 * leads to outside DIR. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"

/* docs/app.md, "Headers a deployment must send" (web/serve.mjs's PAGE_CSP and WORKER_CSP, without the
 * development server's local model hosts). */
static const char PAGE_CSP[] =
    "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self' https:; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "object-src 'none'; frame-ancestors 'none'";
static const char WORKER_CSP[] =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' https:; "
    "base-uri 'none'";

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), t = strlen(tail);
    return n > t && strcmp(s + n - t, tail) == 0;
}

/* A name of letters, digits, '_', '-' and '.', not starting with a dot. */
static bool plain_name(const char *s, size_t n) {
    if (n == 0 || s[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return false;
    }
    return true;
}

/* Whether rel ("engine/dist/hearth.wasm") is a file the app loads. */
static bool app_file(const char *rel) {
    const char *slash = strrchr(rel, '/');
    const char *name = slash ? slash + 1 : rel;
    if (!plain_name(name, strlen(name))) return false;
    size_t dir_len = slash ? (size_t)(slash - rel) : 0;
    if (!slash) return ends_with(name, ".html") || ends_with(name, ".mjs") || ends_with(name, ".js") ||
                       ends_with(name, ".css") || ends_with(name, ".json");
#define IN(d) (dir_len == strlen(d) && strncmp(rel, d, dir_len) == 0)
    if (IN("vendor")) return ends_with(name, ".mjs") || ends_with(name, ".js");
    if (IN("engine")) return ends_with(name, ".mjs") || strcmp(name, "files.txt") == 0;
    if (IN("engine/dist")) return ends_with(name, ".wasm");
    if (IN("engine/gpu")) return ends_with(name, ".mjs");
#undef IN
    /* the engine's vendored libraries, one folder each (engine/vendor/noble-hashes/sha2.js) */
    static const char vendor[] = "engine/vendor/";
    const size_t vl = sizeof vendor - 1;
    if (dir_len > vl && strncmp(rel, vendor, vl) == 0 && plain_name(rel + vl, dir_len - vl))
        return ends_with(name, ".js");
    return false;
}

static const char *mime(const char *name) {
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json; charset=utf-8"}, {".wasm", "application/wasm"},
        {".txt", "text/plain; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (ends_with(name, types[i][0])) return types[i][1];
    return "application/octet-stream";
}

/* Cross-origin isolation (SharedArrayBuffer, so the engine's threads) on every file. */
static void isolation(struct MHD_Response *resp) {
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Embedder-Policy", "require-corp");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

static enum MHD_Result not_found(serve_request *r) {
    return serve_respond_error(r, MHD_HTTP_NOT_FOUND, "invalid_request_error", "not_found", "no such path: %s",
                               r->path);
}

bool serve_app(serve_request *r, enum MHD_Result *res) {
    const char *dir = r->cfg->app_dir;
    if (!dir || r->path[0] != '/') return false;
    bool get = strcmp(r->method, "GET") == 0, head = strcmp(r->method, "HEAD") == 0;
    const char *rel = strcmp(r->path, "/") == 0 ? "index.html" : r->path + 1;
    /* libmicrohttpd has decoded %XX; a NUL or ".." cannot pass plain_name's segments. */
    for (const char *seg = rel; *seg;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (!plain_name(seg, n)) return false;
        seg = end ? end + 1 : seg + n;
        if (end && !*seg) return false;
    }
    if (!app_file(rel)) return false;
    if (!get && !head) {
        *res = serve_respond_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "invalid_request_error", "method_not_allowed",
                                   "the app's files take GET");
        return true;
    }
    char path[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= sizeof path || !realpath(dir, root) || !realpath(path, real) ||
        strncmp(real, root, strlen(root)) != 0 || real[strlen(root)] != '/') {
        *res = not_found(r);
        return true;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0) close(fd);
        *res = not_found(r);
        return true;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd); /* closes fd */
    if (!resp) {
        close(fd);
        *res = MHD_NO;
        return true;
    }
    isolation(resp);
    MHD_add_response_header(resp, "Content-Type", mime(rel));
    /* The app's service worker keeps it offline; the HTTP cache must not serve a stale engine. */
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    if (ends_with(rel, ".html")) MHD_add_response_header(resp, "Content-Security-Policy", PAGE_CSP);
    else if (ends_with(rel, ".mjs") || ends_with(rel, ".js"))
        MHD_add_response_header(resp, "Content-Security-Policy", WORKER_CSP);
    *res = serve_respond(r, MHD_HTTP_OK, resp);
    return true;
}
