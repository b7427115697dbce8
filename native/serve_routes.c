/* What each path of hearth serve does: /health, /v1/models, and the two
 * completion endpoints, whose requests go through the same parser as the
 * browser worker's (chat_request.c) and then to a slot's chat loop. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "serve.h"

static enum MHD_Result health(serve_request *r) {
    serve_pool_state s;
    serve_pool_state_of(r->cfg->pool, &s);
    serve_text t;
    if (!serve_text_open(&t)) return MHD_NO;
    fprintf(t.f, "{\"status\":\"ok\",\"slots\":%d,\"slots_busy\":%d,\"queued\":%d,\"queue_size\":%d,"
                 "\"served\":%lu,\"cancelled\":%lu,\"decode_batches\":%lu,\"decode_rows\":%lu}",
            s.slots, s.busy, s.queued, s.queue_cap, s.served, s.cancelled, s.decode_batches, s.decode_rows);
    if (!serve_text_close(&t)) return MHD_NO;
    return serve_respond_json(r, MHD_HTTP_OK, t.p, t.len);
}

static enum MHD_Result models(serve_request *r) {
    serve_text t;
    if (!serve_text_open(&t)) return MHD_NO;
    fputs("{\"object\":\"list\",\"data\":[{\"id\":", t.f);
    json_string(t.f, r->cfg->model_id, strlen(r->cfg->model_id));
    fprintf(t.f, ",\"object\":\"model\",\"created\":%ld,\"owned_by\":\"hearth\"}]}", r->cfg->created);
    if (!serve_text_close(&t)) return MHD_NO;
    return serve_respond_json(r, MHD_HTTP_OK, t.p, t.len);
}

static bool started(const serve_job *j, const void *arg) {
    (void)arg;
    return j->started;
}

static bool finished(const serve_job *j, const void *arg) {
    (void)arg;
    return j->finished;
}

/* Read under the job's lock: the worker may be finishing it (a failure is
 * its last write, so what failed() reads then stays put). */
static bool has_failed(serve_job *j) {
    pthread_mutex_lock(&j->lock);
    bool f = j->failure != SERVE_FAIL_NONE;
    pthread_mutex_unlock(&j->lock);
    return f;
}

static enum MHD_Result failed(serve_request *r, serve_job *j) {
    unsigned status;
    const char *type, *code;
    serve_failure_kind(j, &status, &type, &code);
    return serve_respond_error(r, status, type, code, "%s", j->error);
}

static enum MHD_Result whole_answer(serve_request *r, serve_job *j, const serve_answer_head *h) {
    if (!serve_wait(r, j, finished, NULL)) return MHD_NO;
    if (j->failure) return failed(r, j);
    serve_text t;
    if (!serve_text_open(&t)) return MHD_NO;
    serve_json_answer(t.f, h, j);
    if (!serve_text_close(&t)) return MHD_NO;
    return serve_respond_json(r, MHD_HTTP_OK, t.p, t.len);
}

static enum MHD_Result complete(serve_request *r, bool raw) {
    const char *type = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
    /* JSON only: a browser cannot send that cross-origin without asking
     * first (CORS), and this server never says yes. */
    if (!type || strncasecmp(type, "application/json", 16) != 0 || (type[16] && type[16] != ';' && type[16] != ' '))
        return serve_respond_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "invalid_request_error", "unsupported_media_type",
                                   "send the request as JSON (Content-Type: application/json)");
    chat_request req;
    serve_form form;
    hearth_error err = {0};
    if (serve_parse_request(r->body, r->body_len, raw, &req, &form, &err))
        return serve_respond_error(r, MHD_HTTP_BAD_REQUEST, "invalid_request_error", "invalid_value", "%s", err.message);
    serve_job *j = serve_job_create(&req, raw, form.top_logprobs);
    if (!j) {
        chat_request_free(&req);
        return serve_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error", "out_of_memory", "out of memory");
    }
    atomic_store(&j->client_fd, r->fd);
    switch (serve_pool_submit(r->cfg->pool, j)) {
    case SERVE_QUEUE_FULL: {
        serve_pool_state s;
        serve_pool_state_of(r->cfg->pool, &s);
        serve_job_release(j);
        return serve_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error", "server_busy",
                                   "the server is busy: %d slots answering and %d requests waiting (the queue holds %d); "
                                   "retry later",
                                   s.slots, s.queued, s.queue_cap);
    }
    case SERVE_STOPPING:
        serve_job_release(j);
        return serve_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error", "unavailable",
                                   "the server is shutting down");
    case SERVE_QUEUED:
        break;
    }
    char id[64];
    snprintf(id, sizeof id, "%s-%lx-%lu", raw ? "cmpl" : "chatcmpl", (unsigned long)time(NULL), j->number);
    serve_answer_head h = {.id = id, .model = r->cfg->model_id, .created = (long)time(NULL), .raw = raw};
    enum MHD_Result res;
    if (!form.stream) res = whole_answer(r, j, &h);
    /* The status line waits for the start: a request the template refuses still gets its 400. */
    else if (!serve_wait(r, j, started, NULL)) res = MHD_NO;
    else if (has_failed(j)) res = failed(r, j);
    else res = serve_stream(r, j, &h, form.include_usage);
    /* A whole answer is done (or its client gone), and a stream that did not
     * start has no reader: the worker stops watching a socket that MHD may
     * close and reuse. A running stream's is watched until it ends (end_stream). */
    if (!form.stream || res != MHD_YES) atomic_store(&j->client_fd, -1);
    serve_job_release(j);
    return res;
}

static enum MHD_Result wrong_method(serve_request *r, const char *allowed) {
    serve_text t;
    if (!serve_text_open(&t)) return MHD_NO;
    char message[128];
    snprintf(message, sizeof message, "%s takes %s", r->path, allowed);
    serve_json_error(t.f, message, "invalid_request_error", "method_not_allowed");
    if (!serve_text_close(&t)) return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(t.len, t.p, MHD_RESPMEM_MUST_FREE);
    if (!resp) return free(t.p), MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Allow", allowed);
    return serve_respond(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

enum MHD_Result serve_route(serve_request *r) {
    bool get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;
    if (strcmp(r->path, "/health") == 0) return get ? health(r) : wrong_method(r, "GET");
    if (strcmp(r->path, "/v1/models") == 0) return get ? models(r) : wrong_method(r, "GET");
    if (strcmp(r->path, "/v1/chat/completions") == 0) return post ? complete(r, false) : wrong_method(r, "POST");
    if (strcmp(r->path, "/v1/completions") == 0) return post ? complete(r, true) : wrong_method(r, "POST");
    enum MHD_Result res;
    if (serve_app(r, &res)) return res;
    return serve_respond_error(r, MHD_HTTP_NOT_FOUND, "invalid_request_error", "not_found", "no such path: %s",
                               r->path);
}
