/* Loading models by their architecture's description (arch.c, model.c):
 * tiny f32 files of every row bind to the uniform layer, missing or
 * misshapen tensors and unknown architectures fail with messages that name
 * them, and the CPU forward pass runs each. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cpu/kernels.h"
#include "cpu/forward.h"
#include "model/ggml_types.h"
#include "gguf_build.h"
#include "host_native.h"
#include "model/model.h"

enum { E = 32, FF = 64, HEADS = 2, KV_HEADS = 1, HD = E / HEADS, VOCAB = 8 };

typedef struct {
    char name[48];
    uint64_t ne[2];
    int n_dims;
} tensor;

/* The tensors of one layer and the globals, for an architecture's flags;
 * `omit` leaves one out, `wrong` gives one a row too many. */
static int model_tensors(unsigned flags, const char *omit, const char *wrong, tensor *t) {
    static const struct {
        const char *name;
        int cols, rows; /* rows 0: a vector */
        unsigned only_if, not_if;
    } all[] = {
        {"token_embd.weight", E, VOCAB, 0, 0},
        {"output_norm.weight", E, 0, 0, 0},
        {"blk.0.attn_norm.weight", E, 0, 0, 0},
        {"blk.0.ffn_norm.weight", E, 0, 0, 0},
        {"blk.0.attn_output.weight", E, E, 0, 0},
        {"blk.0.ffn_down.weight", FF, E, 0, 0},
        {"blk.0.attn_qkv.weight", E, E + 2 * KV_HEADS * HD, ARCH_FUSED_QKV, 0},
        {"blk.0.ffn_up.weight", E, 2 * FF, ARCH_FUSED_GATE_UP, 0},
        {"blk.0.attn_q.weight", E, E, 0, ARCH_FUSED_QKV},
        {"blk.0.attn_k.weight", E, KV_HEADS * HD, 0, ARCH_FUSED_QKV},
        {"blk.0.attn_v.weight", E, KV_HEADS * HD, 0, ARCH_FUSED_QKV},
        {"blk.0.ffn_gate.weight", E, FF, 0, ARCH_FUSED_GATE_UP},
        {"blk.0.ffn_up.weight", E, FF, 0, ARCH_FUSED_GATE_UP},
        {"blk.0.attn_q.bias", E, 0, ARCH_QKV_BIAS, 0},
        {"blk.0.attn_k.bias", KV_HEADS * HD, 0, ARCH_QKV_BIAS, 0},
        {"blk.0.attn_v.bias", KV_HEADS * HD, 0, ARCH_QKV_BIAS, 0},
        {"blk.0.attn_q_norm.weight", HD, 0, ARCH_QK_NORM, 0},
        {"blk.0.attn_k_norm.weight", HD, 0, ARCH_QK_NORM, 0},
        {"blk.0.post_attention_norm.weight", E, 0, ARCH_POST_NORMS, 0},
        {"blk.0.post_ffw_norm.weight", E, 0, ARCH_POST_NORMS, 0},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        if ((all[i].only_if & flags) != all[i].only_if || (all[i].not_if & flags)) continue;
        if (omit && strcmp(omit, all[i].name) == 0) continue;
        snprintf(t[n].name, sizeof t[n].name, "%s", all[i].name);
        t[n].n_dims = all[i].rows ? 2 : 1;
        t[n].ne[0] = (uint64_t)all[i].cols;
        t[n].ne[1] = (uint64_t)all[i].rows + (wrong && strcmp(wrong, all[i].name) == 0);
        n++;
    }
    return n;
}

/* A GGUF file of that architecture, f32 weights of small deterministic values
 * (the tensor named odd, if any, claims type odd_type: its data stays f32-sized). */
