/* The functions web/hearth.mjs calls. Pointers are wasm32 addresses; JS
 * reads results from memory. Errors: a negative or null return, and the
 * message from hearth_wasm_error(). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "generate.h"
#include "host_wasm.h"
#include "unicode.h"

#define EXPORT(name) __attribute__((export_name(name), visibility("default")))

/* Streams generated text: token >= 0 with the complete UTF-8 text it adds
 * (possibly empty) and the logits it was sampled from (n_vocab floats, valid
 * during the call only); token -1 with the text left at the end (no logits).
 * Returns 0 to stop. */
__attribute__((import_module("hearth"), import_name("token")))
int js_token(int token, const char *text, size_t len, const float *logits, int n_vocab);

static hearth_error g_err;

EXPORT("hearth_wasm_error") const char *hearth_wasm_error(void) { return g_err.message; }

EXPORT("hearth_wasm_malloc") void *hearth_wasm_malloc(size_t n) { return malloc(n ? n : 1); }
EXPORT("hearth_wasm_free") void hearth_wasm_free(void *p) { free(p); }

/* Loads the model that JS opened as part 0; NULL on failure. */
EXPORT("hearth_wasm_load")
hearth_engine *hearth_wasm_load(int n_ctx, int max_batch, int no_simd, int vocab_only) {
    hearth_engine *e = NULL;
    hearth_engine_options opt = {.n_ctx = n_ctx, .max_batch = max_batch, .no_simd = no_simd != 0,
                                 .vocab_only = vocab_only != 0};
    memset(&g_err, 0, sizeof g_err);
    if (hearth_engine_load(&e, wasm_host(), &opt, &g_err)) return NULL;
    return e;
}

EXPORT("hearth_wasm_unload") void hearth_wasm_unload(hearth_engine *e) { hearth_engine_free(e); }
EXPORT("hearth_wasm_kernels") const char *hearth_wasm_kernels(hearth_engine *e) { return hearth_engine_kernels(e); }
EXPORT("hearth_wasm_ctx") int hearth_wasm_ctx(hearth_engine *e) { return hearth_engine_ctx(e); }

/* Prompt tokens (BOS as the file says); *out is malloc'ed; returns the count or -1. */
EXPORT("hearth_wasm_prompt_tokens")
int hearth_wasm_prompt_tokens(hearth_engine *e, const char *text, size_t len, int32_t **out) {
    int n = 0;
    *out = NULL;
    if (hearth_engine_prompt_tokens(e, text, len, out, &n, &g_err)) return -1;
    return n;
}

/* Token ids of a text without BOS; *out is malloc'ed; returns the count or -1. */
EXPORT("hearth_wasm_tokenize")
int hearth_wasm_tokenize(hearth_engine *e, const char *text, size_t len, int special, int32_t **out) {
    size_t n = 0;
    *out = NULL;
    if (tokenizer_encode(hearth_engine_tokenizer(e), text, len, special != 0, out, &n, &g_err)) return -1;
    return (int)n;
}

typedef struct {
    const hearth_tokenizer *tok;
    utf8_stream utf8;
    char *piece, *out;
    size_t piece_cap, out_cap;
} gen_state;

static bool on_token(void *user, int32_t token, const float *logits, int n_vocab) {
    gen_state *s = user;
    size_t n = tokenizer_piece(s->tok, token, false, s->piece, s->piece_cap);
    size_t m = utf8_stream_push(&s->utf8, s->piece, n, s->out, s->out_cap);
    return js_token(token, s->out, m, logits, n_vocab) != 0;
}

/* Generates after the prompt (n_past tokens of which are in the KV cache
 * already), streaming through the "token" import. stats (8 doubles):
 * prompt_tokens, reused_tokens, gen_tokens, cache_tokens, prefill_ms,
 * decode_ms, ttft_ms, stop (0 length, 1 end of generation, 2 context full,
 * 3 stopped by the callback). Returns 0 or -1. */
EXPORT("hearth_wasm_generate")
int hearth_wasm_generate(hearth_engine *e, const int32_t *prompt, int n_prompt, int n_past, int max_tokens,
                         float temperature, int top_k, float top_p, float min_p, float repeat_penalty,
                         uint64_t seed, double *stats) {
    sampler_params sp;
    sampler_defaults(&sp);
    sp.temperature = temperature;
    sp.top_k = top_k;
    sp.top_p = top_p;
    sp.min_p = min_p;
    sp.repeat_penalty = repeat_penalty;
    sp.seed = seed;
    memset(&g_err, 0, sizeof g_err);
    if (sampler_validate(&sp, &g_err)) return -1;
    gen_state s = {.tok = hearth_engine_tokenizer(e)};
    utf8_stream_init(&s.utf8);
    s.piece_cap = tokenizer_max_piece_len(s.tok) + 1;
    s.out_cap = UTF8_STREAM_OUT_MAX(s.piece_cap);
    s.piece = malloc(s.piece_cap);
    s.out = malloc(s.out_cap);
    hearth_gen_stats st = {0};
    hearth_status rc = (!s.piece || !s.out) ? hearth_fail(&g_err, HEARTH_E_NOMEM, "out of memory") : HEARTH_OK;
    if (!rc) rc = hearth_generate(e, prompt, n_prompt, n_past, max_tokens, &sp, on_token, &s, &st, &g_err);
    if (!rc) js_token(-1, s.out, utf8_stream_flush(&s.utf8, s.out, s.out_cap), NULL, 0);
    free(s.piece);
    free(s.out);
    if (stats) {
        stats[0] = st.prompt_tokens;
        stats[1] = st.reused_tokens;
        stats[2] = st.gen_tokens;
        stats[3] = st.cache_tokens;
        stats[4] = st.prefill_ms;
        stats[5] = st.decode_ms;
        stats[6] = st.ttft_ms;
        stats[7] = st.stopped_by_eog ? 1 : st.stopped_by_ctx ? 2 : st.stopped_by_callback ? 3 : 0;
    }
    return rc ? -1 : 0;
}
