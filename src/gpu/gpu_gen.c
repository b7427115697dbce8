#include "gpu/gpu_gen.h"

#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "tokenizer.h"
#include "unicode.h"

#define GPU_MAX_CANDIDATES 64

struct gpu_gen {
    gpu_model *g;
    const hearth_tokenizer *tok;
    sampler_params sp;
    uint64_t rng;
    int n_ctx, max_tokens, n_prompt, pos;
    int32_t *history;
    int n_hist;
    bool done, ignore_eog;
    gpu_gen_stats stats;
    utf8_stream utf8;
    char *piece, *text;
    size_t piece_cap, text_cap, text_len;
};

hearth_status gpu_gen_begin(gpu_gen **out, hearth_engine *e, gpu_model *g, const int32_t *prompt, int n_prompt,
                            int n_past, int max_tokens, const sampler_params *sp, bool ignore_eog, hearth_error *err) {
    *out = NULL;
    int n_ctx = gpu_model_ctx(g);
    hearth_status st = sampler_validate(sp, err);
    if (st) return st;
    if (sp->repeat_penalty != 1.0f && sp->repeat_last_n > GPU_MAX_CANDIDATES)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED, "the GPU sampler's repetition window is at most %d tokens",
                           GPU_MAX_CANDIDATES);
    if ((st = hearth_gen_check(n_prompt, n_ctx, &n_past, &max_tokens, err))) return st;
    int n_vocab = gpu_model_vocab(g);
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || prompt[i] >= n_vocab)
            return hearth_fail(err, HEARTH_E_ARG, "token id %d is outside the vocabulary (0 to %d)", prompt[i],
                               n_vocab - 1);
    gpu_gen *s = calloc(1, sizeof *s);
    if (!s) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    s->g = g;
    s->tok = hearth_engine_tokenizer(e);
    s->sp = *sp;
    s->rng = sp->seed ? sp->seed : 1;
    s->n_ctx = n_ctx;
    s->max_tokens = max_tokens;
    s->n_prompt = n_prompt;
    s->pos = n_past;
    s->ignore_eog = ignore_eog;
    s->history = malloc(((size_t)n_prompt + (size_t)max_tokens + 1) * sizeof *s->history);
    s->piece_cap = tokenizer_max_piece_len(s->tok) + 1;
    s->text_cap = UTF8_STREAM_OUT_MAX(s->piece_cap);
    s->piece = malloc(s->piece_cap);
    s->text = malloc(s->text_cap);
    if (!s->history || !s->piece || !s->text) {
        gpu_gen_free(s);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    memcpy(s->history, prompt, (size_t)n_prompt * sizeof *prompt);
    s->n_hist = n_prompt;
    utf8_stream_init(&s->utf8);
    s->stats.prompt_tokens = n_prompt;
    s->stats.reused_tokens = n_past;
    s->stats.cache_tokens = n_past;
    *out = s;
    return HEARTH_OK;
}

void gpu_gen_free(gpu_gen *s) {
    if (!s) return;
    free(s->history);
    free(s->piece);
    free(s->text);
    free(s);
}

/* splitmix64, as the CPU sampler draws. */
static double next_unit(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static void sampling(gpu_gen *s, gpu_step *st) {
    const sampler_params *p = &s->sp;
    st->temp = p->temperature;
    st->top_k = (uint32_t)p->top_k;
    st->n_cand = 1;
    if (p->temperature > 0) {
        st->n_cand = p->top_k > 0 && p->top_k < GPU_MAX_CANDIDATES ? (uint32_t)p->top_k : GPU_MAX_CANDIDATES;
        st->rand = (float)next_unit(&s->rng);
        if (st->rand >= 1.0f) st->rand = 0.99999994f;
    }
    st->top_p = p->top_p;
    st->min_p = p->min_p;
    st->penalty = p->repeat_penalty;
    if (p->repeat_penalty != 1.0f) {
        int n = p->repeat_last_n < s->n_hist ? p->repeat_last_n : s->n_hist;
        for (int i = 0; i < n; i++) st->recent[i] = (uint32_t)s->history[s->n_hist - n + i];
        st->n_recent = (uint32_t)n;
    }
}

hearth_status gpu_gen_prepare(gpu_gen *s, int *list, bool *samples, hearth_error *err) {
    *list = -1;
    *samples = false;
    if (s->done) return HEARTH_OK;
    gpu_step st = {0};
    const int32_t *tokens = NULL;
    int n_tokens = 0;
    if (s->pos < s->n_prompt) {
        int left = s->n_prompt - s->pos, batch = gpu_model_batch(s->g);
        int chunk = left < batch ? left : batch;
        st.pos = (uint32_t)s->pos;
        st.n_tok = (uint32_t)chunk;
        if (chunk == 1) { /* one token: the decode list does it with fewer dispatches */
            st.token = (uint32_t)s->history[s->pos];
            *list = GPU_LIST_DECODE;
        } else {
            tokens = s->history + s->pos;
            n_tokens = chunk;
            *list = chunk == left ? GPU_LIST_PREFILL_LAST : GPU_LIST_PREFILL;
        }
        *samples = chunk == left;
        s->pos += chunk;
    } else {
        if (s->stats.gen_tokens >= s->max_tokens) {
            s->done = true;
            return HEARTH_OK;
        }
        if (s->pos >= s->n_ctx) {
            s->stats.stopped_by_ctx = true;
            s->done = true;
            return HEARTH_OK;
        }
        st.pos = (uint32_t)s->pos;
        st.n_tok = 1;
        st.token = (uint32_t)s->history[s->n_hist - 1];
        *list = GPU_LIST_DECODE;
        *samples = true;
        s->pos++;
    }
    if (*samples) sampling(s, &st);
    hearth_status rc = gpu_model_write_step(s->g, &st, tokens, n_tokens, err);
    if (rc) {
        s->done = true;
        s->stats.cache_tokens = 0;
        *list = -1;
    }
    return rc;
}

int32_t gpu_gen_complete(gpu_gen *s, int32_t token) {
    s->text_len = 0;
    s->stats.cache_tokens = s->pos;
    if (s->done) return -1;
    if (s->stats.gen_tokens >= s->max_tokens) {
        s->done = true;
        return -1;
    }
    if (token < 0 || token >= gpu_model_vocab(s->g) || (!s->ignore_eog && tokenizer_is_eog(s->tok, token))) {
        s->stats.stopped_by_eog = true;
        s->done = true;
        return -1;
    }
    s->history[s->n_hist++] = token;
    s->stats.gen_tokens++;
    size_t n = tokenizer_piece(s->tok, token, false, s->piece, s->piece_cap);
    s->text_len = utf8_stream_push(&s->utf8, s->piece, n, s->text, s->text_cap);
    return token;
}

const char *gpu_gen_text(const gpu_gen *s, size_t *len) {
    *len = s->text_len;
    return s->text;
}

const char *gpu_gen_flush(gpu_gen *s, size_t *len) {
    s->text_len = utf8_stream_flush(&s->utf8, s->text, s->text_cap);
    *len = s->text_len;
    return s->text;
}

void gpu_gen_stop(gpu_gen *s) {
    if (s->done) return;
    s->stats.stopped_by_callback = true;
    s->done = true;
}

const gpu_gen_stats *gpu_gen_stats_of(const gpu_gen *s) { return &s->stats; }