static void write_model_swa(const char *path, const char *arch, unsigned flags, const char *omit, const char *wrong,
                            const char *odd, uint32_t odd_type, uint32_t swa) {
    tensor t[32];
    int n = model_tensors(flags, omit, wrong, t);
    buf b = {0};
    put(&b, "GGUF", 4);
    u32(&b, 3);
    u64(&b, (uint64_t)n);
    u64(&b, swa ? 9 : 7);
    kv_str(&b, "general.architecture", arch);
    char key[96];
#define KEY(k, v) (snprintf(key, sizeof key, "%s.%s", arch, k), kv_u32(&b, key, v))
    KEY("embedding_length", E);
    KEY("block_count", 1);
    KEY("feed_forward_length", FF);
    KEY("attention.head_count", HEADS);
    KEY("attention.head_count_kv", KV_HEADS);
    KEY("context_length", 64);
    if (swa) { /* every 2nd layer global: layer 0 slides */
        KEY("attention.sliding_window", swa);
        KEY("attention.sliding_window_pattern", 2);
    }
#undef KEY
    uint64_t offset = 0;
    for (int i = 0; i < n; i++) {
        str(&b, t[i].name);
        u32(&b, (uint32_t)t[i].n_dims);
        for (int d = 0; d < t[i].n_dims; d++) u64(&b, t[i].ne[d]);
        u32(&b, odd && strcmp(odd, t[i].name) == 0 ? odd_type : GGML_TYPE_F32);
        u64(&b, offset);
        offset += (t[i].ne[0] * (t[i].n_dims == 2 ? t[i].ne[1] : 1) * 4 + 31) / 32 * 32;
    }
    pad(&b, 32);
    for (int i = 0; i < n; i++) {
        uint64_t count = t[i].ne[0] * (t[i].n_dims == 2 ? t[i].ne[1] : 1);
        for (uint64_t j = 0; j < count; j++) {
            float v = t[i].n_dims == 1 ? 1.0f : (float)((j * 7 + (uint64_t)i) % 13) / 13.0f - 0.5f;
            put(&b, &v, 4);
        }
        pad(&b, 32);
    }
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b.p, 1, b.n, f);
        fclose(f);
    }
    free(b.p);
}

static void write_model_odd(const char *path, const char *arch, unsigned flags, const char *omit, const char *wrong,
                            const char *odd, uint32_t odd_type) {
    write_model_swa(path, arch, flags, omit, wrong, odd, odd_type, 0);
}

static void write_model(const char *path, const char *arch, unsigned flags, const char *omit, const char *wrong) {
    write_model_odd(path, arch, flags, omit, wrong, NULL, 0);
}

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(len > 0 ? (size_t)len : 1);
    *n = p ? fread(p, 1, (size_t)len, f) : 0;
    fclose(f);
    return p;
}

/* model_check_header on the first `avail` bytes of the file at path. */
static hearth_status check_prefix(const char *path, size_t avail, bool gpu, bool *more, hearth_error *err) {
    size_t n = 0;
    unsigned char *p = read_all(path, &n);
    *err = (hearth_error){0};
    hearth_status st = model_check_header(p, avail < n ? avail : n, n, "m.gguf", gpu, more, err);
    free(p);
    return st;
}

/* The download's header check (model_check_header): what it accepts, when
 * it asks for more bytes, and the one line that names what stops a model. */
static void test_check_header(const char *path) {
    hearth_error err;
    bool more = true;
    write_model(path, "llama", ARCH_TIED_EMBD, NULL, NULL);
    CHECK("header check accepts a model the CPU runs", !check_prefix(path, 1 << 20, false, &more, &err) && !more, "%s",
          err.message);
    CHECK("header check accepts a model the GPU runs", !check_prefix(path, 1 << 20, true, &more, &err), "%s", err.message);
    hearth_status st = check_prefix(path, 100, false, &more, &err);
    CHECK("a short prefix asks for more", st && more, "st %d more %d: %s", st, more, err.message);
    write_model_odd(path, "llama", ARCH_TIED_EMBD, NULL, NULL, "blk.0.ffn_down.weight", 17 /* iq2_xs */);
    st = check_prefix(path, 1 << 20, false, &more, &err);
    CHECK("an unsupported type is named with its tensor",
          st == HEARTH_E_UNSUPPORTED && !more && strstr(err.message, "tensor blk.0.ffn_down.weight has type iq2_xs"),
          "%s", err.message);
    write_model(path, "gemma9", 0, NULL, NULL);
    st = check_prefix(path, 1 << 20, true, &more, &err);
    CHECK("an unknown architecture is refused from the header", st == HEARTH_E_UNSUPPORTED && strstr(err.message, "gemma9"),
          "%s", err.message);
}

