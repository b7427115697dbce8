/* An answer as Server-Sent Events, as OpenAI streams it: one "data: {chunk}"
 * event per piece of text the chat loop made final, a last chunk with the
 * finish_reason, the usage when stream_options.include_usage asks, and
 * "data: [DONE]". libmicrohttpd pulls the events through a callback on the
 * connection's own thread, which waits for the worker's next token there. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "serve.h"

typedef struct {
    serve_request req;      /* conn is not used after the response starts */
    serve_job *job;         /* a reference */
    serve_answer_head head;
    char id[64], *model;
    bool include_usage, role_sent, done;
    size_t content_sent, reasoning_sent, logprobs_sent, calls_sent; /* of the job's text, put into events */
    char *out;              /* events not yet handed to libmicrohttpd */
    size_t out_len, out_pos;
} stream;

static bool has_news(const serve_job *j, const void *arg) {
    const stream *s = arg;
    return j->finished || j->content.len > s->content_sent || j->reasoning.len > s->reasoning_sent ||
           j->logprobs.len > s->logprobs_sent || j->tool_deltas.len > s->calls_sent;
}

static void event(FILE *f, void (*write)(FILE *, const stream *, const serve_job *), const stream *s,
                  const serve_job *j) {
    fputs("data: ", f);
    write(f, s, j);
    fputs("\n\n", f);
}

static void delta(FILE *f, const stream *s, const serve_job *j) {
    serve_json_chunk(f, &s->head, j->content.p ? j->content.p + s->content_sent : "", j->content.len - s->content_sent,
                     j->reasoning.p ? j->reasoning.p + s->reasoning_sent : "", j->reasoning.len - s->reasoning_sent,
                     NULL, !s->head.raw && !s->role_sent,
                     j->top_logprobs < 0 ? NULL : j->logprobs.p ? j->logprobs.p + s->logprobs_sent : "",
                     j->logprobs.len - s->logprobs_sent, j->tool_deltas.p ? j->tool_deltas.p + s->calls_sent : "",
                     j->tool_deltas.len - s->calls_sent);
}

static void last(FILE *f, const stream *s, const serve_job *j) {
    serve_json_chunk(f, &s->head, "", 0, "", 0, serve_finish_reason(&j->stats), false, NULL, 0, "", 0);
}

static void usage(FILE *f, const stream *s, const serve_job *j) { serve_json_usage_chunk(f, &s->head, &j->stats); }

static void failure(FILE *f, const stream *s, const serve_job *j) {
    (void)s;
    unsigned status;
    const char *type, *code;
    serve_failure_kind(j, &status, &type, &code);
    serve_json_error(f, j->error, type, code);
}

/* Under the job's lock: the events for what is new. */
static bool next_events(stream *s, serve_job *j) {
    serve_text t;
    if (!serve_text_open(&t)) return false;
    if (j->content.len > s->content_sent || j->reasoning.len > s->reasoning_sent || j->logprobs.len > s->logprobs_sent ||
        j->tool_deltas.len > s->calls_sent || (!s->head.raw && !s->role_sent)) {
        event(t.f, delta, s, j);
        s->role_sent = true;
        s->content_sent = j->content.len;
        s->reasoning_sent = j->reasoning.len;
        s->logprobs_sent = j->logprobs.len;
        s->calls_sent = j->tool_deltas.len;
    }
    if (j->finished) {
        if (j->failure) event(t.f, failure, s, j);
        else event(t.f, last, s, j);
        if (!j->failure && s->include_usage) event(t.f, usage, s, j);
        fputs("data: [DONE]\n\n", t.f);
        s->done = true;
    }
    if (!serve_text_close(&t)) return false;
    free(s->out);
    s->out = t.p;
    s->out_len = t.len;
    s->out_pos = 0;
    return true;
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    stream *s = cls;
    while (s->out_pos == s->out_len) {
        if (s->done) return MHD_CONTENT_READER_END_OF_STREAM;
        if (!serve_wait(&s->req, s->job, has_news, s)) return MHD_CONTENT_READER_END_WITH_ERROR;
        pthread_mutex_lock(&s->job->lock);
        bool ok = next_events(s, s->job);
        pthread_mutex_unlock(&s->job->lock);
        if (!ok) return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = s->out_len - s->out_pos < max ? s->out_len - s->out_pos : max;
    memcpy(buf, s->out + s->out_pos, n);
    s->out_pos += n;
    return (ssize_t)n;
}

/* The response is done with (sent, or the connection failed): a job still
 * running has lost its reader, so it stops. */
static void end_stream(void *cls) {
    stream *s = cls;
    atomic_store(&s->job->client_fd, -1); /* the connection may close, and its number be reused */
    pthread_mutex_lock(&s->job->lock);
    bool running = !s->job->finished;
    pthread_mutex_unlock(&s->job->lock);
    if (running) {
        atomic_store(&s->job->cancelled, true);
        serve_pool_poke(s->req.cfg->pool);
    }
    serve_job_release(s->job);
    free(s->model);
    free(s->out);
    free(s);
}

enum MHD_Result serve_stream(serve_request *r, serve_job *j, const serve_answer_head *h, bool include_usage) {
    stream *s = calloc(1, sizeof *s);
    if (!s) return MHD_NO;
    s->req = *r;
    s->req.body = NULL;
    s->req.body_len = 0;
    s->job = j;
    s->include_usage = include_usage;
    snprintf(s->id, sizeof s->id, "%s", h->id);
    s->model = strdup(h->model);
    s->head = (serve_answer_head){.id = s->id, .model = s->model ? s->model : "", .created = h->created, .raw = h->raw};
    pthread_mutex_lock(&j->lock);
    j->refs++;
    pthread_mutex_unlock(&j->lock);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, read_events, s, end_stream);
    if (!resp) {
        end_stream(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    return serve_respond(r, MHD_HTTP_OK, resp);
}
