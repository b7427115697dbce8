/* The slots of hearth serve: each a chat (the one chat loop, with its
 * prompt-prefix reuse) on an engine with its own KV cache and the shared
 * weights. One worker thread runs the active slots in rounds, because the
 * engine's forward pass already uses all the threads the host has: in a
 * round each slot takes its next token and leaves its next decode step
 * pending (the engines defer them, engine.h), then the round's steps run as
 * one batch, one pass over the weights for all of them. Requests beyond the
 * slots wait in a bounded queue. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "serve.h"

typedef struct {
    hearth_engine *engine; /* the pool's base engine for slot 0, otherwise a share of it */
    bool owns_engine;
    hearth_chat *chat;
    serve_job *job;        /* running here, or NULL (changed by the worker, under the pool's lock) */
    bool begun;
    char *fingerprint;     /* the conversation its KV cache holds, as text (serve_job_create) */
    unsigned long last_used;
    hearth_error batch_err; /* the round's batch failed (code set): the job ends with it */
} serve_slot;

struct serve_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    serve_slot *slots;
    hearth_engine **engines; /* the slots', for the round's batch */
    int n_slots, busy;
    serve_job *head, *tail; /* the queue */
    int queued, queue_cap;
    bool stopping, worker_running;
    pthread_t worker;
    unsigned long tick, served, cancelled;
    unsigned long submitted; /* jobs queued so far: each job's number, in its response id */
    unsigned long decode_batches, decode_rows;
};

/* ---- jobs ---- */

static bool add_text(think_buf *b, const char *s) { return think_buf_add(b, s, strlen(s)); }

/* The conversation as text, one "role\x1fcontent\x1e" per message (a raw
 * prompt: "\x1d" and the prompt): slots are matched to requests by the
 * longest common prefix of these, a stand-in for their tokens. */
static char *fingerprint_of(const chat_request *req, bool raw) {
    think_buf b = {0};
    bool ok = true;
    if (raw) {
        ok = think_buf_add(&b, "\x1d", 1) && think_buf_add(&b, req->prompt, req->prompt_len);
    } else {
        for (size_t i = 0; ok && i < req->n_messages; i++)
            ok = add_text(&b, req->messages[i].role) && add_text(&b, "\x1f") && add_text(&b, req->messages[i].content) &&
                 add_text(&b, "\x1e");
    }
    if (!ok || !think_buf_add(&b, "", 0)) {
        think_buf_free(&b);
        return NULL;
    }
    return b.p;
}

serve_job *serve_job_create(chat_request *req, bool raw, int top_logprobs) {
    serve_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->fingerprint = fingerprint_of(req, raw);
    if (!j->fingerprint) {
        free(j);
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->changed, NULL);
    j->refs = 1;
    atomic_init(&j->client_fd, -1);
    atomic_init(&j->cancelled, false);
    j->req = *req;
    memset(req, 0, sizeof *req);
    j->raw = raw;
    j->top_logprobs = top_logprobs;
    return j;
}

void serve_job_release(serve_job *j) {
    if (!j) return;
    pthread_mutex_lock(&j->lock);
    int left = --j->refs;
    pthread_mutex_unlock(&j->lock);
    if (left) return;
    chat_request_free(&j->req);
    free(j->fingerprint);
    think_buf_free(&j->content);
    think_buf_free(&j->reasoning);
    think_buf_free(&j->tool_deltas);
    free(j->tool_calls);
    think_buf_free(&j->logprobs);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->changed);
    free(j);
}

/* Ends a job that never ran (or failed to begin) with a message. */
static void fail_job(serve_job *j, serve_failure why, hearth_status st, const char *message) {
    pthread_mutex_lock(&j->lock);
    j->failure = why;
    j->status = st;
    snprintf(j->error, sizeof j->error, "%s", message);
    j->started = j->finished = true;
    pthread_cond_broadcast(&j->changed);
    pthread_mutex_unlock(&j->lock);
}

/* ---- the pool ---- */

static void *worker_main(void *arg);

void serve_pool_free(serve_pool *p) {
    if (!p) return;
    serve_pool_stop(p);
    for (int i = 0; i < p->n_slots; i++) {
        hearth_chat_free(p->slots[i].chat);
        if (p->slots[i].owns_engine) hearth_engine_free(p->slots[i].engine);
        else hearth_engine_defer_decode(p->slots[i].engine, false); /* the caller's engine, as it came */
        free(p->slots[i].fingerprint);
    }
    free(p->slots);
    free(p->engines);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
}