typedef struct {
    native_host *h;
    gguf_file *g;
    model *m;
    hearth_error err;
} loaded;

static hearth_status load(loaded *l, const char *path) {
    *l = (loaded){0};
    hearth_status st = native_host_create(&l->h, path, 1, &l->err);
    if (!st) st = gguf_open(&l->g, native_host_iface(l->h), &l->err);
    if (!st) st = model_load(&l->m, l->g, native_host_iface(l->h), &l->err);
    return st;
}

static void unload(loaded *l) {
    model_free(l->m);
    gguf_free(l->g);
    native_host_free(l->h);
}

/* Logits of two tokens, all finite. */
static bool runs(loaded *l) {
    hearth_kernels k;
    kernels_init(&k, true);
    forward_ctx *f = NULL;
    float logits[VOCAB];
    const int32_t tokens[2] = {1, 2};
    bool ok = !forward_create(&f, l->m, native_host_iface(l->h), &k, true, 16, 4, &l->err) &&
              !forward_eval(f, tokens, 2, 0, logits, &l->err);
    for (int i = 0; ok && i < VOCAB; i++) ok = isfinite(logits[i]);
    forward_free(f);
    return ok;
}

static void test_rows(const char *path) {
    static const struct {
        const char *arch;
        int n_qkv, n_gate_up;
        bool neox, biases, qk_norm, post_norms, local, rope;
    } want[] = {{"llama", 3, 2, false, false, false, false, false, true},
                {"phi3", 1, 1, true, false, false, false, false, true},
                {"qwen2", 3, 2, true, true, false, false, false, true},
                {"qwen3", 3, 2, true, false, true, false, false, true},
                /* no sliding_window key: Gemma 3 has no window, Gemma 2 4096 */
                {"gemma3", 3, 2, true, false, true, true, false, true},
                {"gemma2", 3, 2, true, false, false, true, true, true},
                {"smollm3", 3, 2, false, false, false, false, false, true}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const arch_desc *d = arch_find(want[i].arch);
        char name[64];
        snprintf(name, sizeof name, "%s: a row that hearth runs", want[i].arch);
        char missing[160] = "";
        if (d) arch_missing(d, ARCH_RUNS, missing, sizeof missing);
        CHECK(name, d && !(d->flags & ~(unsigned)ARCH_RUNS) && !missing[0], "no row or it needs %s", missing);
        if (!d) continue;
        write_model(path, want[i].arch, d->flags, NULL, NULL);
        loaded l;
        hearth_status st = load(&l, path);
        snprintf(name, sizeof name, "%s: loads", want[i].arch);
        CHECK(name, st == HEARTH_OK, "%s", l.err.message);
        if (!st) {
            const model_layer *ly = &l.m->layers[0];
            snprintf(name, sizeof name, "%s: the uniform layer", want[i].arch);
            CHECK(name,
                  ly->n_qkv == want[i].n_qkv && ly->n_gate_up == want[i].n_gate_up &&
                      l.m->hp.rope_neox == want[i].neox && (ly->qkv_bias[0] != NULL) == want[i].biases &&
                      ly->gate_up[0].rows * ly->n_gate_up == 2 * FF && l.m->output.data == l.m->tok_embd.data &&
                      model_matrices(l.m, NULL, 0) == 1 + ly->n_qkv + ly->n_gate_up + 2 &&
                      (ly->q_norm && ly->k_norm) == want[i].qk_norm &&
                      (ly->attn_post_norm && ly->ffn_post_norm) == want[i].post_norms && ly->local == want[i].local &&
                      ly->rope == want[i].rope,
                  "n_qkv %d n_gate_up %d neox %d local %d", ly->n_qkv, ly->n_gate_up, l.m->hp.rope_neox, ly->local);
            snprintf(name, sizeof name, "%s: the CPU forward pass runs", want[i].arch);
            CHECK(name, runs(&l), "%s", l.err.message);
        }
        unload(&l);
    }
}

