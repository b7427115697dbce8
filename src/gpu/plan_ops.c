/* One dispatch each: the kernels of the forward pass (embedding, norms,
 * products, attention, sampling) with their constants and bindings. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cpu/attention.h"
#include "model/ggml_types.h"
#include "gpu/plan_internal.h"
#include "gpu/weights.h"
#include "gpu/wgsl.h"

static void norm_consts(kb *k, const gpu_model *g) {
    kb_u(k, "E", (uint64_t)g->m->hp.n_embd);
    kb_f(k, "EPS", g->m->hp.rms_eps);
}

/* The FFN's gate, ffn_gate(x): silu, or GEGLU's gelu (gelu.wgsl) as the model's row says. */
static void kb_gate(kb *k) {
    if (k->g->m->hp.desc->ffn == FFN_GEGLU) {
        kb_file(k, "exactmath.wgsl");
        kb_file(k, "gelu.wgsl");
    } else if (k->g->opt.exact_attention) {
        /* exact mode: ggml's exp polynomial, the CPU path's SiLU bit for bit */
        kb_file(k, "exactmath.wgsl");
        kb_file(k, "silu_exact.wgsl");
    } else {
        sb_add(&k->src, "fn ffn_gate(x: f32) -> f32 { return silu(x); }\n");
    }
}

hearth_status k_embed(gpu_model *g, int list, bool decode, hearth_error *err) {
    kb k;
    kb_begin(&k, g, 256, "embed.wgsl");
    int E = g->m->hp.n_embd;
    kb_u(&k, "E", (uint64_t)E);
    kb_u(&k, "NVOCAB", (uint64_t)g->m->hp.n_vocab);
    kb_b(&k, "DECODE", decode);
    kb_f(&k, "EMBD_SCALE", g->m->hp.embd_scale);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "tokens", "array<u32>", GPU_BIND_READ, GPU_BUF_TOKENS);
    kb_bind(&k, "x", "array<vec4<f32>>", GPU_BIND_RW, g->b_x);
    kb_bind(&k, "xn", "array<vec4<f32>>", GPU_BIND_RW, g->b_xn);
    kb_bind(&k, "nw", "array<vec4<f32>>", GPU_BIND_READ, g->layers[0].attn_norm);
    gpu_weight *w = &g->tok_embd;
    hearth_status st = kb_weights(&k, &w, 1, ROWS_NONE, err);
    kb_file(&k, "embed.wgsl");
    uint32_t x, y;
    plan_grid(((uint64_t)(decode ? 1 : g->batch) * (E / 8) + 255) / 256, &x, &y);
    if (st) {
        sb_free(&k.src);
        return st;
    }
    return kb_dispatch(&k, list, x, y, err);
}