hearth_status serve_pool_create(serve_pool **out, hearth_engine *base, int n_slots, int queue_cap,
                                hearth_error *err) {
    *out = NULL;
    serve_pool *p = calloc(1, sizeof *p);
    if (!p) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->queue_cap = queue_cap;
    p->slots = calloc((size_t)n_slots, sizeof *p->slots);
    p->engines = calloc((size_t)n_slots, sizeof *p->engines);
    hearth_status st = p->slots && p->engines ? HEARTH_OK : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    for (int i = 0; !st && i < n_slots; i++) {
        serve_slot *s = &p->slots[i];
        if (i == 0) s->engine = base;
        else st = hearth_engine_share(&s->engine, base, err), s->owns_engine = !st;
        if (!st) st = hearth_chat_create(&s->chat, s->engine, NULL, err);
        if (!st) p->n_slots++, p->engines[i] = s->engine;
        if (!st) hearth_engine_defer_decode(s->engine, true);
    }
    if (!st && pthread_create(&p->worker, NULL, worker_main, p) != 0)
        st = hearth_fail(err, HEARTH_E_NOMEM, "cannot start the server's worker thread");
    else if (!st) p->worker_running = true;
    if (st) {
        if (p->slots && n_slots > 1 && p->n_slots < n_slots)
            hearth_prefix(err, "slot %d of %d (its KV cache; lower --parallel or --ctx): ", p->n_slots + 1, n_slots);
        serve_pool_free(p);
        return st;
    }
    *out = p;
    return HEARTH_OK;
}