/* The logits after n_prompt tokens (batches of 64: ggml's tiled attention)
 * and after each of n_gen more, one at a time, for a context of n_ctx. */
static bool window_logits(loaded *l, int n_ctx, int n_prompt, int n_gen, float *out, uint64_t *kv_bytes) {
    hearth_kernels k;
    kernels_init(&k, true);
    forward_ctx *f = NULL;
    int32_t tokens[256];
    for (int i = 0; i < 256; i++) tokens[i] = (i * 5 + 1) % VOCAB;
    bool ok = !forward_create(&f, l->m, native_host_iface(l->h), &k, true, n_ctx, 64, &l->err) &&
              !forward_eval(f, tokens, n_prompt, 0, out, &l->err);
    for (int i = 0; ok && i < n_gen; i++)
        ok = !forward_eval(f, &tokens[n_prompt + i], 1, n_prompt + i, out + VOCAB * (i + 1), &l->err);
    if (f) *kv_bytes = forward_kv_bytes(f);
    forward_free(f);
    return ok;
}

/* A sliding-window layer's KV cache is a ring where it saves memory, with
 * the same logits, bit for bit, as the full cache: its ring here holds
 * 4 + 64 + 64 = 132 positions (twice), used for a context of 264 or more.
 * The last prompt row of 192 (a tiled batch of 128..191) reads its window
 * past the ring's end, and so do decode steps at 132..134. */
static void test_window_ring(const char *path) {
    write_model_swa(path, "gemma3", ARCH_QK_NORM | ARCH_POST_NORMS, NULL, NULL, NULL, 0, 4);
    loaded l;
    hearth_status st = load(&l, path);
    CHECK("a gemma3 model with a window of 4 loads", !st && l.m->hp.n_swa == 4 && l.m->layers[0].local, "%s",
          l.err.message);
    if (!st) {
        static float ring[VOCAB * 11], full[VOCAB * 11];
        uint64_t ring_bytes = 0, full_bytes = 0;
        bool ok = window_logits(&l, 512, 192, 0, ring, &ring_bytes) && window_logits(&l, 264, 192, 0, full, &full_bytes);
        CHECK("the window's ring keeps the tiled prefill's logits, bit for bit",
              ok && memcmp(ring, full, VOCAB * sizeof *ring) == 0, "%s", ok ? "logits differ" : l.err.message);
        CHECK("the ring is smaller than the context", ring_bytes < 2ull * 512 * KV_HEADS * HD * 2 && full_bytes > 0,
              "%llu bytes", (unsigned long long)ring_bytes);
        ok = window_logits(&l, 512, 128, 10, ring, &ring_bytes) && window_logits(&l, 264, 128, 10, full, &full_bytes);
        CHECK("the window's ring keeps the decode steps' logits, bit for bit",
              ok && memcmp(ring, full, sizeof ring) == 0, "%s", ok ? "logits differ" : l.err.message);
    }
    unload(&l);
}

/* forward_eval_rows: three sequences of other lengths (the third past
 * the end of a window's ring) decode in rows, each on its own cache: in
 * batches of one row as forward_eval's one-token steps, bit for bit (the
 * positions, caches and attention are each row's); in one batch of three
 * as those within the rounding of the batch products' other order, which
 * the f16 cache can round up to a step of its own; rows that share a cache
 * are refused. */