hearth_status k_matvec(gpu_model *g, int list, const mv_job *j, hearth_error *err) {
    kb k;
    bool q8;
    int wg, tpr, R;
    plan_mv_shape(g, j, &q8, &wg, &tpr, &R);
    kb_begin(&k, g, wg, j->file);
    kb_u(&k, "R", (uint64_t)R);
    kb_u(&k, "TPR", (uint64_t)tpr);
    kb_u(&k, "OUT_ROWS", (uint64_t)j->out_rows);
    kb_u(&k, "ROW_BASE", (uint64_t)j->row_base);
    kb_u(&k, "FF", (uint64_t)g->m->hp.n_ff);
    norm_consts(&k, g);
    kb_file(&k, "common.wgsl");
    bool res = strcmp(j->file, "mv_res.wgsl") == 0;
    if (res) kb_b(&k, "POST", j->out != 0);
    if (strcmp(j->file, "mv_swiglu.wgsl") == 0) kb_gate(&k);
    if (strcmp(j->file, "mv_out.wgsl") == 0) {
        /* final soft-capping: tanh(l * (1 / cap)) * cap, as ggml */
        const model_hparams *hp = &g->m->hp;
        const float cap = hp->flags & ARCH_SOFTCAP ? hp->final_softcap : 0.0f;
        kb_f(&k, "FINAL_CAP", cap);
        kb_f(&k, "FINAL_CAP_INV", cap != 0.0f ? 1.0f / cap : 0.0f);
        kb_file(&k, "exactmath.wgsl");
    }
    bool exact_in = false;
    if (j->fold.x) {
        /* the post norm before this product, folded in: the input is x' * nw, made here */
        kb_bind(&k, "x", "array<vec4<f32>>", GPU_BIND_READ, j->fold.x);
        kb_bind(&k, "xb", "array<vec4<f32>>", GPU_BIND_READ, g->b_xb);
        kb_bind(&k, "pw", "array<vec4<f32>>", GPU_BIND_READ, j->fold.pw);
        kb_bind(&k, "nw", "array<vec4<f32>>", GPU_BIND_READ, j->fold.nw);
        kb_bind(&k, "xo", "array<vec4<f32>>", GPU_BIND_RW, j->fold.out);
        kb_file(&k, "post_norm_in.wgsl");
    } else {
        /* exact mode: the input as the CPU path's rmsnorm makes it, (x * scale) * norm, the
         * scale summed as it sums it (rms_exact.wgsl), instead of xn = x * norm written before */
        exact_in = g->opt.exact_attention && !res && j->norm;
        if (!res) {
            kb_bind(&k, "x", "array<vec4<f32>>", GPU_BIND_READ, g->b_x);
            if (exact_in) {
                kb_file(&k, "exactmath.wgsl");
                kb_file(&k, "rms_exact.wgsl");
            }
            kb_file(&k, exact_in ? "norm_scale_exact.wgsl" : "norm_scale.wgsl");
        } else {
            kb_bind(&k, "x", "array<f32>", GPU_BIND_RW, j->out ? j->out : g->b_x);
            kb_bind(&k, "xn", "array<f32>", GPU_BIND_RW, g->b_xn);
            kb_bind(&k, "nw", "array<f32>", GPU_BIND_READ, j->aux);
        }
        if (exact_in) {
            kb_bind(&k, "nrm", "array<vec4<f32>>", GPU_BIND_READ, j->norm);
            sb_add(&k.src, "fn xin_at(i: u32) -> vec4<f32> { return x[i]; }\n"
                           "fn xin_scaled(i: u32, xs: f32) -> vec4<f32> { return xin_at(i) * xs * nrm[i]; }\n");
        } else {
            kb_bind(&k, "xin", "array<vec4<f32>>", GPU_BIND_READ, j->xin);
            sb_add(&k.src, "fn xin_at(i: u32) -> vec4<f32> { return xin[i]; }\n");
        }
    }
    /* the product's input xin_at(i) times the norm's scale xs (or 1) */
    if (!exact_in)
        sb_add(&k.src, "fn xin_scaled(i: u32, xs: f32) -> vec4<f32> { return xin_at(i) * xs; }\n");
    if (strcmp(j->file, "mv_qkv.wgsl") == 0) {
        kb_bind(&k, "bias", "array<f32>", GPU_BIND_READ, j->aux);
        kb_bind(&k, "outv", "array<f32>", GPU_BIND_RW, j->out);
    } else if (strcmp(j->file, "mv_swiglu.wgsl") == 0) {
        kb_bind(&k, "act", "array<f32>", GPU_BIND_RW, j->out);
    }
    if (j->q8_out) {
        kb_bind(&k, "xq", "array<u32>", GPU_BIND_RW, g->b_xq);
        kb_bind(&k, "xd", "array<vec2<f32>>", GPU_BIND_RW, g->b_xd);
        kb_u(&k, "RPW", (uint64_t)(wg / tpr) * R);
        kb_file(&k, "q8_store.wgsl");
        kb_file(&k, "q8_out.wgsl");
    } else if (strcmp(j->file, "mv_swiglu.wgsl") == 0) {
        sb_add(&k.src, "fn q8_out(tid: u32, lane: u32, first: u32, v: array<f32, R>) {}\n");
    }
    if (j->q8_in) {
        kb_bind(&k, "xqin", "array<vec4<u32>>", GPU_BIND_READ, g->b_xq);
        kb_bind(&k, "xdin", "array<vec2<f32>>", GPU_BIND_READ, g->b_xd);
    } else if (strcmp(j->file, "mv_out.wgsl") == 0) {
        kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
        kb_bind(&k, "logits", "array<f32>", GPU_BIND_RW, GPU_BUF_LOGITS);
    }
    hearth_status st = kb_weights(&k, j->ws, j->n_ws, j->q8_in ? ROWS_Q8_IN : q8 ? ROWS_Q8 : ROWS_FLOAT, err);
    kb_file(&k, j->file);
    if (st) {
        sb_free(&k.src);
        return st;
    }
    uint32_t x, y;
    uint64_t per_wg = (uint64_t)(wg / tpr) * R;
    plan_grid(((uint64_t)j->out_rows + per_wg - 1) / per_wg, &x, &y);
    return kb_dispatch(&k, list, x, y, err);
}