serve_submit_result serve_pool_submit(serve_pool *p, serve_job *j) {
    pthread_mutex_lock(&p->lock);
    /* Jobs wait in the queue until the worker moves them, so idle slots count as room too. */
    int room = p->queue_cap + (p->n_slots - p->busy);
    serve_submit_result r = p->stopping ? SERVE_STOPPING : p->queued >= room ? SERVE_QUEUE_FULL : SERVE_QUEUED;
    if (r == SERVE_QUEUED) {
        pthread_mutex_lock(&j->lock);
        j->refs++;
        pthread_mutex_unlock(&j->lock);
        j->next_queued = NULL;
        if (p->tail) p->tail->next_queued = j;
        else p->head = j;
        p->tail = j;
        p->queued++;
        j->number = ++p->submitted;
        pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

void serve_pool_poke(serve_pool *p) {
    pthread_mutex_lock(&p->lock);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

void serve_pool_state_of(serve_pool *p, serve_pool_state *s) {
    pthread_mutex_lock(&p->lock);
    *s = (serve_pool_state){.slots = p->n_slots, .busy = p->busy, .queued = p->queued, .queue_cap = p->queue_cap,
                            .served = p->served, .cancelled = p->cancelled, .decode_batches = p->decode_batches,
                            .decode_rows = p->decode_rows};
    pthread_mutex_unlock(&p->lock);
}

void serve_pool_stop(serve_pool *p) {
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->wake);
    bool join = p->worker_running;
    p->worker_running = false;
    pthread_mutex_unlock(&p->lock);
    if (join) pthread_join(p->worker, NULL);
}

/* ---- the worker ---- */

static size_t common_prefix(const char *a, const char *b) {
    size_t n = 0;
    if (!a || !b) return 0;
    while (a[n] && a[n] == b[n]) n++;
    return n;
}

/* The idle slot whose cache holds most of the job's conversation; of
 * equals, the one used longest ago. */
static serve_slot *best_slot(serve_pool *p, const serve_job *j) {
    serve_slot *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < p->n_slots; i++) {
        serve_slot *s = &p->slots[i];
        if (s->job) continue;
        size_t len = common_prefix(s->fingerprint, j->fingerprint);
        if (!best || len > best_len || (len == best_len && s->last_used < best->last_used)) best = s, best_len = len;
    }
    return best;
}

/* Under the pool's lock: moves queued jobs onto idle slots. */
static void assign(serve_pool *p) {
    while (p->head) {
        serve_job *j = p->head;
        if (!p->stopping && !atomic_load(&j->cancelled) && p->busy == p->n_slots) return;
        p->head = j->next_queued;
        if (!p->head) p->tail = NULL;
        p->queued--;
        if (p->stopping || atomic_load(&j->cancelled)) {
            if (!p->stopping) p->cancelled++;
            fail_job(j, SERVE_FAIL_UNAVAILABLE, HEARTH_E_IO,
                     p->stopping ? "the server is shutting down" : "the client went away");
            serve_job_release(j);
            continue;
        }
        serve_slot *s = best_slot(p, j);
        s->job = j;
        s->begun = false;
        s->last_used = ++p->tick;
        p->busy++;
    }
}

static hearth_status begin(serve_slot *s, serve_job *j, hearth_error *err) {
    int year, month, day;
    if (cli_today(&year, &month, &day)) hearth_chat_set_date(s->chat, year, month, day);
    if (j->raw) return hearth_chat_begin_raw(s->chat, j->req.prompt, j->req.prompt_len, &j->req.options, err);
    hearth_status st = hearth_chat_set_messages(s->chat, j->req.messages, j->req.n_messages, err);
    return st ? st : hearth_chat_begin(s->chat, NULL, &j->req.options, err);
}

/* What the slot's cache holds after the job: its conversation and the answer. */
static void remember(serve_slot *s, serve_job *j) {
    free(s->fingerprint);
    s->fingerprint = j->fingerprint;
    j->fingerprint = NULL;
    if (j->raw || !s->fingerprint) return;
    think_buf b = {.p = s->fingerprint, .len = strlen(s->fingerprint)};
    b.cap = b.len + 1;
    if (add_text(&b, "assistant\x1f") && think_buf_add(&b, j->content.p ? j->content.p : "", j->content.len) &&
        add_text(&b, "\x1e"))
        s->fingerprint = b.p;
    else
        free(b.p), s->fingerprint = NULL;
}

/* The chat's next call: a token (or the prompt and the first token), the
 * start of a decode step left pending for the round's batch, or the end.
 * Returns whether the job finished. */
static bool next(serve_slot *s) {
    serve_job *j = s->job;
    hearth_error err = {0};
    /* The client's socket is looked at before every token, so a hang-up stops the answer within one. */
    if (!atomic_load(&j->cancelled) && serve_client_gone(atomic_load(&j->client_fd))) atomic_store(&j->cancelled, true);
    if (atomic_load(&j->cancelled) || s->batch_err.code) hearth_chat_interrupt(s->chat);
    const char *text = "";
    size_t len = 0, rlen;
    bool done = true;
    hearth_status st = s->batch_err.code;
    if (st) err = s->batch_err, s->batch_err = (hearth_error){0};
    else st = hearth_chat_next(s->chat, &text, &len, &done, &err);
    if (!st && !done && !len && hearth_chat_waiting(s->chat)) return false; /* nothing to tell the client yet */
    const char *r = st ? "" : hearth_chat_next_reasoning(s->chat, &rlen);
    if (st) rlen = 0;
    int32_t token;
    const float *logits;
    bool with_logprobs = !st && j->top_logprobs >= 0 && hearth_chat_last_token(s->chat, &token, &logits) && logits;
    think_buf entry = {0}; /* worked out before the lock: a pass over the vocabulary */
    bool ok = !with_logprobs || serve_logprob_entry(&entry, hearth_engine_tokenizer(s->engine), logits,
                                                    hearth_engine_model(s->engine)->hp.n_vocab, token, j->top_logprobs);
    size_t clen = 0;
    const char *calls = st ? "[]" : hearth_chat_next_tool_calls(s->chat, &clen);
    pthread_mutex_lock(&j->lock);
    ok = ok && think_buf_add(&j->content, text, len) && think_buf_add(&j->reasoning, r, rlen) &&
         (!entry.len || think_buf_add(&j->logprobs, entry.p, entry.len)) &&
         /* the list's entries (they carry their index) without its brackets, then a comma */
         (clen <= 2 || (think_buf_add(&j->tool_deltas, calls + 1, clen - 2) && think_buf_add(&j->tool_deltas, ",", 1)));
    pthread_cond_broadcast(&j->changed);
    pthread_mutex_unlock(&j->lock);
    think_buf_free(&entry);
    if (!st && !ok) st = hearth_fail(&err, HEARTH_E_NOMEM, "out of memory");
    if (!st && !done) return false;
    hearth_chat_stats stats;
    hearth_error end_err = {0};
    hearth_status end_st = hearth_chat_end(s->chat, NULL, NULL, &stats, &end_err);
    if (st || end_st) {
        fail_job(j, SERVE_FAIL_SERVER, st ? st : end_st, st ? err.message : end_err.message);
        free(s->fingerprint);
        s->fingerprint = NULL;
        return true;
    }
    remember(s, j);
    char *tool_calls = stats.tool_calls > 0 ? strdup(hearth_chat_tool_calls(s->chat)) : NULL;
    if (stats.tool_calls > 0 && !tool_calls) {
        fail_job(j, SERVE_FAIL_SERVER, HEARTH_E_NOMEM, "out of memory");
        return true;
    }
    pthread_mutex_lock(&j->lock);
    j->tool_calls = tool_calls;
    j->stats = stats;
    j->finished = true;
    pthread_cond_broadcast(&j->changed);
    pthread_mutex_unlock(&j->lock);
    return true;
}

/* The slot's part of a round: its job's beginning (the template, the
 * prompt's tokens), or its next token and then the start of the step after
 * it, so that every active slot has its decode step pending for the same
 * batch. Returns whether the job finished. */
static bool step(serve_slot *s) {
    serve_job *j = s->job;
    if (!s->begun) {
        hearth_error err = {0};
        hearth_status st = begin(s, j, &err);
        if (st) {
            /* Out of memory is the server's trouble; anything else, the request's. */
            fail_job(j, st == HEARTH_E_NOMEM ? SERVE_FAIL_SERVER : SERVE_FAIL_REQUEST, st, err.message);
            return true;
        }
        s->begun = true;
        pthread_mutex_lock(&j->lock);
        j->started = true;
        pthread_cond_broadcast(&j->changed);
        pthread_mutex_unlock(&j->lock);
        return false;
    }
    for (int call = 0; call < 2; call++) {
        if (next(s)) return true;
        if (hearth_chat_waiting(s->chat)) return false;
    }
    return false;
}

/* Runs the round's pending decode steps as one batch. Should that fail,
 * each of those slots' jobs ends with the error at its next step. */
static int run_batch(serve_pool *p) {
    int rows = 0;
    for (int i = 0; i < p->n_slots; i++) rows += hearth_engine_deferred(p->engines[i]);
    if (!rows) return 0;
    hearth_error err = {0};
    int passes = 0;
    hearth_status st = hearth_engine_run_deferred(p->engines, p->n_slots, &passes, &err);
    pthread_mutex_lock(&p->lock);
    p->decode_batches += (unsigned long)passes; /* a batch of more rows than a pass holds counts as its passes */
    p->decode_rows += (unsigned long)rows;
    pthread_mutex_unlock(&p->lock);
    if (!st) return rows;
    for (int i = 0; i < p->n_slots; i++) /* the chats still wait for the steps it dropped */
        if (p->slots[i].job && hearth_chat_waiting(p->slots[i].chat)) p->slots[i].batch_err = err;
    return rows;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *worker_main(void *arg) {
    serve_pool *p = arg;
    /* HEARTH_SERVE_TRACE=1: each round's time on stderr (where a round's time goes) */
    const char *tr = getenv("HEARTH_SERVE_TRACE");
    const bool trace = tr && *tr && strcmp(tr, "0") != 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        assign(p);
        if (p->busy == 0) {
            if (p->stopping) break;
            pthread_cond_wait(&p->wake, &p->lock);
            continue;
        }
        bool stopping = p->stopping;
        pthread_mutex_unlock(&p->lock);
        double t0 = trace ? now_s() : 0;
        /* Only the worker changes the slots' jobs, so it reads them unlocked. */
        for (int i = 0; i < p->n_slots; i++) {
            serve_slot *s = &p->slots[i];
            if (!s->job) continue;
            if (stopping) atomic_store(&s->job->cancelled, true);
            if (!step(s)) continue;
            serve_job *j = s->job;
            bool cancelled = atomic_load(&j->cancelled);
            pthread_mutex_lock(&p->lock);
            s->job = NULL;
            p->busy--;
            if (cancelled) p->cancelled++;
            else p->served++;
            pthread_mutex_unlock(&p->lock);
            serve_job_release(j);
        }
        double t1 = trace ? now_s() : 0;
        int rows = run_batch(p);
        if (trace) {
            double t2 = now_s();
            fprintf(stderr, "hearth serve round: steps %.2f ms, batch of %d rows %.2f ms\n", (t1 - t0) * 1e3, rows,
                    (t2 - t1) * 1e3);
        }
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}