enum { SEQS = 3, STEPS = 6 };
typedef enum { ALONE, ONE_ROW_BATCHES, ONE_BATCH } rows_mode;

static bool rows_logits(loaded *l, rows_mode mode, float *out) {
    hearth_kernels k;
    kernels_init(&k, true);
    forward_ctx *f[SEQS] = {0};
    static const int n_prompt[SEQS] = {5, 40, 130};
    int32_t tokens[130];
    float *rows_out[SEQS];
    bool ok = true;
    for (int s = 0; ok && s < SEQS; s++) {
        for (int i = 0; i < n_prompt[s]; i++) tokens[i] = (i * 5 + 1 + s) % VOCAB;
        ok = !forward_create(&f[s], l->m, native_host_iface(l->h), &k, true, 512, 64, &l->err) &&
             !forward_eval(f[s], tokens, n_prompt[s], 0, NULL, &l->err);
    }
    for (int step = 0; ok && step < STEPS; step++) {
        int32_t next[SEQS];
        int pos[SEQS];
        for (int s = 0; s < SEQS; s++) {
            next[s] = (step * 3 + s) % VOCAB;
            pos[s] = n_prompt[s] + step;
            rows_out[s] = out + (size_t)(step * SEQS + s) * VOCAB;
        }
        if (mode == ONE_BATCH) ok = !forward_eval_rows(f, next, pos, SEQS, rows_out, &l->err);
        for (int s = 0; ok && mode == ONE_ROW_BATCHES && s < SEQS; s++)
            ok = !forward_eval_rows(&f[s], &next[s], &pos[s], 1, &rows_out[s], &l->err);
        for (int s = 0; ok && mode == ALONE && s < SEQS; s++)
            ok = !forward_eval(f[s], &next[s], 1, pos[s], rows_out[s], &l->err);
    }
    if (ok) { /* a sequence cannot take two rows of one batch */
        forward_ctx *twice[2] = {f[0], f[0]};
        const int32_t t2[2] = {1, 2};
        const int p2[2] = {10, 11};
        hearth_error e = {0};
        ok = forward_eval_rows(twice, t2, p2, 2, rows_out, &e) == HEARTH_E_ARG && strstr(e.message, "one row");
        if (!ok) snprintf(l->err.message, sizeof l->err.message, "rows sharing a cache: %.400s", e.message);
    }
    for (int s = 0; s < SEQS; s++) forward_free(f[s]);
    return ok;
}

static void test_independent_rows(const char *path) {
    static const struct {
        const char *arch;
        unsigned flags;
        uint32_t swa;
    } cases[] = {{"qwen2", ARCH_QKV_BIAS, 0}, {"gemma2", ARCH_POST_NORMS, 4}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        write_model_swa(path, cases[c].arch, cases[c].flags, NULL, NULL, NULL, 0, cases[c].swa);
        loaded l;
        hearth_status st = load(&l, path);
        static float alone[SEQS * STEPS * VOCAB], ones[SEQS * STEPS * VOCAB], batch[SEQS * STEPS * VOCAB];
        bool ok = !st && rows_logits(&l, ALONE, alone) && rows_logits(&l, ONE_ROW_BATCHES, ones);
        char name[96];
        snprintf(name, sizeof name, "%s: rows of one decode as each sequence alone, bit for bit", cases[c].arch);
        CHECK(name, ok && memcmp(alone, ones, sizeof alone) == 0, "%s", ok ? "logits differ" : l.err.message);
        ok = ok && rows_logits(&l, ONE_BATCH, batch);
        float worst = 0;
        bool same_argmax = true;
        for (size_t row = 0; ok && row < SEQS * STEPS; row++) {
            int best_a = 0, best_b = 0;
            for (int v = 0; v < VOCAB; v++) {
                const size_t i = row * VOCAB + (size_t)v;
                float d = fabsf(alone[i] - batch[i]) / (1.0f + fabsf(alone[i]));
                if (!(d <= worst)) worst = d; /* NaN counts as worst */
                if (alone[i] > alone[row * VOCAB + (size_t)best_a]) best_a = v;
                if (batch[i] > batch[row * VOCAB + (size_t)best_b]) best_b = v;
            }
            same_argmax = same_argmax && best_a == best_b;
        }
        snprintf(name, sizeof name, "%s: a batch of three rows decodes as each sequence alone, within rounding",
                 cases[c].arch);
        CHECK(name, ok && worst < 1e-2f && same_argmax, "%s (largest relative difference %g)",
              ok ? "logits differ" : l.err.message, worst);
        if (ok) printf("# %s: the batch's largest relative difference from alone: %g\n", cases[c].arch, worst);
        unload(&l);
    }
}