static void attn_consts(kb *k, const gpu_model *g, int il) {
    const model_hparams *hp = &g->m->hp;
    const model_layer *ly = &g->m->layers[il];
    kb_u(k, "HD", (uint64_t)hp->head_dim);
    kb_u(k, "NH", (uint64_t)hp->n_head);
    kb_u(k, "GROUP", (uint64_t)(hp->n_head / hp->n_head_kv));
    kb_u(k, "QD", (uint64_t)g->q_dim);
    kb_u(k, "KVD", (uint64_t)g->kv_dim);
    kb_u(k, "QKVD", (uint64_t)g->qkv_dim);
    kb_u(k, "NCTX", (uint64_t)g->n_ctx);
    kb_u(k, "ROPE_DIM", (uint64_t)hp->rope_dim);
    kb_b(k, "NEOX", hp->rope_neox);
    kb_f(k, "SCALE", 1.0f / sqrtf((float)hp->head_dim));
    /* exact attention (attend.wgsl): Q scaled before the scores where the model's row says (ARCH_Q_PRESCALE) */
    const bool pre = hp->flags & ARCH_Q_PRESCALE;
    kb_f(k, "QSCALE", pre ? 1.0f / sqrtf((float)hp->head_dim) : 1.0f);
    /* soft-capped scores: cap * tanh(s * scale / cap), the scale divided once, as ggml */
    const float softcap = hp->flags & ARCH_SOFTCAP ? hp->attn_softcap : 0.0f, kq = pre ? 1.0f : 1.0f / sqrtf((float)hp->head_dim);
    kb_f(k, "KQSCALE", softcap != 0.0f ? kq / softcap : kq);
    kb_f(k, "SOFTCAP", softcap);
    /* the layer's recipe: the window of a sliding-window layer (first_key in
     * rope.wgsl), QK norms, RoPE or none */
    kb_u(k, "SWA", (uint64_t)(ly->local ? hp->n_swa : 0));
    kb_b(k, "Q_NORM", ly->q_norm != NULL);
    kb_b(k, "K_NORM", ly->k_norm != NULL);
    kb_b(k, "ROPE", ly->rope);
    kb_f(k, "EPS", hp->rms_eps);
    kb_b(k, "EXACT", g->opt.exact_attention);
    kb_u(k, "SPLIT", (uint64_t)g->split);
    kb_u(k, "XSPLIT", (uint64_t)(g->opt.exact_attention ? g->opt.exact_split : 0));
    /* the fast decode attention's scores: QT threads a position, their sums joined by subgroup shuffles,
     * for heads of 128 dims and more (on the H100 a 256-dim head's attention took 10% less; a 96-dim one's
     * a little more, its 48-step chain being short already) */
    if (g->lim.subgroups && !g->opt.no_subgroups && hp->head_dim >= 128)
        sb_add(&k->src, "const QT: u32 = 4u;\n"
                        "fn qt_sum(d: f32) -> f32 { let a = d + subgroupShuffleXor(d, 1u); return a + subgroupShuffleXor(a, 2u); }\n");
    else
        sb_add(&k->src, "const QT: u32 = 1u;\nfn qt_sum(d: f32) -> f32 { return d; }\n");
    /* exact prefill: the batches (chunks of at most g->batch rows) the CPU
     * runs through ggml's tiled attention have at least TILED_ROWS rows (0:
     * none) */
    int tiled_rows = 0;
    for (int n = g->batch; g->opt.exact_attention && n >= 1 && attention_tiled_applies(n, hp->head_dim); n--)
        tiled_rows = n;
    kb_u(k, "TILED_ROWS", (uint64_t)tiled_rows);
    kb_u(k, "TKV", ATTENTION_TILE_KV);
}

/* Attention (decode: one head a workgroup; prefill: a (token, head) a
 * workgroup) or, for prefill, RoPE and the cache stores before it. */
