/* The one generation loop (generate.c, chat.c) on a synchronous and on an
 * asynchronous backend. The asynchronous one is the CPU backend behind the
 * GPU's protocol (every step "pending" until the host completes it, the
 * prompt in chunks of the backend's step size): what the loop does around
 * a pending step (chunking, collecting, end conditions, text, dropped turns
 * when a conversation outgrows the context) must give the same answers as
 * the synchronous path, on the real stories260K model. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "chat.h"
#include "check.h"
#include "engine.h"
#include "generate.h"
#include "host_native.h"

#define STORIES "../shared/models/stories260K.gguf"

/* The engine's CPU backend, answering a step only when the "host" has
 * completed it (complete()), and only on the second collect after that. */
typedef struct {
    hearth_backend b;
    const hearth_backend *cpu;
    int32_t token;
    int state; /* 0 idle, 1 in flight, 2 completed, 3 completed and polled once */
    int steps, max_tokens_in_step;
} deferred;

static hearth_status d_step(void *ctx, const int32_t *tokens, int n, int pos, const sample_request *s, int32_t *token,
                            hearth_error *err) {
    deferred *d = ctx;
    d->steps++;
    if (n > d->max_tokens_in_step) d->max_tokens_in_step = n;
    hearth_status st = d->cpu->step(d->cpu->ctx, tokens, n, pos, s, &d->token, err);
    if (st) return st;
    d->state = 1;
    *token = HEARTH_STEP_PENDING;
    return HEARTH_OK;
}

static int32_t d_collect(void *ctx) {
    deferred *d = ctx;
    if (d->state == 2) {
        d->state = 3; /* a host may call again before the result is there: pending once more */
        return HEARTH_STEP_PENDING;
    }
    if (d->state != 3) return HEARTH_STEP_PENDING;
    d->state = 0;
    return d->token;
}

static const float *d_logits(void *ctx) {
    deferred *d = ctx;
    return d->cpu->logits(d->cpu->ctx);
}

static void complete(deferred *d) {
    if (d->state == 1) d->state = 2;
}

static void deferred_init(deferred *d, const hearth_backend *cpu, int max_step) {
    *d = (deferred){.cpu = cpu};
    d->b = *cpu;
    d->b.ctx = d;
    d->b.name = "deferred";
    d->b.max_step = max_step;
    d->b.step = d_step;
    d->b.collect = d_collect;
    d->b.logits = d_logits;
}

typedef struct {
    int32_t tokens[512];
    int n;
    char text[4096];
    size_t len;
    hearth_gen_stats stats;
} run;

/* Generates to the end, completing pending steps as a host would. */
static hearth_status generate(hearth_engine *e, deferred *d, const int32_t *prompt, int n_prompt, int max_tokens,
                              const sampler_params *sp, run *r, hearth_error *err) {
    memset(r, 0, sizeof *r);
    hearth_gen *g;
    hearth_status st = hearth_gen_begin(&g, e, prompt, n_prompt, 0, max_tokens, sp, err);
    while (!st) {
        int32_t t;
        st = hearth_gen_next(g, &t, err);
        if (st) break;
        if (t == HEARTH_STEP_PENDING) {
            if (!d) {
                st = hearth_fail(err, HEARTH_E_ARG, "the CPU backend left a step pending");
                break;
            }
            complete(d);
            continue;
        }
        size_t n;
        const char *text = hearth_gen_text(g, &n);
        if (r->len + n < sizeof r->text) memcpy(r->text + r->len, text, n), r->len += n;
        if (t < 0) break;
        if (r->n < 512) r->tokens[r->n++] = t;
    }
    if (g) {
        r->stats = *hearth_gen_stats_of(g);
        hearth_gen_free(g);
    }
    return st;
}

