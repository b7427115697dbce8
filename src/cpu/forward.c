/* CPU forward pass of the layer recipe model.h describes (every
 * architecture arch.c lists). The numerics are ggml's CPU
 * backend's, so that outputs agree with llama.cpp bit for bit: see
 * docs/numerics.md. */
#include "cpu/forward.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/activation.h"
#include "cpu/attention.h"
#include "model/ggml_types.h"

#define MAX_GROUP 3

struct forward_ctx {
    const model *m;
    const hearth_host *host;
    const hearth_kernels *k;
    int n_ctx, max_batch, n_threads;
    int q_dim, kv_dim, qkv_dim;

    uint16_t **k_cache, **v_cache; /* per layer: [n_head_kv][kv_rows[il]][head_dim] f16 */
    /* A sliding-window layer's cache may be a ring of ring[il] positions
     * (0: none, rows are positions), each row stored twice, at p % ring and
     * p % ring + ring, so that any ring's worth of consecutive positions is
     * contiguous: the attention rows read windows as they read a full cache. */
    int *kv_rows, *ring;
    float *x, *xb, *qkv, *attn, *ffn, *act, *rope_cs, *last;
    float *rope_cs_local; /* the sliding-window layers' RoPE table, or NULL where they share rope_cs */
    uint16_t *gelu_table; /* FFN_GEGLU: ggml's f16 GELU table (activation.h) */
    uint16_t *attn_acc; /* per thread: head_dim f16 accumulator */
    attention_row_fn attn_row;
    attention_tile_fns attn_tiles; /* batches llama.cpp runs through its tiled flash attention */
    attention_part_fn attn_part; /* decode over 512+ KV cells: ggml's split-KV path */
    attention_group_fn attn_group; /* or NULL: rows head by head */
    swiglu_fn swiglu;
    uint8_t *act_q[MAX_GROUP];
    size_t act_q_bytes;
    float *rows_logits; /* forward_eval_rows's logits when this context's scratch runs the rows: grown on use */
    int rows_logits_cap;
};

/* Where each row of a batch keeps its keys and values: one sequence (rows
 * are its positions pos, pos + 1, ..., in the scratch's own cache), or
 * forward_eval_seqs's sequences, each row a token at its own position in its
 * own context's cache (a sequence's rows in a pass are consecutive). */
typedef struct {
    forward_ctx *const *ctx; /* NULL: one sequence */
    const int *pos;
    const int *len;           /* rows of row t's sequence in this pass (its attention is that of a batch of them) */
    const unsigned char *out; /* rows whose logits are asked for, in order */
} batch_rows;

static forward_ctx *row_ctx(forward_ctx *f, const batch_rows *r, int t) { return r && r->ctx ? r->ctx[t] : f; }
static int row_pos(const batch_rows *r, int pos, int t) { return r && r->ctx ? r->pos[t] : pos + t; }

/* ---- parallel matrix products ---- */

typedef struct {
    const weight *w;
    float *out;       /* out[t * out_stride + r] */
    size_t out_stride;
    const void *act;  /* quantized activations for this weight's type */
} matmul_job;

/* The rows of a group's products go out in chunks that threads take in
 * turn from a shared counter, so that a thread that runs late (another
 * process on its core, a slow wake-up) is made up for by the others instead
 * of the whole region waiting for it. Chunks shrink as a product goes on
 * (each a 1/(2 x threads) share of what is left, as OpenMP's guided
 * schedule): few and long at first, where each new one restarts the
 * hardware's streaming of the weights, short at the end, where they even
 * out the threads. */
#define MAX_CHUNKS 64 /* per job */

typedef struct {
    const hearth_kernels *k;
    matmul_job jobs[MAX_GROUP];
    int n_jobs, n_tok, n_chunks;
    /* chunk c: rows [chunk_r0[c], chunk_r0[c + 1]) of job chunk_job[c]
     * (the job's row count in place of chunk_r0[c + 1] at its last chunk) */
    int chunk_r0[MAX_GROUP * MAX_CHUNKS];
    uint8_t chunk_job[MAX_GROUP * MAX_CHUNKS];
    _Atomic int next_chunk;
} matmul_group;

/* Chunks of whole 16-row tiles (every kernel's SIMD row groups). */
static void plan_chunks(matmul_group *g, int n_threads) {
    int c = 0;
    for (int j = 0; j < g->n_jobs; j++) {
        const int tiles = (g->jobs[j].w->rows + 15) / 16;
        for (int done = 0, k = 0; done < tiles; k++, c++) {
            /* at least an even share of what is left over the chunks left,
             * so that many threads never leave one big last chunk */
            const int rest = tiles - done, even = (rest + MAX_CHUNKS - k - 1) / (MAX_CHUNKS - k);
            int take = rest / (2 * n_threads);
            if (take < even) take = even;
            g->chunk_r0[c] = 16 * done;
            g->chunk_job[c] = (uint8_t)j;
            done += take;
        }
    }
    g->n_chunks = c;
    atomic_init(&g->next_chunk, 0);
}