hearth_status k_attention(gpu_model *g, int list, const char *file, int il, hearth_error *err) {
    const model_hparams *hp = &g->m->hp;
    bool rope_kv = strcmp(file, "rope_kv.wgsl") == 0, one = strcmp(file, "attn_one.wgsl") == 0;
    int wg = one ? 256 : ATTN_WG;
    kb k;
    kb_begin(&k, g, wg, file);
    attn_consts(&k, g, il);
    kb_u(&k, "DPT", (uint64_t)(hp->head_dim + wg - 1) / wg);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "src", "array<f32>", rope_kv ? GPU_BIND_RW : GPU_BIND_READ, g->b_qkv);
    kb_bind(&k, "kc", "array<u32>", GPU_BIND_RW, g->layers[il].k);
    kb_bind(&k, "vc", "array<u32>", GPU_BIND_RW, g->layers[il].v);
    const gpu_layer *ly = &g->layers[il];
    kb_bind(&k, "rope", "array<f32>", GPU_BIND_READ, ly->rope);
    if (ly->q_norm) kb_bind(&k, "qnw", "array<f32>", GPU_BIND_READ, ly->q_norm);
    if (ly->k_norm) kb_bind(&k, "knw", "array<f32>", GPU_BIND_READ, ly->k_norm);
    sb_printf(&k.src, "fn qk_norm_w(d: u32, is_k: bool) -> f32 { return select(%s, %s, is_k); }\n",
              ly->q_norm ? "qnw[d]" : "1.0", ly->k_norm ? "knw[d]" : "1.0");
    bool split = strcmp(file, "attn_split.wgsl") == 0;
    if (!rope_kv) kb_bind(&k, "outv", "array<f32>", GPU_BIND_RW, split ? g->b_part : g->b_attn);
    kb_file(&k, "exactmath.wgsl");
    kb_file(&k, "rms_exact.wgsl"); /* exact mode's QK norms (rope.wgsl) */
    kb_file(&k, "rope.wgsl");
    if (!rope_kv && strcmp(file, "attn_tile.wgsl")) kb_file(&k, g->opt.exact_attention ? "attend.wgsl" : "attend_fast.wgsl");
    /* attn_prefill.wgsl's tiled branch is exact attention's (TILED_ROWS is 0 otherwise) */
    if (!g->opt.exact_attention && strcmp(file, "attn_prefill.wgsl") == 0)
        sb_add(&k.src, "fn attend_tiled(kvh: u32, kv0: u32, n_pos: u32, tid: u32) -> array<f32, DPT> { return array<f32, DPT>(); }\n");
    if (split || one || strcmp(file, "attn_decode.wgsl") == 0) kb_file(&k, "decode_head.wgsl");
    kb_file(&k, file);
    if (split) return kb_dispatch(&k, list, (uint32_t)hp->n_head, (uint32_t)g->split, err);
    if (one || strcmp(file, "attn_decode.wgsl") == 0) return kb_dispatch(&k, list, (uint32_t)hp->n_head, 1, err);
    if (strcmp(file, "attn_tile.wgsl") == 0) {
        uint64_t rows = (uint64_t)g->batch * (hp->n_head / hp->n_head_kv);
        return kb_dispatch(&k, list, (uint32_t)hp->n_head_kv, (uint32_t)((rows + 31) / 32), err);
    }
    uint32_t heads = (uint32_t)(rope_kv ? hp->n_head + hp->n_head_kv : hp->n_head);
    return kb_dispatch(&k, list, heads, (uint32_t)g->batch, err);
}

/* Joins the split decode attention's shares (attn_combine.wgsl). */
hearth_status k_combine(gpu_model *g, int list, hearth_error *err) {
    kb k;
    kb_begin(&k, g, ATTN_WG, "attn_combine.wgsl");
    kb_u(&k, "HD", (uint64_t)g->m->hp.head_dim);
    kb_u(&k, "SPLIT", (uint64_t)g->split);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "part", "array<f32>", GPU_BIND_READ, g->b_part);
    kb_bind(&k, "outv", "array<f32>", GPU_BIND_RW, g->b_attn);
    kb_file(&k, "attn_combine.wgsl");
    return kb_dispatch(&k, list, (uint32_t)g->m->hp.n_head, 1, err);
}

