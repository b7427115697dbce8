/* The functions web/hearth.mjs calls. Pointers are wasm32 addresses; JS
 * reads results from memory. Errors: a negative or null return, and the
 * message from hearth_wasm_error(). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "bench.h"
#include "chat_request.h"
#include "generate.h"
#include "host_wasm.h"
#include "model/model.h"

#define EXPORT(name) __attribute__((export_name(name), visibility("default")))

static hearth_error g_err;

EXPORT("hearth_wasm_error") const char *hearth_wasm_error(void) { return g_err.message; }

EXPORT("hearth_wasm_malloc") void *hearth_wasm_malloc(size_t n) { return malloc(n ? n : 1); }
EXPORT("hearth_wasm_free") void hearth_wasm_free(void *p) { free(p); }

/* Loads the model that JS opened as part 0; NULL on failure. flags: 1 no_simd,
 * 2 vocab_only, 4 fast_numerics (hearth_engine_options). */
EXPORT("hearth_wasm_load")
hearth_engine *hearth_wasm_load(int n_ctx, int max_batch, int flags) {
    hearth_engine *e = NULL;
    hearth_engine_options opt = {.n_ctx = n_ctx, .max_batch = max_batch, .no_simd = (flags & 1) != 0,
                                 .vocab_only = (flags & 2) != 0, .fast_numerics = (flags & 4) != 0};
    memset(&g_err, 0, sizeof g_err);
    if (hearth_engine_load(&e, wasm_host(), &opt, &g_err)) return NULL;
    return e;
}

/* The first len bytes of a model file of file_size bytes (a download's first
 * megabytes): 0 when the backend (gpu 1: WebGPU, 0: CPU) can run what the
 * header describes, 1 when the header goes on past len (ask for more),
 * -1 with the reason in hearth_wasm_error(). */