static void matmul_task(void *arg, int thread, int n_threads) {
    (void)thread;
    matmul_group *g = arg;
    if (n_threads == 1) { /* alone (or redoing a region a thread failed in: hosts then call fn(arg, 0, 1)) */
        for (int j = 0; j < g->n_jobs; j++)
            kernels_matmul(g->k, g->jobs[j].w->type, g->jobs[j].w->data, g->jobs[j].w->cols, 0, g->jobs[j].w->rows,
                           g->jobs[j].act, g->n_tok, g->jobs[j].out, g->jobs[j].out_stride);
        return;
    }
    for (;;) {
        const int c = atomic_fetch_add_explicit(&g->next_chunk, 1, memory_order_relaxed);
        if (c >= g->n_chunks) return;
        const matmul_job *job = &g->jobs[g->chunk_job[c]];
        const int r0 = g->chunk_r0[c];
        const int r1 = c + 1 < g->n_chunks && g->chunk_job[c + 1] == g->chunk_job[c] ? g->chunk_r0[c + 1] : job->w->rows;
        kernels_matmul(g->k, job->w->type, job->w->data, job->w->cols, r0, r1, job->act, g->n_tok, job->out,
                       job->out_stride);
    }
}

typedef struct {
    const hearth_kernels *k;
    uint32_t type;
    const float *x;
    size_t x_stride;
    uint8_t *dst;
    size_t dst_stride;
    int n, n_tok;
} quantize_job;

static void quantize_task(void *arg, int thread, int n_threads) {
    const quantize_job *q = arg;
    for (int t = thread; t < q->n_tok; t += n_threads)
        kernels_quantize_act(q->k, q->type, q->x + (size_t)t * q->x_stride, q->dst + (size_t)t * q->dst_stride, q->n);
}

/* Runs up to MAX_GROUP products that share the input x ([n_tok][cols]). */
static void matmul_multi(forward_ctx *f, const float *x, size_t x_stride, int n_tok, matmul_group *g) {
    uint32_t done_types[MAX_GROUP];
    int n_done = 0;
    g->k = f->k;
    g->n_tok = n_tok;
    for (int j = 0; j < g->n_jobs; j++) {
        uint32_t type = g->jobs[j].w->type;
        int slot = -1;
        for (int d = 0; d < n_done; d++)
            if (done_types[d] == type) slot = d;
        if (slot < 0) {
            slot = n_done++;
            done_types[slot] = type;
            quantize_job q = {f->k, type, x, x_stride, f->act_q[slot],
                              kernels_act_row_bytes(type, g->jobs[j].w->cols), g->jobs[j].w->cols, n_tok};
            if (n_tok == 1) quantize_task(&q, 0, 1);
            else f->host->parallel(f->host->ctx, quantize_task, &q);
        }
        g->jobs[j].act = f->act_q[slot];
    }
    plan_chunks(g, f->host->thread_count(f->host->ctx));
    f->host->parallel(f->host->ctx, matmul_task, g);
}

static void matmul1(forward_ctx *f, const weight *w, const float *x, int n_tok, float *out, size_t out_stride) {
    matmul_group g = {.n_jobs = 1};
    g.jobs[0] = (matmul_job){w, out, out_stride, NULL};
    matmul_multi(f, x, (size_t)w->cols, n_tok, &g);
}

/* ---- element-wise parts ---- */

static void rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    float scale = 1.0f / sqrtf((float)(sum / n) + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
}

static void rope_apply(const model_hparams *hp, float *v, const float *cs) {
    int half = hp->rope_dim / 2;
    for (int i = 0; i < half; i++) {
        float c = cs[2 * i], s = cs[2 * i + 1];
        int a = hp->rope_neox ? i : 2 * i;
        int b = hp->rope_neox ? i + half : 2 * i + 1;
        float x0 = v[a], x1 = v[b];
        /* ggml's compiled rope contracts these into FMAs; do the same. */
        v[a] = fmaf(x0, c, -(x1 * s));
        v[b] = fmaf(x0, s, x1 * c);
    }
}

/* ---- attention ----
 * The cache is f16, per kv head as [pos][head_dim] rows, and each query row
 * is computed as llama.cpp's CPU flash attention does (cpu/attention.h). */

typedef struct {
    forward_ctx *f; /* its qkv and attn rows; the caches are rows' */
    const batch_rows *rows;
    int layer, pos, n_tok;
} attention_job;