/* Prefill RMSNorm into b_xb, or (act 3 or 4: for an integer product whose
 * weights take input rounded so, gpu_type_act) straight to its Q8 input in
 * b_xq / b_xd. */
hearth_status k_rmsnorm(gpu_model *g, int list, uint32_t nw, int act, hearth_error *err) {
    kb k;
    bool q8 = act >= 3;
    const char *file = q8 ? "rmsnorm_q8.wgsl" : "rmsnorm.wgsl";
    kb_begin(&k, g, 256, file);
    norm_consts(&k, g);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "x", "array<f32>", GPU_BIND_READ, g->b_x);
    if (g->opt.exact_attention) { /* the scale as the CPU path's rmsnorm sums it */
        kb_file(&k, "exactmath.wgsl");
        kb_file(&k, "rms_exact.wgsl");
    }
    kb_file(&k, g->opt.exact_attention ? "rms_scale_exact.wgsl" : "rms_scale.wgsl");
    if (q8) {
        kb_u(&k, "BPR", (uint64_t)g->m->hp.n_embd / GPU_Q8_BLOCK);
        kb_act(&k, act);
        kb_bind(&k, "xq", "array<u32>", GPU_BIND_RW, g->b_xq);
        kb_bind(&k, "xd", "array<vec2<f32>>", GPU_BIND_RW, g->b_xd);
        kb_file(&k, "q8_store.wgsl");
    } else {
        kb_bind(&k, "xb", "array<f32>", GPU_BIND_RW, g->b_xb);
    }
    kb_bind(&k, "nw", "array<f32>", GPU_BIND_READ, nw);
    kb_file(&k, file);
    return kb_dispatch(&k, list, (uint32_t)g->batch, 1, err);
}

/* Prefill: the input of a quantized product (cols floats a token) to Q8
 * blocks in b_xq / b_xd, for mmq.wgsl. */
static hearth_status k_quant(gpu_model *g, int list, uint32_t xin, int cols, int act, hearth_error *err) {
    kb k;
    kb_begin(&k, g, 256, "q8_act.wgsl");
    kb_u(&k, "BPR", (uint64_t)cols / GPU_Q8_BLOCK);
    kb_file(&k, "common.wgsl");
    kb_act(&k, act);
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "xin", "array<vec4<f32>>", GPU_BIND_READ, xin);
    kb_bind(&k, "xq", "array<u32>", GPU_BIND_RW, g->b_xq);
    kb_bind(&k, "xd", "array<vec2<f32>>", GPU_BIND_RW, g->b_xd);
    kb_file(&k, "q8_store.wgsl");
    kb_file(&k, "q8_act.wgsl");
    uint32_t x, y;
    /* a thread a block, or (Q8_K) a super-block of 8 */
    uint64_t items = (uint64_t)g->batch * (cols / GPU_Q8_BLOCK) / (act == 4 ? GPU_Q8K_BLOCKS : 1);
    plan_grid((items + 255) / 256, &x, &y);
    return kb_dispatch(&k, list, x, y, err);
}

/* Prefill product of quantized weights in integers (mmq.wgsl), on the
 * input quantized by k_quant. */