/* forward_eval_seqs: a decode step, prompts of 20 and 70 tokens on caches
 * that hold some already (the 70 cut into passes of 64 + 6 as forward_eval
 * cuts it) and a new 30-token prompt go in one call (three passes of at most
 * 64 rows): each sequence's logits, and those of a decode step after it,
 * as forward_eval's alone within the batch products' rounding. */
enum { MIXED = 4 };

static bool mixed_logits(loaded *l, bool together, float *out, int *passes) {
    hearth_kernels k;
    kernels_init(&k, true);
    forward_ctx *f[MIXED] = {0};
    static const int held[MIXED] = {5, 40, 130, 0}, count[MIXED] = {1, 20, 70, 30};
    static int32_t tokens[MIXED][130];
    const int32_t *each[MIXED];
    int pos[MIXED];
    float *logits[MIXED];
    bool ok = true;
    for (int s = 0; ok && s < MIXED; s++) {
        for (int i = 0; i < 130; i++) tokens[s][i] = (i * 7 + 3 + s) % VOCAB;
        ok = !forward_create(&f[s], l->m, native_host_iface(l->h), &k, true, 512, 64, &l->err) &&
             (!held[s] || !forward_eval(f[s], tokens[s], held[s], 0, NULL, &l->err));
        each[s] = tokens[s] + held[s], pos[s] = held[s], logits[s] = out + (size_t)s * 2 * VOCAB;
    }
    if (ok && together) ok = !forward_eval_seqs(f, each, count, pos, MIXED, logits, passes, &l->err);
    for (int s = 0; ok && !together && s < MIXED; s++)
        ok = !forward_eval(f[s], each[s], count[s], pos[s], logits[s], &l->err);
    for (int s = 0; ok && s < MIXED; s++) { /* the step after, alone: the cache the batch left */
        const int32_t next = (s + 1) % VOCAB;
        ok = !forward_eval(f[s], &next, 1, pos[s] + count[s], logits[s] + VOCAB, &l->err);
    }
    for (int s = 0; s < MIXED; s++) forward_free(f[s]);
    return ok;
}

static void test_mixed_steps(const char *path) {
    write_model_swa(path, "qwen2", ARCH_QKV_BIAS, NULL, NULL, NULL, 0, 0);
    loaded l;
    hearth_status st = load(&l, path);
    static float alone[MIXED * 2 * VOCAB], together[MIXED * 2 * VOCAB];
    int passes = 0;
    bool ok = !st && mixed_logits(&l, false, alone, &passes) && mixed_logits(&l, true, together, &passes);
    CHECK("qwen2: those steps (121 rows, one of them cut after 64) took three passes of at most 64 rows",
          ok && passes == 3, "%d passes", passes);
    float worst = 0;
    bool same_argmax = true;
    for (size_t row = 0; ok && row < MIXED * 2; row++) {
        int best_a = 0, best_b = 0;
        for (int v = 0; v < VOCAB; v++) {
            const size_t i = row * VOCAB + (size_t)v;
            float d = fabsf(alone[i] - together[i]) / (1.0f + fabsf(alone[i]));
            if (!(d <= worst)) worst = d; /* NaN counts as worst */
            if (alone[i] > alone[row * VOCAB + (size_t)best_a]) best_a = v;
            if (together[i] > together[row * VOCAB + (size_t)best_b]) best_b = v;
        }
        same_argmax = same_argmax && best_a == best_b;
    }
    CHECK("qwen2: prompts and a decode step in one call give each sequence's logits (and its next step's) as alone",
          ok && worst < 1e-2f && same_argmax, "%s (largest relative difference %g)",
          ok ? "logits differ" : l.err.message, worst);
    if (ok) printf("# qwen2: mixed steps' largest relative difference from alone: %g\n", worst);
    unload(&l);
}