/* The cache row of position p on layer il (the first of its two in a ring). */
static int cache_row(const forward_ctx *f, int il, int p) { return f->ring[il] ? p % f->ring[il] : p; }

static void attention_task(void *arg, int thread, int n_threads) {
    const attention_job *a = arg;
    forward_ctx *f = a->f;
    const model *m = f->m;
    const model_hparams *hp = &m->hp;
    const model_layer *ly = &m->layers[a->layer];
    int hd = hp->head_dim, group = hp->n_head / hp->n_head_kv;
    /* ARCH_Q_PRESCALE: Q was scaled (eval_batch), the scores are by 1 */
    float scale = hp->flags & ARCH_Q_PRESCALE ? 1.0f : 1.0f / sqrtf((float)hd);
    const float softcap = hp->flags & ARCH_SOFTCAP ? hp->attn_softcap : 0.0f;
    uint16_t *acc = f->attn_acc + (size_t)thread * hd;
    /* a query at p sees keys [kv0, p]: kv0 > 0 on sliding-window layers */
    if (f->attn_group && softcap == 0.0f) {
        /* the query heads of a KV head together, in as many parts as keep
         * every thread busy */
        int parts = 1;
        while (parts < group && a->n_tok * hp->n_head_kv * parts < n_threads) parts *= 2;
        if (parts > group) parts = group;
        const int per = (group + parts - 1) / parts, items = a->n_tok * hp->n_head_kv * parts;
        for (int item = thread; item < items; item += n_threads) {
            const int t = item / (hp->n_head_kv * parts), kvh = item / parts % hp->n_head_kv, part = item % parts;
            const int h0 = kvh * group + part * per, n = per < group - part * per ? per : group - part * per;
            if (n <= 0) continue;
            const forward_ctx *c = row_ctx(f, a->rows, t);
            const int p = row_pos(a->rows, a->pos, t), kv0 = model_first_key(m, ly, p);
            const size_t base = ((size_t)kvh * c->kv_rows[a->layer] + (size_t)cache_row(c, a->layer, kv0)) * hd;
            f->attn_group(f->qkv + (size_t)t * f->qkv_dim + (size_t)h0 * hd, n, c->k_cache[a->layer] + base,
                          c->v_cache[a->layer] + base, p + 1 - kv0, hd, hd, scale,
                          f->attn + (size_t)t * f->q_dim + (size_t)h0 * hd);
        }
        return;
    }
    int items = a->n_tok * hp->n_head;
    for (int item = thread; item < items; item += n_threads) {
        int t = item / hp->n_head, h = item % hp->n_head, kvh = h / group;
        /* a row of several sequences takes the path its sequence's rows would take alone in one pass */
        const int seq_tok = a->rows && a->rows->ctx ? a->rows->len[t] : a->n_tok;
        const bool tiled = attention_tiled_applies(seq_tok, hd);
        const forward_ctx *c = row_ctx(f, a->rows, t);
        const int p = row_pos(a->rows, a->pos, t);
        /* ggml's chunks, one per thread (one-token steps only) */
        const int split_kv = attention_split_kv(f->n_ctx, p, seq_tok);
        const int kv0 = model_first_key(m, ly, p), n_pos = p + 1;
        /* the keys from k0 on (kv0, or the start of ggml's tile that holds
         * it) are at K: rows k0 .. n_pos - 1 of the cache or of its ring */
        const int k0 = tiled ? kv0 / ATTENTION_TILE_KV * ATTENTION_TILE_KV : kv0;
        const size_t base = ((size_t)kvh * c->kv_rows[a->layer] + (size_t)cache_row(c, a->layer, k0)) * hd;
        const uint16_t *K = c->k_cache[a->layer] + base, *V = c->v_cache[a->layer] + base;
        const float *q = f->qkv + (size_t)t * f->qkv_dim + (size_t)h * hd;
        float *out = f->attn + (size_t)t * f->q_dim + (size_t)h * hd;
        if (tiled) attention_tiled_row(q, K, V, k0, kv0, n_pos, hd, hd, scale, softcap, out, f->attn_tiles);
        else if (softcap != 0.0f) attention_row_softcap(q, K, V, 0, n_pos - kv0, hd, hd, scale, softcap, acc, out);
        /* (a window's keys are not split: llama.cpp's window cache is another size) */
        else if (split_kv && kv0 == 0)
            attention_split_row(f->attn_part, q, K, V, n_pos, split_kv, f->n_threads, hd, hd, scale, acc, out);
        else f->attn_row(q, K, V, n_pos - kv0, hd, hd, scale, acc, out);
    }
}

/* ---- one batch ---- */

typedef struct {
    forward_ctx *f;
    int n_tok;
} swiglu_job;