static hearth_status k_matmul_q(gpu_model *g, int list, gpu_weight *const *ws, int n_ws, int mode, uint32_t xin,
                                uint32_t out, int out_rows, int outs, int row_base, uint32_t bias, hearth_error *err) {
    const int act = gpu_type_act(ws[0]->type);
    hearth_status st = xin == g->b_xq ? HEARTH_OK : k_quant(g, list, xin, ws[0]->cols, act, err);
    if (st) return st;
    kb k;
    const bool exact = plan_exact_product(g, ws[0]->type);
    kb_begin(&k, g, 256, "mmq.wgsl"); /* (the exact variant too: one label a job) */
    /* 8 rows a thread (128-row tiles), or 4 (64) where 128 would give
     * fewer than 600 workgroups: about 4.5 per SM of an H100, whose last
     * wave of workgroups is then full enough (Phi-3's QKV product, 576
     * 128-row tiles, is 8-9% faster with 4 rows there). Up to 4 blocks a
     * stage with 4 rows a thread, 2 with 8 (fewer registers holding the
     * next stage: Phi-3's gate/up product 6-7% faster on the H100), each
     * dividing the row and 30 KB of workgroup memory at most; WI / XI
     * weight / input loads a thread a stage. */
    int bpr = ws[0]->cols / GPU_Q8_BLOCK;
    /* 8 tokens a thread for Q8_0 weights (their loads amortized over more
     * tokens: faster on the H100), 4 for the others (8 was slower there) */
    int tn = g->opt.mmq_tn == 8 || g->opt.mmq_tn == 4 ? g->opt.mmq_tn : ws[0]->type == GGML_TYPE_Q8_0 ? 8 : 4, bn = 16 * tn;
    uint64_t tiles = (uint64_t)(out_rows + (mode == 2 ? 63 : 127)) / (mode == 2 ? 64 : 128) * ((g->batch + bn - 1) / bn);
    int tm = tiles < 600 ? 4 : 8, bm = 16 * tm, nb = tm == 8 ? 2 : 4;
    /* workgroup memory a block of a stage: quants, d and m a row or token;
     * with Q8_K input (K-quants) d of the second half and the halves' m
     * and sums too (at most: mmq.wgsl sizes them by the type) */
    int row_b = act == 4 ? 48 : 40, tok_b = act == 4 ? 44 : 40;
    while (nb > 1 && (bpr % nb || nb * (bm * row_b + bn * tok_b) > 30720)) nb /= 2;
    kb_u(&k, "MODE", (uint64_t)mode);
    kb_u(&k, "TM", (uint64_t)tm);
    kb_u(&k, "TN", (uint64_t)tn);
    kb_u(&k, "NB", (uint64_t)nb);
    kb_u(&k, "WI", (uint64_t)(nb * bm + 255) / 256);
    kb_u(&k, "XI", (uint64_t)(nb * 2 * bn + 255) / 256);
    kb_u(&k, "XDI", (uint64_t)(nb * bn + 255) / 256);
    kb_u(&k, "OUT_ROWS", (uint64_t)out_rows);
    kb_u(&k, "OUTS", (uint64_t)outs);
    kb_u(&k, "ROW_BASE", (uint64_t)row_base);
    kb_u(&k, "FF", (uint64_t)g->m->hp.n_ff);
    kb_dot4(&k);
    kb_file(&k, "common.wgsl");
    kb_gate(&k);
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "xq", "array<vec4<u32>>", GPU_BIND_READ, g->b_xq);
    kb_bind(&k, "xd", "array<vec2<f32>>", GPU_BIND_READ, g->b_xd);
    kb_bind(&k, "outv", "array<f32>", GPU_BIND_RW, out);
    kb_bind(&k, "bias", "array<f32>", GPU_BIND_READ, bias);
    st = kb_weights(&k, ws, n_ws, ROWS_NONE, err);
    if (exact) kb_dot_exact(&k, ws[0]->type);
    kb_file(&k, exact ? "mmq_exact.wgsl" : "mmq.wgsl");
    if (st) {
        sb_free(&k.src);
        return st;
    }
    uint32_t tile = (uint32_t)(mode == 2 ? 8 * tm : 16 * tm);
    return kb_dispatch(&k, list, (uint32_t)(out_rows + tile - 1) / tile, (uint32_t)(g->batch + bn - 1) / bn, err);
}

/* Prefill product: mode 0 out = acc + bias, 1 out += acc, 2 SwiGLU. */
hearth_status k_matmul(gpu_model *g, int list, gpu_weight *const *ws, int n_ws, int mode, uint32_t xin,
                              uint32_t out, int out_rows, uint32_t bias, hearth_error *err) {
    return k_matmul_at(g, list, ws, n_ws, mode, xin, out, out_rows, out_rows, 0, bias, err);
}

/* The same into rows row_base.. of outputs outs wide (mode 0: the part of a
 * QKV group in one type). */