static void expect_refused(const char *path, const char *name, const char *arch, unsigned flags, const char *omit,
                           const char *wrong, const char *message) {
    write_model(path, arch, flags, omit, wrong);
    loaded l;
    hearth_status st = load(&l, path);
    CHECK(name, st != HEARTH_OK && strstr(l.err.message, message), "%s", st ? l.err.message : "loaded");
    unload(&l);
}

int main(void) {
    char path[] = "/tmp/hearth-test-model-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    test_rows(path);
    test_check_header(path);
    test_window_ring(path);
    test_mixed_steps(path);
    test_independent_rows(path);
    expect_refused(path, "a missing tensor is named with the architecture", "llama", ARCH_TIED_EMBD,
                   "blk.0.attn_k.weight", NULL, "tensor blk.0.attn_k.weight is missing (architecture llama)");
    expect_refused(path, "qwen2 needs its biases", "qwen2", 0, NULL, NULL,
                   "tensor blk.0.attn_q.bias is missing (architecture qwen2)");
    expect_refused(path, "a misshapen tensor is refused", "phi3", ARCH_FUSED_QKV | ARCH_FUSED_GATE_UP,
                   NULL, "blk.0.attn_qkv.weight", "blk.0.attn_qkv.weight has shape");
    expect_refused(path, "an unknown architecture lists the known ones", "gemma9", 0, NULL, NULL,
                   "hearth runs llama, phi3, qwen2, qwen3, gemma3, gemma2, smollm3");
    expect_refused(path, "qwen3 needs its QK norms", "qwen3", ARCH_QK_NORM, "blk.0.attn_k_norm.weight", NULL,
                   "tensor blk.0.attn_k_norm.weight is missing (architecture qwen3)");
    expect_refused(path, "gemma3 needs its post norms", "gemma3", ARCH_QK_NORM | ARCH_POST_NORMS,
                   "blk.0.post_ffw_norm.weight", NULL, "tensor blk.0.post_ffw_norm.weight is missing");
    const arch_desc future = {ARCH_LLAMA, "future", ARCH_QK_NORM | ARCH_SOFTCAP | 1u << 30, ROPE_NEOX, FFN_GEGLU, 0, 0, 0};
    char missing[160];
    arch_missing(&future, ARCH_FUSED_QKV, missing, sizeof missing);
    CHECK("what a row needs is named", strcmp(missing, "QK-norm, logit soft-capping, other operations") == 0, "%s",
          missing);
    arch_missing(&future, ARCH_RUNS | 1u << 30, missing, sizeof missing);
    CHECK("a backend that runs a row's flags misses nothing", !missing[0], "%s", missing);
    hearth_error err = {0};
    CHECK("a backend that lacks an operation says which and which backend",
          model_arch_runs_on(&future, true, "m.gguf", &err) == HEARTH_E_UNSUPPORTED &&
              strstr(err.message, "architecture future needs") && strstr(err.message, "WebGPU backend"),
          "%s", err.message);
    char list[160];
    ggml_type_list(true, list, sizeof list);
    CHECK("GPU type list", strcmp(list, "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K, iq4_nl, iq4_xs") == 0, "%s",
          list);
    unlink(path);
    CHECK_DONE();
}