/* act = silu(gate) * up (or GELU's), rows of ffn being [gate | up]. */
static void swiglu_task(void *arg, int thread, int n_threads) {
    const swiglu_job *j = arg;
    int F = j->f->m->hp.n_ff;
    for (int t = thread; t < j->n_tok; t += n_threads) {
        const float *gate = j->f->ffn + (size_t)t * 2 * F, *up = gate + F;
        float *a = j->f->act + (size_t)t * F;
        if (j->f->gelu_table) geglu(j->f->gelu_table, gate, up, a, F);
        else j->f->swiglu(gate, up, a, F);
    }
}

/* ARCH_POST_NORMS: the norm of a branch's output (xb) before the residual. */
static void residual(forward_ctx *f, const float *post_norm, int n_tok) {
    const int E = f->m->hp.n_embd;
    if (post_norm)
        for (int t = 0; t < n_tok; t++)
            rmsnorm(f->xb + (size_t)t * E, f->xb + (size_t)t * E, post_norm, E, f->m->hp.rms_eps);
    for (size_t i = 0; i < (size_t)n_tok * E; i++) f->x[i] += f->xb[i];
}

static void add_bias(float *x, size_t stride, const float *b, int n, int n_tok) {
    if (!b) return;
    for (int t = 0; t < n_tok; t++)
        for (int i = 0; i < n; i++) x[(size_t)t * stride + i] += b[i];
}

/* The products of a group (model_layer's qkv or gate_up) into one output
 * row per token, each product's rows after the previous one's. */
static void group_jobs(matmul_group *g, const weight *ws, int n, float *out, size_t out_stride) {
    int row = 0;
    g->n_jobs = n;
    for (int j = 0; j < n; j++) {
        g->jobs[j] = (matmul_job){&ws[j], out + row, out_stride, NULL};
        row += ws[j].rows;
    }
}

/* One pass over the weights for n_tok rows, in f's scratch. One sequence
 * (rows NULL): the logits (when asked) are the last row's. Several: those of
 * the rows rows->out marks, [marked rows][n_vocab]. */