hearth_status k_matmul_at(gpu_model *g, int list, gpu_weight *const *ws, int n_ws, int mode, uint32_t xin, uint32_t out,
                          int out_rows, int outs, int row_base, uint32_t bias, hearth_error *err) {
    if (plan_integer_product(g, ws[0]))
        return k_matmul_q(g, list, ws, n_ws, mode, xin, out, out_rows, outs, row_base, bias, err);
    kb k;
    kb_begin(&k, g, 256, "mm.wgsl");
    kb_u(&k, "MODE", (uint64_t)mode);
    kb_u(&k, "OUT_ROWS", (uint64_t)out_rows);
    kb_u(&k, "OUTS", (uint64_t)outs);
    kb_u(&k, "ROW_BASE", (uint64_t)row_base);
    kb_u(&k, "FF", (uint64_t)g->m->hp.n_ff);
    kb_file(&k, "common.wgsl");
    kb_gate(&k);
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "xin", "array<vec4<f32>>", GPU_BIND_READ, xin);
    kb_bind(&k, "outv", "array<f32>", GPU_BIND_RW, out);
    kb_bind(&k, "bias", "array<f32>", GPU_BIND_READ, bias);
    hearth_status st = kb_weights(&k, ws, n_ws, ROWS_NONE, err);
    kb_file(&k, "mm.wgsl");
    if (st) {
        sb_free(&k.src);
        return st;
    }
    return kb_dispatch(&k, list, (uint32_t)(out_rows + 63) / 64, (uint32_t)(g->batch + 63) / 64, err);
}

/* A branch's output (b_xb) normed by its own weights pw and added to the
 * residual (post_norm.wgsl); decode also writes xn = x * nw (prefill binds
 * pw there, unused). */
hearth_status k_post_norm(gpu_model *g, int list, bool decode, uint32_t pw, uint32_t nw, hearth_error *err) {
    kb k;
    kb_begin(&k, g, 256, "post_norm.wgsl");
    norm_consts(&k, g);
    kb_b(&k, "DECODE", decode);
    kb_b(&k, "EXACT", g->opt.exact_attention);
    kb_file(&k, "common.wgsl");
    kb_file(&k, "exactmath.wgsl");
    kb_file(&k, "rms_exact.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "x", "array<f32>", GPU_BIND_RW, g->b_x);
    kb_bind(&k, "xb", "array<f32>", GPU_BIND_READ, g->b_xb);
    kb_bind(&k, "pw", "array<f32>", GPU_BIND_READ, pw);
    kb_bind(&k, "xn", "array<f32>", GPU_BIND_RW, g->b_xn);
    kb_bind(&k, "nw", "array<f32>", GPU_BIND_READ, nw);
    kb_file(&k, "post_norm.wgsl");
    return kb_dispatch(&k, list, decode ? 1 : (uint32_t)g->batch, 1, err);
}

hearth_status k_simple(gpu_model *g, int list, const char *file, uint32_t x, hearth_error *err) {
    kb k;
    int per_b = (g->n_chunks * CAND_STRIDE + 255) / 256;
    kb_begin(&k, g, 256, file);
    norm_consts(&k, g);
    kb_u(&k, "NVOCAB", (uint64_t)g->m->hp.n_vocab);
    kb_u(&k, "PER_T", SAMPLE_PER_T);
    kb_u(&k, "PER_B", (uint64_t)per_b);
    kb_u(&k, "NCHUNK", (uint64_t)g->n_chunks);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "cands", "array<vec2<u32>>", GPU_BIND_RW, g->b_cands);
    if (strcmp(file, "sample_a.wgsl") == 0) {
        kb_bind(&k, "logits", "array<f32>", GPU_BIND_READ, GPU_BUF_LOGITS);
        kb_bind(&k, "mask", "array<u32>", GPU_BIND_READ, g->b_mask);
    } else kb_bind(&k, "result", "array<u32>", GPU_BIND_RW, GPU_BUF_RESULT);
    kb_file(&k, "argmax.wgsl");
    kb_file(&k, file);
    return kb_dispatch(&k, list, x, 1, err);
}

/* After the last layer's attention in the last prefill chunk: the last
 * row's residual to row 0 and xn = x * nw (head_prep.wgsl), where the decode
 * kernels read them. */
hearth_status k_last_row(gpu_model *g, int list, uint32_t nw, hearth_error *err) {
    kb k;
    kb_begin(&k, g, 256, "head_prep.wgsl");
    norm_consts(&k, g);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "x", "array<f32>", GPU_BIND_RW, g->b_x);
    kb_bind(&k, "xn", "array<f32>", GPU_BIND_RW, g->b_xn);
    kb_bind(&k, "nw", "array<f32>", GPU_BIND_READ, nw);
    kb_file(&k, "head_prep.wgsl");
    return kb_dispatch(&k, list, 1, 1, err);
}