static void test_generate(hearth_engine *e) {
    const hearth_backend *cpu = hearth_engine_backend(e);
    hearth_error err = {0};
    int32_t *prompt = NULL;
    int n_prompt = 0;
    const char *text = "Once upon a time, there was a little dog named Max. He liked to run in the park";
    CHECK("prompt tokens", !hearth_engine_prompt_tokens(e, text, strlen(text), &prompt, &n_prompt, &err), "%s",
          err.message);
    sampler_params greedy, seeded;
    sampler_defaults(&greedy);
    greedy.temperature = 0;
    sampler_defaults(&seeded);
    seeded.seed = 7;
    const sampler_params *params[] = {&greedy, &seeded};
    const char *names[] = {"greedy", "seeded"};
    for (int p = 0; p < 2; p++) {
        run a, b;
        deferred d;
        hearth_status sa = generate(e, NULL, prompt, n_prompt, 40, params[p], &a, &err);
        deferred_init(&d, cpu, 0);
        hearth_engine_set_backend(e, &d.b);
        hearth_status sb = generate(e, &d, prompt, n_prompt, 40, params[p], &b, &err);
        hearth_engine_set_backend(e, NULL);
        char name[128];
        snprintf(name, sizeof name, "%s: the pending path gives the synchronous path's tokens and text", names[p]);
        CHECK(name,
              !sa && !sb && a.n == b.n && a.n > 0 && !memcmp(a.tokens, b.tokens, (size_t)a.n * 4) && a.len == b.len &&
                  !memcmp(a.text, b.text, a.len),
              "%d vs %d tokens, \"%.*s\" vs \"%.*s\" (%s)", a.n, b.n, (int)a.len, a.text, (int)b.len, b.text,
              err.message);
        snprintf(name, sizeof name, "%s: the same stats (prompt, generated, cache, stop)", names[p]);
        CHECK(name,
              a.stats.prompt_tokens == b.stats.prompt_tokens && a.stats.gen_tokens == b.stats.gen_tokens &&
                  a.stats.cache_tokens == b.stats.cache_tokens && a.stats.stopped_by_eog == b.stats.stopped_by_eog,
              "gen %d/%d cache %d/%d", a.stats.gen_tokens, b.stats.gen_tokens, a.stats.cache_tokens,
              b.stats.cache_tokens);
    }
    /* The prompt in chunks of 5 (as the GPU takes it in chunks of its batch). */
    run a, b;
    deferred d;
    deferred_init(&d, cpu, 5);
    hearth_engine_set_backend(e, &d.b);
    hearth_status st = generate(e, &d, prompt, n_prompt, 10, &greedy, &b, &err);
    hearth_engine_set_backend(e, NULL);
    generate(e, NULL, prompt, n_prompt, 10, &greedy, &a, &err);
    CHECK("chunked prompt: steps of at most 5 tokens, one per chunk and token",
          !st && d.max_tokens_in_step == 5 && d.steps == (n_prompt + 4) / 5 + b.stats.gen_tokens - 1,
          "%d steps, largest %d (%s)", d.steps, d.max_tokens_in_step, err.message);
    CHECK("chunked prompt: the whole prompt evaluated, greedy text equal", b.stats.cache_tokens == a.stats.cache_tokens &&
          a.len == b.len && !memcmp(a.text, b.text, a.len), "\"%.*s\" vs \"%.*s\"", (int)a.len, a.text, (int)b.len, b.text);
    /* Context end on a pending backend. */
    deferred_init(&d, cpu, 0);
    hearth_engine_set_backend(e, &d.b);
    st = generate(e, &d, prompt, n_prompt, 500, &greedy, &b, &err);
    hearth_engine_set_backend(e, NULL);
    CHECK("a full context ends generation on the pending path too (stop: context)",
          !st && (b.stats.stopped_by_ctx || b.stats.stopped_by_eog) && b.stats.cache_tokens <= hearth_engine_ctx(e),
          "ctx %d eog %d cache %d (%s)", b.stats.stopped_by_ctx, b.stats.stopped_by_eog, b.stats.cache_tokens,
          err.message);
    free(prompt);
}