static void eval_batch(forward_ctx *f, const batch_rows *rows, const int32_t *tokens, int n_tok, int pos,
                       float *logits) {
    const bool independent = rows && rows->ctx;
    const model *m = f->m;
    const model_hparams *hp = &m->hp;
    int E = hp->n_embd, F = hp->n_ff;
    for (int t = 0; t < n_tok; t++) {
        float *x = f->x + (size_t)t * E;
        kernels_dequantize_row(m->tok_embd.type, (const uint8_t *)m->tok_embd.data + m->tok_embd.row_bytes * tokens[t],
                               x, E);
        if (hp->embd_scale != 1.0f)
            for (int i = 0; i < E; i++) x[i] *= hp->embd_scale;
    }
    for (int t = 0; t < (independent ? n_tok : 1); t++) {
        const int n = independent ? 1 : n_tok;
        const size_t at = (size_t)t * hp->rope_dim;
        model_rope_table(m, f->n_ctx, false, row_pos(rows, pos, t), n, f->rope_cs + at);
        if (f->rope_cs_local) model_rope_table(m, f->n_ctx, true, row_pos(rows, pos, t), n, f->rope_cs_local + at);
    }

    for (int il = 0; il < hp->n_layer; il++) {
        const model_layer *ly = &m->layers[il];
        for (int t = 0; t < n_tok; t++)
            rmsnorm(f->xb + (size_t)t * E, f->x + (size_t)t * E, ly->attn_norm, E, hp->rms_eps);

        /* [q | k | v] per token, as a fused matrix writes them */
        matmul_group g = {0};
        group_jobs(&g, ly->qkv, ly->n_qkv, f->qkv, (size_t)f->qkv_dim);
        matmul_multi(f, f->xb, (size_t)E, n_tok, &g);
        add_bias(f->qkv, (size_t)f->qkv_dim, ly->qkv_bias[0], f->q_dim, n_tok);
        add_bias(f->qkv + f->q_dim, (size_t)f->qkv_dim, ly->qkv_bias[1], f->kv_dim, n_tok);
        add_bias(f->qkv + f->q_dim + f->kv_dim, (size_t)f->qkv_dim, ly->qkv_bias[2], f->kv_dim, n_tok);

        const float *cs_table = ly->local && f->rope_cs_local ? f->rope_cs_local : f->rope_cs;
        for (int t = 0; t < n_tok; t++) {
            float *row = f->qkv + (size_t)t * f->qkv_dim;
            const float *cs = cs_table + (size_t)t * hp->rope_dim;
            /* ARCH_QK_NORM: each head of Q and K normed before RoPE */
            for (int h = 0; ly->q_norm && h < hp->n_head; h++)
                rmsnorm(row + (size_t)h * hp->head_dim, row + (size_t)h * hp->head_dim, ly->q_norm, hp->head_dim,
                        hp->rms_eps);
            for (int h = 0; ly->k_norm && h < hp->n_head_kv; h++)
                rmsnorm(row + f->q_dim + (size_t)h * hp->head_dim, row + f->q_dim + (size_t)h * hp->head_dim,
                        ly->k_norm, hp->head_dim, hp->rms_eps);
            for (int h = 0; ly->rope && h < hp->n_head; h++) rope_apply(hp, row + (size_t)h * hp->head_dim, cs);
            /* ARCH_Q_PRESCALE (phi3, gemma): llama.cpp multiplies the roped
             * Q by 1/sqrt(head_dim) in f32 (then attention scales by 1): not
             * the same bits as scaling the scores unless head_dim is a power
             * of 4 (docs/numerics.md) */
            if (hp->flags & ARCH_Q_PRESCALE)
                for (int i = 0; i < f->q_dim; i++) row[i] *= hp->q_scale;
            for (int h = 0; ly->rope && h < hp->n_head_kv; h++)
                rope_apply(hp, row + f->q_dim + (size_t)h * hp->head_dim, cs);
            forward_ctx *c = row_ctx(f, rows, t);
            int hd = hp->head_dim, r = cache_row(c, il, row_pos(rows, pos, t));
            for (int h = 0; h < hp->n_head_kv; h++) {
                const float *kr = row + f->q_dim + (size_t)h * hd, *vr = kr + f->kv_dim;
                uint16_t *kd = c->k_cache[il] + ((size_t)h * c->kv_rows[il] + r) * hd;
                uint16_t *vd = c->v_cache[il] + ((size_t)h * c->kv_rows[il] + r) * hd;
                for (int d = 0; d < hd; d++) {
                    kd[d] = ggml_fp32_to_fp16(kr[d]);
                    vd[d] = ggml_fp32_to_fp16(vr[d]);
                }
                if (c->ring[il]) {
                    memcpy(kd + (size_t)c->ring[il] * hd, kd, (size_t)hd * sizeof *kd);
                    memcpy(vd + (size_t)c->ring[il] * hd, vd, (size_t)hd * sizeof *vd);
                }
            }
        }
        attention_job aj = {f, rows, il, pos, n_tok};
        f->host->parallel(f->host->ctx, attention_task, &aj);

        /* x += Wo * attn, through xb */
        matmul1(f, &ly->wo, f->attn, n_tok, f->xb, (size_t)E);
        residual(f, ly->attn_post_norm, n_tok);

        /* After the last attention only the rows that give logits matter (as
         * llama.cpp, which then runs this FFN with one token). */
        if (il == hp->n_layer - 1) {
            if (!logits) return;
            if (n_tok > 1 && !independent) {
                memmove(f->x, f->x + (size_t)(n_tok - 1) * E, (size_t)E * sizeof *f->x);
                n_tok = 1;
            } else if (independent) { /* the marked rows, moved to the front */
                int kept = 0;
                for (int t = 0; t < n_tok; t++)
                    if (rows->out[t]) {
                        if (t != kept) memcpy(f->x + (size_t)kept * E, f->x + (size_t)t * E, (size_t)E * sizeof *f->x);
                        kept++;
                    }
                n_tok = kept;
                if (!n_tok) return;
            }
        }
        for (int t = 0; t < n_tok; t++)
            rmsnorm(f->xb + (size_t)t * E, f->x + (size_t)t * E, ly->ffn_norm, E, hp->rms_eps);
        /* ffn holds [gate | up] per token, as a fused matrix writes them. */
        g = (matmul_group){0};
        group_jobs(&g, ly->gate_up, ly->n_gate_up, f->ffn, (size_t)2 * F);
        matmul_multi(f, f->xb, (size_t)E, n_tok, &g);
        swiglu_job sj = {f, n_tok};
        if (n_tok == 1) swiglu_task(&sj, 0, 1);
        else f->host->parallel(f->host->ctx, swiglu_task, &sj);
        matmul1(f, &ly->down, f->act, n_tok, f->xb, (size_t)E);
        residual(f, ly->ffn_post_norm, n_tok);
    }

    if (logits && independent) {
        for (int t = 0; t < n_tok; t++)
            rmsnorm(f->xb + (size_t)t * E, f->x + (size_t)t * E, m->output_norm, E, hp->rms_eps);
        matmul1(f, &m->output, f->xb, n_tok, logits, (size_t)hp->n_vocab);
    } else if (logits) {
        rmsnorm(f->last, f->x + (size_t)(n_tok - 1) * E, m->output_norm, E, hp->rms_eps);
        matmul1(f, &m->output, f->last, 1, logits, (size_t)hp->n_vocab);
    }
    if (logits && hp->flags & ARCH_SOFTCAP) {
        /* ggml: scale by 1/cap, tanh, scale by cap */
        const float inv = 1.0f / hp->final_softcap;
        for (size_t i = 0; i < (size_t)(independent ? n_tok : 1) * hp->n_vocab; i++)
            logits[i] = tanhf(logits[i] * inv) * hp->final_softcap;
    }
}