EXPORT("hearth_wasm_check_header")
int hearth_wasm_check_header(const uint8_t *buf, size_t len, double file_size, int gpu, const char *name) {
    bool more = false;
    memset(&g_err, 0, sizeof g_err);
    if (!(file_size >= 0 && file_size < 18446744073709551616.0)) file_size = (double)len;
    if (!model_check_header(buf, len, (uint64_t)file_size, name, gpu != 0, &more, &g_err)) return 0;
    return more ? 1 : -1;
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

/* ---- generation after prompt tokens, a step at a time (src/generate.h) ---- */

/* The sampler's defaults (src/sampler.c, the one place they are written):
 * temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, and the
 * seed as two 32-bit halves (low, high). */
EXPORT("hearth_wasm_sampler_defaults") void hearth_wasm_sampler_defaults(double *out) {
    sampler_params p;
    sampler_defaults(&p);
    double v[8] = {p.temperature, p.top_k, p.top_p, p.min_p, p.repeat_penalty, p.repeat_last_n,
                   (double)(uint32_t)p.seed, (double)(uint32_t)(p.seed >> 32)};
    memcpy(out, v, sizeof v);
}

/* Begins generating after the prompt (n_past tokens of which are in the KV
 * cache already) on the engine's backend. flags: 1 end-of-generation
 * tokens do not stop it (benchmarks). NULL on failure. */
EXPORT("hearth_wasm_gen_begin")
hearth_gen *hearth_wasm_gen_begin(hearth_engine *e, const int32_t *prompt, int n_prompt, int n_past, int max_tokens,
                                  float temperature, int top_k, float top_p, float min_p, float repeat_penalty,
                                  uint64_t seed, int flags) {
    sampler_params sp;
    sampler_defaults(&sp);
    sp.temperature = temperature;
    sp.top_k = top_k;
    sp.top_p = top_p;
    sp.min_p = min_p;
    sp.repeat_penalty = repeat_penalty;
    sp.seed = seed;
    hearth_gen *g = NULL;
    memset(&g_err, 0, sizeof g_err);
    if (hearth_gen_begin(&g, e, prompt, n_prompt, n_past, max_tokens, &sp, &g_err)) return NULL;
    if (flags & 1) hearth_gen_ignore_eog(g);
    return g;
}

/* The next token (>= 0), -1 at the end, -2 when the backend's step is in
 * flight (the GPU host completes it, then call again), -3 on failure.
 * out[0], out[1]: the text it made final (address, bytes; valid until the
 * next call); at the end, what the decoder held back. */
EXPORT("hearth_wasm_gen_next") int hearth_wasm_gen_next(hearth_gen *g, uint32_t *out) {
    int32_t token;
    memset(&g_err, 0, sizeof g_err);
    if (hearth_gen_next(g, &token, &g_err)) return -3;
    size_t len;
    const char *text = hearth_gen_text(g, &len);
    out[0] = (uint32_t)(uintptr_t)text;
    out[1] = (uint32_t)len;
    return token;
}

/* The logits of the last token (n_vocab floats), or NULL where the backend kept none. */
EXPORT("hearth_wasm_gen_logits") const float *hearth_wasm_gen_logits(hearth_gen *g) { return hearth_gen_logits(g); }
EXPORT("hearth_wasm_gen_stop") void hearth_wasm_gen_stop(hearth_gen *g) { hearth_gen_stop(g); }
EXPORT("hearth_wasm_gen_free") void hearth_wasm_gen_free(hearth_gen *g) { hearth_gen_free(g); }

/* stats (8 doubles): prompt_tokens, reused_tokens, gen_tokens, cache_tokens,
 * prefill_ms, decode_ms, ttft_ms, stop (0 length, 1 end of generation, 2
 * context full, 3 stopped). */
EXPORT("hearth_wasm_gen_stats") void hearth_wasm_gen_stats(hearth_gen *g, double *stats) {
    const hearth_gen_stats *st = hearth_gen_stats_of(g);
    double v[8] = {st->prompt_tokens, st->reused_tokens, st->gen_tokens, st->cache_tokens, st->prefill_ms,
                   st->decode_ms, st->ttft_ms,
                   st->stopped_by_eog ? 1 : st->stopped_by_ctx ? 2 : st->stopped_by_callback ? 3 : 0};
    memcpy(stats, v, sizeof v);
}

/* ---- model facts ---- */

/* which: 0 name, 1 architecture, 2 chat template ("" when none). */
EXPORT("hearth_wasm_info_str")
const char *hearth_wasm_info_str(hearth_engine *e, int which) {
    static char buf[256];
    const gguf_file *g = hearth_engine_gguf(e);
    gguf_str s = {0};
    const char *key = which == 0 ? "general.name" : which == 1 ? "general.architecture" : "tokenizer.chat_template";
    if (which == 2) return gguf_get_str(g, key, &s) ? s.data : "";
    if (!gguf_get_str(g, key, &s) || s.len == 0) return which == 0 ? gguf_name(g) : "";
    size_t n = s.len < sizeof buf - 1 ? s.len : sizeof buf - 1;
    memcpy(buf, s.data, n);
    buf[n] = 0;
    return buf;
}

/* which: 0 layers, 1 embedding width, 2 vocabulary, 3 weight bytes,
 * 4 training context, 5 heads, 6 KV heads, 7 FFN width; -1 when the
 * model was loaded for its vocabulary only. */
EXPORT("hearth_wasm_info_num")
double hearth_wasm_info_num(hearth_engine *e, int which) {
    const model *m = hearth_engine_model(e);
    if (!m) return which == 2 ? tokenizer_vocab_size(hearth_engine_tokenizer(e)) : -1;
    const model_hparams *hp = &m->hp;
    switch (which) {
    case 0: return hp->n_layer;
    case 1: return hp->n_embd;
    case 2: return hp->n_vocab;
    case 3: return (double)m->weight_bytes;
    case 4: return hp->n_ctx_train;
    case 5: return hp->n_head;
    case 6: return hp->n_head_kv;
    case 7: return hp->n_ff;
    default: return -1;
    }
}

/* ---- completions, a token at a time (the worker yields between tokens) ---- */

EXPORT("hearth_wasm_session_create")
hearth_chat *hearth_wasm_session_create(hearth_engine *e, int year, int month, int day) {
    hearth_chat *c = NULL;
    memset(&g_err, 0, sizeof g_err);
    if (hearth_chat_create(&c, e, NULL, &g_err)) return NULL;
    hearth_chat_set_date(c, year, month, day);
    return c;
}

EXPORT("hearth_wasm_session_free") void hearth_wasm_session_free(hearth_chat *c) { hearth_chat_free(c); }
EXPORT("hearth_wasm_session_warning") const char *hearth_wasm_session_warning(hearth_chat *c) {
    return hearth_chat_warning(c);
}
/* HEARTH_CHAT_* flags of the model's chat template (chat.h). */
EXPORT("hearth_wasm_session_features") int hearth_wasm_session_features(hearth_chat *c) {
    return (int)hearth_chat_features(c);
}

/* Starts answering an OpenAI-shaped request (JSON, see chat_request.h):
 * "messages" through the chat template, else "prompt" as raw text.
 * Returns 0 or -1. */
EXPORT("hearth_wasm_begin")
int hearth_wasm_begin(hearth_chat *c, const char *json, size_t len) {
    chat_request r;
    memset(&g_err, 0, sizeof g_err);
    hearth_status st = chat_request_parse(&r, json, len, &g_err);
    if (!st && r.messages) st = hearth_chat_set_messages(c, r.messages, r.n_messages, &g_err);
    if (!st) st = r.messages ? hearth_chat_begin(c, NULL, &r.options, &g_err)
                             : hearth_chat_begin_raw(c, r.prompt, r.prompt_len, &r.options, &g_err);
    chat_request_free(&r);
    return st ? -1 : 0;
}

/* One token: out[0] = address of the new answer text, out[1] = its length,
 * out[2] and out[3] the same for the new reasoning (valid until the next call). Returns 1 when the answer is complete, 0 when more
 * follows, 2 when the backend's step is in flight (the GPU host completes it,
 * then call again), -1 on failure (then call hearth_wasm_end to free the
 * answer). */
EXPORT("hearth_wasm_next")
int hearth_wasm_next(hearth_chat *c, uint32_t *out) {
    const char *text;
    size_t len;
    bool done;
    memset(&g_err, 0, sizeof g_err);
    hearth_status st = hearth_chat_next(c, &text, &len, &done, &g_err);
    out[0] = (uint32_t)(uintptr_t)text;
    out[1] = (uint32_t)len;
    const char *reasoning = hearth_chat_next_reasoning(c, &len);
    out[2] = (uint32_t)(uintptr_t)reasoning;
    out[3] = (uint32_t)len;
    return st ? -1 : done ? 1 : hearth_chat_waiting(c) ? 2 : 0;
}

/* The tool calls the last hearth_wasm_next completed: out[0] the address
 * of OpenAI's tool_calls list as JSON, out[1] its length ("[]" when none). */
EXPORT("hearth_wasm_next_tool_calls") void hearth_wasm_next_tool_calls(hearth_chat *c, uint32_t *out) {
    size_t len;
    const char *calls = hearth_chat_next_tool_calls(c, &len);
    out[0] = (uint32_t)(uintptr_t)calls;
    out[1] = (uint32_t)len;
}

/* After hearth_wasm_end: the answer's tool calls (NUL-terminated JSON, "[]" when none). */
EXPORT("hearth_wasm_tool_calls") const char *hearth_wasm_tool_calls(hearth_chat *c) { return hearth_chat_tool_calls(c); }

EXPORT("hearth_wasm_interrupt") void hearth_wasm_interrupt(hearth_chat *c) { hearth_chat_interrupt(c); }

/* Ends the answer. stats (9 doubles): prompt_tokens, reused_tokens,
 * evaluated_tokens, gen_tokens, dropped_messages, prefill_ms, decode_ms,
 * ttft_ms, stop (0 eog, 1 stop string, 2 length, 3 context, 4 interrupted, 5 grammar).
 * Returns 0 or -1. */
EXPORT("hearth_wasm_end")
int hearth_wasm_end(hearth_chat *c, double *stats) {
    hearth_chat_stats s;
    memset(&g_err, 0, sizeof g_err);
    hearth_status st = hearth_chat_end(c, NULL, NULL, &s, &g_err);
    static const char *const stops[] = {"eog", "stop", "length", "context", "interrupted", "grammar"};
    double code = 2;
    for (int i = 0; i < 6; i++)
        if (s.stop && strcmp(s.stop, stops[i]) == 0) code = i;
    double v[9] = {s.prompt_tokens, s.reused_tokens, s.evaluated_tokens, s.gen_tokens, s.dropped_messages,
                   s.prefill_ms, s.decode_ms, s.ttft_ms, code};
    memcpy(stats, v, sizeof v);
    return st ? -1 : 0;
}

/* `hearth bench` (src/bench.h): out[0] prefill ms, out[1] decode ms. */
EXPORT("hearth_wasm_bench")
int hearth_wasm_bench(hearth_engine *e, int prompt_tokens, int gen_tokens, int repetitions, double *out) {
    hearth_bench_result r;
    memset(&g_err, 0, sizeof g_err);
    if (hearth_bench(e, prompt_tokens, gen_tokens, repetitions, &r, &g_err)) return -1;
    out[0] = r.prefill_ms;
    out[1] = r.decode_ms;
    return 0;
}