/* Three turns in a context too small for all of them. */
static void converse(hearth_engine *e, deferred *d, char answers[3][1024], hearth_chat_stats stats[3], int *failed) {
    static const char *turns[] = {"Tell me a story about a cat who finds a hat in the garden.",
                                  "And then what did the cat do with the big red hat?",
                                  "Where did the little bird go after that sunny day?"};
    hearth_error err = {0};
    hearth_chat *c = NULL;
    *failed = 0;
    if (hearth_chat_create(&c, e, "You are a kind storyteller.", &err)) {
        *failed = 1;
        return;
    }
    hearth_chat_options o = {.max_tokens = 12};
    sampler_defaults(&o.sampling);
    o.sampling.temperature = 0;
    for (int i = 0; i < 3; i++) {
        answers[i][0] = 0;
        hearth_status st = hearth_chat_begin(c, turns[i], &o, &err);
        size_t len = 0;
        for (bool done = false; !st && !done;) {
            const char *text;
            size_t n;
            st = hearth_chat_next(c, &text, &n, &done, &err);
            if (!st && !done && !n && hearth_chat_waiting(c)) {
                if (d) complete(d);
                else st = hearth_fail(&err, HEARTH_E_ARG, "the CPU chat waited");
                continue;
            }
            if (!st && len + n < 1024) memcpy(answers[i] + len, text, n), len += n, answers[i][len] = 0;
        }
        if (st || hearth_chat_end(c, NULL, NULL, &stats[i], &err)) {
            printf("# turn %d: %s\n", i + 1, err.message);
            *failed = i + 1;
            break;
        }
    }
    hearth_chat_free(c);
}

static void test_chat(hearth_engine *e) {
    char a[3][1024], b[3][1024];
    hearth_chat_stats sa[3], sb[3];
    int fa, fb;
    deferred d;
    converse(e, NULL, a, sa, &fa);
    deferred_init(&d, hearth_engine_backend(e), 7);
    hearth_engine_set_backend(e, &d.b);
    converse(e, &d, b, sb, &fb);
    hearth_engine_set_backend(e, NULL);
    CHECK("chat over a small context: every turn answered on both paths", !fa && !fb, "failed at turn %d / %d", fa, fb);
    if (fa || fb) return;
    CHECK("chat: the context overflowed and the oldest turns were dropped", sa[2].dropped_messages > 0,
          "dropped %d", sa[2].dropped_messages);
    for (int i = 0; i < 3; i++) {
        char name[96];
        snprintf(name, sizeof name, "chat turn %d: the pending path's answer and stats equal the synchronous path's", i + 1);
        CHECK(name,
              !strcmp(a[i], b[i]) && sa[i].dropped_messages == sb[i].dropped_messages &&
                  sa[i].prompt_tokens == sb[i].prompt_tokens && sa[i].reused_tokens == sb[i].reused_tokens &&
                  !strcmp(sa[i].stop, sb[i].stop),
              "\"%s\" vs \"%s\", dropped %d/%d, prompt %d/%d, reused %d/%d", a[i], b[i], sa[i].dropped_messages,
              sb[i].dropped_messages, sa[i].prompt_tokens, sb[i].prompt_tokens, sa[i].reused_tokens,
              sb[i].reused_tokens);
        snprintf(name, sizeof name, "chat turn %d: no SentencePiece leading space", i + 1);
        CHECK(name, a[i][0] != ' ', "\"%s\"", a[i]);
    }
}

int main(void) {
    hearth_error err = {0};
    native_host *host = NULL;
    hearth_engine *e = NULL;
    hearth_engine_options opt = {.n_ctx = 160};
    hearth_status st = native_host_create(&host, STORIES, 1, &err);
    if (!st) st = hearth_engine_load(&e, native_host_iface(host), &opt, &err);
    CHECK("stories260K loads (context 160)", !st, "%s", err.message);
    if (!st) {
        test_generate(e);
        test_chat(e);
    }
    hearth_engine_free(e);
    native_host_free(host);
    CHECK_DONE();
}