hearth_status forward_check(const forward_ctx *f, const int32_t *tokens, int n, int pos, hearth_error *err) {
    if (n <= 0) return hearth_fail(err, HEARTH_E_ARG, "nothing to evaluate");
    if (pos < 0 || pos > f->n_ctx || n > f->n_ctx - pos)
        return hearth_fail(err, HEARTH_E_CONTEXT,
                           "%d tokens at position %d do not fit the context of %d tokens (use a larger --ctx)", n,
                           pos, f->n_ctx);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= f->m->hp.n_vocab)
            return hearth_fail(err, HEARTH_E_ARG, "token id %d is outside the vocabulary (0 to %d)", tokens[i],
                               f->m->hp.n_vocab - 1);
    return HEARTH_OK;
}

hearth_status forward_eval(forward_ctx *f, const int32_t *tokens, int n, int pos, float *logits,
                           hearth_error *err) {
    hearth_status st = forward_check(f, tokens, n, pos, err);
    if (st) return st;
    for (int done = 0; done < n;) {
        int chunk = n - done < f->max_batch ? n - done : f->max_batch;
        bool last = done + chunk == n;
        eval_batch(f, NULL, tokens + done, chunk, pos + done, last ? logits : NULL);
        done += chunk;
    }
    return HEARTH_OK;
}

/* forward_eval_seqs's pass of *fill rows, whose *n_out logits go to their sequences'. */
static void run_pass(forward_ctx *f, forward_ctx *const *ctx, const int32_t *tok, const int *rpos, const int *len,
                     const unsigned char *out, const int *seq_of, float *const *logits, int *fill, int *n_out) {
    const int V = f->m->hp.n_vocab;
    const batch_rows br = {ctx, rpos, len, out};
    eval_batch(f, &br, tok, *fill, 0, f->rows_logits);
    for (int r = 0; r < *n_out; r++)
        memcpy(logits[seq_of[r]], f->rows_logits + (size_t)r * V, (size_t)V * sizeof *f->rows_logits);
    *fill = *n_out = 0;
}

hearth_status forward_eval_seqs(forward_ctx *const *seqs, const int32_t *const *tokens, const int *count,
                                const int *pos, int n, float *const *logits, int *passes, hearth_error *err) {
    int ran = 0;
    if (!passes) passes = &ran;
    *passes = 0;
    if (n <= 0) return hearth_fail(err, HEARTH_E_ARG, "nothing to evaluate");
    forward_ctx *f = seqs[0];
    const int V = f->m->hp.n_vocab, B = f->max_batch;
    for (int i = 0; i < n; i++) {
        if (seqs[i]->m != f->m || seqs[i]->n_ctx != f->n_ctx)
            return hearth_fail(err, HEARTH_E_ARG, "batched rows must share one model and context size");
        for (int j = 0; j < i; j++)
            if (seqs[j] == seqs[i])
                return hearth_fail(err, HEARTH_E_ARG, "a sequence can have one row (one step) in a batch");
        hearth_status st = forward_check(seqs[i], tokens[i], count[i], pos[i], err);
        if (st) return st;
    }
    /* a pass gives at most one row of logits per sequence in it */
    const int cap = n < B ? n : B;
    if (f->rows_logits_cap < cap) {
        float *grown = realloc(f->rows_logits, (size_t)cap * V * sizeof *grown);
        if (!grown) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory for %d rows of logits", cap);
        f->rows_logits = grown;
        f->rows_logits_cap = cap;
    }
    /* a pass's rows: their contexts, tokens, positions, runs, marks, and the sequences of its logits */
    forward_ctx **ctx = malloc((size_t)B * sizeof *ctx);
    int32_t *tok = malloc((size_t)B * sizeof *tok);
    int *rpos = malloc((size_t)B * sizeof *rpos), *len = malloc((size_t)B * sizeof *len);
    int *seq_of = malloc((size_t)B * sizeof *seq_of);
    unsigned char *out = malloc((size_t)B);
    hearth_status st = ctx && tok && rpos && len && seq_of && out ? HEARTH_OK
                                                                   : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    /* A sequence is cut only where forward_eval cuts it (every max_batch
     * rows), so that each piece takes the attention path it takes alone: a
     * piece that does not fit the pass waits for the next. */
    int fill = 0, n_out = 0;
    for (int i = 0; !st && i < n; i++)
        for (int done = 0; done < count[i];) {
            const int piece = count[i] - done < B ? count[i] - done : B;
            if (fill + piece > B) run_pass(f, ctx, tok, rpos, len, out, seq_of, logits, &fill, &n_out), ++*passes;
            for (int r = 0; r < piece; r++) {
                ctx[fill + r] = seqs[i], tok[fill + r] = tokens[i][done + r], rpos[fill + r] = pos[i] + done + r;
                len[fill + r] = piece;
                out[fill + r] = done + r == count[i] - 1;
            }
            if (done + piece == count[i]) seq_of[n_out++] = i;
            fill += piece;
            done += piece;
        }
    if (!st && fill) run_pass(f, ctx, tok, rpos, len, out, seq_of, logits, &fill, &n_out), ++*passes;
    free(ctx);
    free(tok);
    free(rpos);
    free(len);
    free(seq_of);
    free(out);
    return st;
}

hearth_status forward_eval_rows(forward_ctx *const *rows, const int32_t *tokens, const int *pos, int n,
                                float *const *logits, hearth_error *err) {
    if (n <= 0) return hearth_fail(err, HEARTH_E_ARG, "nothing to evaluate");
    const int32_t **each = malloc((size_t)n * sizeof *each);
    int *ones = malloc((size_t)n * sizeof *ones);
    hearth_status st = each && ones ? HEARTH_OK : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    for (int i = 0; !st && i < n; i++) each[i] = &tokens[i], ones[i] = 1;
    if (!st) st = forward_eval_seqs(rows, each, ones, pos, n, logits, NULL, err);
    free(each);
    free(ones);
    return st;
}

static void *zalloc(size_t n, bool *ok) {
    void *p = calloc(1, n ? n : 1);
    if (!p) *ok = false;
    return p;
}

/* model.c takes the types some backend runs (ggml_types.c's table); the
 * CPU needs a product for each of its matrices. */
static hearth_status check_kernels(const model *m, const hearth_kernels *k, hearth_error *err) {
    int n = model_matrices(m, NULL, 0);
    const weight **ws = malloc((size_t)n * sizeof *ws);
    if (!ws) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    model_matrices(m, ws, n);
    hearth_status st = HEARTH_OK;
    for (int i = 0; i < n && !st; i++) {
        int slot = kernels_wtype_index(ws[i]->type);
        if (slot < 0 || !k->matmul[slot] || !k->quant[slot]) {
            char list[160];
            ggml_type_list(false, list, sizeof list);
            st = hearth_fail(err, HEARTH_E_UNSUPPORTED,
                             "tensor %s has type %s, which the CPU backend cannot run (it runs %s)",
                             ws[i]->src ? ws[i]->src->name.data : "?", ggml_type_name(ws[i]->type) ? ggml_type_name(ws[i]->type) : "?", list);
        }
    }
    free(ws);
    return st;
}

hearth_status forward_create(forward_ctx **out, const model *m, const hearth_host *host,
                             const hearth_kernels *kernels, bool allow_simd, int n_ctx, int max_batch,
                             hearth_error *err) {
    *out = NULL;
    const model_hparams *hp = &m->hp;
    if (n_ctx < 1 || max_batch < 1) return hearth_fail(err, HEARTH_E_ARG, "context and batch must be positive");
    if (hp->head_dim > 512) return hearth_fail(err, HEARTH_E_UNSUPPORTED, "head size %d is larger than 512", hp->head_dim);
    hearth_status st = check_kernels(m, kernels, err);
    if (st) return st;
    forward_ctx *f = calloc(1, sizeof *f);
    if (!f) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    f->m = m;
    f->host = host;
    f->k = kernels;
    f->n_ctx = n_ctx;
    f->max_batch = max_batch < n_ctx ? max_batch : n_ctx;
    f->n_threads = host->thread_count(host->ctx);
    f->q_dim = hp->n_head * hp->head_dim;
    f->kv_dim = hp->n_head_kv * hp->head_dim;
    f->qkv_dim = f->q_dim + 2 * f->kv_dim;
    size_t B = (size_t)f->max_batch;
    /* Every buffer below is at most this large; on 32-bit hosts (wasm32) a
     * large context must fail here rather than wrap around. */
    uint64_t widest_buffer = (uint64_t)n_ctx * (uint64_t)f->kv_dim * 2u;
    uint64_t batch_buffer = (uint64_t)B * (uint64_t)(f->qkv_dim + 2 * hp->n_ff + hp->n_embd) * 4u;
    if (widest_buffer > SIZE_MAX / 4 || batch_buffer > SIZE_MAX / 4) {
        forward_free(f);
        return hearth_fail(err, HEARTH_E_NOMEM, "a context of %d tokens is too large for this machine's address space",
                           n_ctx);
    }
    bool ok = true;
    f->k_cache = zalloc((size_t)hp->n_layer * sizeof *f->k_cache, &ok);
    f->v_cache = zalloc((size_t)hp->n_layer * sizeof *f->v_cache, &ok);
    f->kv_rows = zalloc((size_t)hp->n_layer * sizeof *f->kv_rows, &ok);
    f->ring = zalloc((size_t)hp->n_layer * sizeof *f->ring, &ok);
    for (int il = 0; ok && il < hp->n_layer; il++) {
        /* a batch's queries see back to the window before its first one,
         * from the start of ggml's tile there: a ring of that many
         * positions, where two copies are smaller than the context */
        const int ring = hp->n_swa + f->max_batch + ATTENTION_TILE_KV;
        if (m->layers[il].local && hp->n_swa > 0 && ring < n_ctx / 2) f->ring[il] = ring;
        f->kv_rows[il] = f->ring[il] ? 2 * ring : n_ctx;
        f->k_cache[il] = zalloc((size_t)f->kv_rows[il] * f->kv_dim * sizeof(uint16_t), &ok);
        f->v_cache[il] = zalloc((size_t)f->kv_rows[il] * f->kv_dim * sizeof(uint16_t), &ok);
    }
    f->x = zalloc(B * hp->n_embd * sizeof(float), &ok);
    f->xb = zalloc(B * hp->n_embd * sizeof(float), &ok);
    f->qkv = zalloc(B * f->qkv_dim * sizeof(float), &ok);
    f->attn = zalloc(B * f->q_dim * sizeof(float), &ok);
    f->ffn = zalloc(B * 2 * hp->n_ff * sizeof(float), &ok);
    f->act = zalloc(B * hp->n_ff * sizeof(float), &ok);
    f->rope_cs = zalloc(B * hp->rope_dim * sizeof(float), &ok);
    if (model_rope_local_table(m)) f->rope_cs_local = zalloc(B * hp->rope_dim * sizeof(float), &ok);
    if (hp->desc->ffn == FFN_GEGLU && (f->gelu_table = zalloc((1u << 16) * sizeof(uint16_t), &ok)))
        gelu_table_init(f->gelu_table);
    f->attn_acc = zalloc((size_t)f->n_threads * hp->head_dim * sizeof(uint16_t), &ok);
    f->attn_row = attention_row_select(allow_simd, kernels->inexact);
    f->attn_group = attention_group_select(allow_simd, kernels->inexact);
    f->attn_tiles = attention_tiled_select(allow_simd);
    f->attn_part = attention_part_select(allow_simd);
    f->swiglu = swiglu_select(allow_simd, kernels->inexact);
    f->last = zalloc((size_t)hp->n_embd * sizeof(float), &ok);
    int widest = hp->n_embd;
    if (f->q_dim > widest) widest = f->q_dim;
    if (hp->n_ff > widest) widest = hp->n_ff;
    /* a row of the widest input, quantized for any weight layout */
    size_t row = kernels_act_row_bytes_max((widest + 127) / 128 * 128);
    f->act_q_bytes = B * row + 64;
    for (int s = 0; s < MAX_GROUP; s++) f->act_q[s] = zalloc(f->act_q_bytes, &ok);
    if (!ok) {
        forward_free(f);
        return hearth_fail(err, HEARTH_E_NOMEM,
                           "out of memory for a context of %d tokens (KV cache %.1f MB); try a smaller --ctx", n_ctx,
                           (double)forward_kv_bytes(f) / 1e6);
    }
    *out = f;
    return HEARTH_OK;
}

int forward_ctx_size(const forward_ctx *f) { return f->n_ctx; }

uint64_t forward_kv_bytes(const forward_ctx *f) {
    uint64_t rows = 0;
    for (int il = 0; il < f->m->hp.n_layer; il++)
        rows += f->kv_rows ? (uint64_t)f->kv_rows[il] : (uint64_t)f->n_ctx;
    return 2ull * rows * (uint64_t)f->kv_dim * 2;
}

void forward_free(forward_ctx *f) {
    if (!f) return;
    for (int il = 0; il < f->m->hp.n_layer; il++) {
        if (f->k_cache) free(f->k_cache[il]);
        if (f->v_cache) free(f->v_cache[il]);
    }
    free(f->k_cache);
    free(f->v_cache);
    free(f->kv_rows);
    free(f->ring);
    free(f->x);
    free(f->xb);
    free(f->qkv);
    free(f->attn);
    free(f->ffn);
    free(f->act);
    free(f->rope_cs);
    free(f->rope_cs_local);
    free(f->gelu_table);
    free(f->attn_acc);
    free(f->last);
    free(f->rows_logits);
    for (int s = 0; s < MAX_GROUP; s++) free(f->act_q[s]);
    free(f);
}
