#include "attention.h"

#include <math.h>

#include "model/ggml_types.h"
#include "activation.h"
#include "kernels.h"
#include "kernels_simd128.h"
#include "fma_exact.h"

static float reduce_add(const float *v, int w);

/* ggml_vec_dot_f16 of the zen4 build: whole steps of 64 elements in 64 FMA
 * lanes (four 16-lane vectors, folded 0+2, 1+3, then 0+1, and reduced as
 * GCC's _mm512_reduce_add_ps), the rest added in double. q holds f16
 * values as floats. */
static float dot_f16(const float *q, const uint16_t *k, int n) {
    const int np = n & ~63;
    double sum = 0;
    if (np) {
        float lane[64] = {0}, x[16];
        for (int i = 0; i < np; i += 64)
            for (int l = 0; l < 64; l++) lane[l] = FMAF(q[i + l], ggml_fp16_to_fp32(k[i + l]), lane[l]);
        for (int l = 0; l < 16; l++) x[l] = (lane[l] + lane[32 + l]) + (lane[16 + l] + lane[48 + l]);
        sum = (double)reduce_add(x, 16);
    }
    for (int i = np; i < n; i++) sum += (double)(q[i] * ggml_fp16_to_fp32(k[i]));
    return (float)sum;
}

/* ggml's one-row flash attention over positions [j0, j1): the f16
 * accumulator in acc (from zero), ms = {running max, sum}. */
static void part_capped(const float *q, const uint16_t *K, const uint16_t *V, int j0, int j1, int head_dim,
                        int stride, float scale, float softcap, uint16_t *acc, float ms_out[2]) {
    float qh[512];
    for (int d = 0; d < head_dim; d++) {
        qh[d] = ggml_fp16_to_fp32(ggml_fp32_to_fp16(q[d]));
        acc[d] = 0;
    }
    float M = -INFINITY, S = 0;
    for (int j = j0; j < j1; j++) {
        const uint16_t *k = K + (size_t)j * stride, *v = V + (size_t)j * stride;
        float s = dot_f16(qh, k, head_dim) * scale;
        if (softcap != 0.0f) s = softcap * tanhf(s);
        float ms = 1.0f, vs = 1.0f;
        if (s > M) {
            float old = M;
            M = s;
            ms = expf(old - M);
            for (int d = 0; d < head_dim; d++) acc[d] = ggml_fp32_to_fp16(ggml_fp16_to_fp32(acc[d]) * ms);
        } else {
            vs = expf(s - M);
        }
        /* one FMA, as ggml_vec_mad_f16's vectors and its compiled tail */
        for (int d = 0; d < head_dim; d++)
            acc[d] = ggml_fp32_to_fp16(FMAF(ggml_fp16_to_fp32(v[d]), vs, ggml_fp16_to_fp32(acc[d])));
        S = S * ms + vs;
    }
    ms_out[0] = M;
    ms_out[1] = S;
}

static void part_scalar(const float *q, const uint16_t *K, const uint16_t *V, int j0, int j1, int head_dim, int stride,
                        float scale, uint16_t *acc, float ms_out[2]) {
    part_capped(q, K, V, j0, j1, head_dim, stride, scale, 0.0f, acc, ms_out);
}

void attention_row_softcap(const float *q, const uint16_t *K, const uint16_t *V, int kv0, int n_pos, int head_dim,
                           int stride, float scale, float softcap, uint16_t *acc, float *out) {
    float ms[2];
    /* ggml divides the scale by the cap once */
    part_capped(q, K, V, kv0, n_pos, head_dim, stride, softcap != 0.0f ? scale / softcap : scale, softcap, acc, ms);
    float inv = ms[1] == 0 ? 0 : 1.0f / ms[1];
    for (int d = 0; d < head_dim; d++) out[d] = ggml_fp16_to_fp32(acc[d]) * inv;
}

void attention_row_scalar(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int head_dim, int stride,
                          float scale, uint16_t *acc, float *out) {
    attention_row_softcap(q, K, V, 0, n_pos, head_dim, stride, scale, 0.0f, acc, out);
}

/* ---- split-KV decode (attention.h) ---- */

int attention_split_kv(int n_ctx, int pos, int n_rows) {
    if (n_rows != 1) return 0;
    /* llama.cpp pads the context to 256 cells and views the used ones
     * rounded up to 256 (at least 256) */
    const int size = (n_ctx + 255) / 256 * 256, used = (pos + 1 + 255) / 256 * 256;
    const int n_kv = used < size ? (used > 256 ? used : 256) : size;
    return n_kv >= 512 ? n_kv : 0;
}

void attention_split_row(attention_part_fn part, const float *q, const uint16_t *K, const uint16_t *V, int n_pos,
                         int n_kv, int n_chunks, int hd, int stride, float scale, uint16_t *acc, float *out) {
    const int chunk = (n_kv + n_chunks - 1) / n_chunks;
    float vkq[512], M = -INFINITY, S = 0;
    for (int d = 0; d < hd; d++) vkq[d] = 0;
    for (int c = 0; c < n_chunks; c++) {
        const int j0 = c * chunk, j1 = j0 + chunk < n_pos ? j0 + chunk : n_pos;
        if (j0 >= n_pos) break; /* only masked positions (or none) left: S = 0 */
        float ms[2];
        part(q, K, V, j0, j1, hd, stride, scale, acc, ms);
        if (ms[1] == 0.0f) continue;
        const float Mn = fmaxf(M, ms[0]), so = expf(M - Mn), sn = expf(ms[0] - Mn);
        /* a*b + c*d as GCC contracts ggml's C++: the first product fused */
        for (int d = 0; d < hd; d++) vkq[d] = FMAF(vkq[d], so, ggml_fp16_to_fp32(acc[d]) * sn);
        S = FMAF(S, so, ms[1] * sn);
        M = Mn;
    }
    const float inv = S != 0.0f ? 1.0f / S : 1.0f;
    for (int d = 0; d < hd; d++) out[d] = vkq[d] * inv;
}

attention_part_fn attention_part_select(bool allow_simd) {
#ifndef __wasm_simd128__
    if (allow_simd && (kernels_cpu_features() & KERNELS_CPU_AVX2)) {
        attention_part_fn f = attention_part_avx2();
        if (f) return f;
    }
#endif
    return part_scalar;
}

attention_group_fn attention_group_select(bool allow_simd, bool inexact) {
    return allow_simd && inexact ? attention_group_simd128_fast() : 0;
}

attention_row_fn attention_row_select(bool allow_simd, bool inexact) {
#ifdef __wasm_simd128__
    /* compiled in: the engine runs SIMD128 */
    if (allow_simd) return inexact ? attention_row_simd128_fast() : attention_row_simd128();
#endif
    if (allow_simd && (kernels_cpu_features() & KERNELS_CPU_AVX2)) {
        attention_row_fn f = attention_row_avx2();
        if (f) return f;
    }
    return attention_row_scalar;
}

/* ---- the tiled path (attention.h) ---- */

/* ggml's f32 vector width, that of the zen4 build hearth follows
 * throughout (GGML_F32_EPR with AVX-512; 8 with AVX2 only). */
#define GGML_F32_WIDTH 16

bool attention_tiled_applies(int n_rows, int head_dim) {
    return n_rows >= ATTENTION_TILED_MIN_ROWS && head_dim % GGML_F32_WIDTH == 0;
}

/* _mm512_reduce_add_ps as GCC defines it (halves, then quarters, then
 * lanes 0+2 and 1+3, then those two); 8 lanes: AVX2's hadd sequence. */
static float reduce_add(const float *v, int w) {
    float t[8];
    int h = w / 2;
    for (int i = 0; i < h; i++) t[i] = v[h + i] + v[i];
    if (w == 16)
        for (int i = 0; i < 4; i++) t[i] = t[4 + i] + t[i];
    return (t[0] + t[2]) + (t[1] + t[3]);
}

void attention_tiled_row(const float *q, const uint16_t *K, const uint16_t *V, int k0, int kv0, int n_pos, int hd,
                         int stride, float scale, float softcap, float *out, attention_tile_fns fns) {
    float acc[512], kq[ATTENTION_TILE_KV];
    for (int d = 0; d < hd; d++) acc[d] = 0;
    float M = -INFINITY, S = 0;
    if (softcap != 0.0f) scale /= softcap;
    for (int ic = kv0 / ATTENTION_TILE_KV * ATTENTION_TILE_KV; ic < n_pos; ic += ATTENTION_TILE_KV) {
        const int n = n_pos - ic < ATTENTION_TILE_KV ? n_pos - ic : ATTENTION_TILE_KV;
        fns.scores(q, K + (size_t)(ic - k0) * stride, n, hd, stride, kq);
        float tmax = -INFINITY;
        for (int j = 0; j < ATTENTION_TILE_KV; j++) {
            /* ggml: scale, then tanh and the cap, then the mask */
            float s = -INFINITY;
            if (j < n && ic + j >= kv0) {
                s = kq[j] * scale;
                if (softcap != 0.0f) s = softcap * tanhf(s);
            }
            kq[j] = s;
            tmax = kq[j] > tmax ? kq[j] : tmax;
        }
        const float Mnew = fmaxf(M, tmax);
        if (Mnew > M) {
            const float ms = expf(M - Mnew);
            for (int d = 0; d < hd; d++) acc[d] *= ms;
            S *= ms;
        }
        M = Mnew;
        fns.exp(kq, M);
        double sum = 0;
        for (int j = 0; j < ATTENTION_TILE_KV; j += GGML_F32_WIDTH) sum += (double)reduce_add(kq + j, GGML_F32_WIDTH);
        S = (float)((double)S + sum);
        fns.accum(kq, V + (size_t)(ic - k0) * stride, n, hd, stride, acc);
    }
    const float inv = S == 0 ? 0 : 1.0f / S;
    for (int d = 0; d < hd; d++) out[d] = acc[d] * inv;
}

static void tile_scores_scalar(const float *q, const uint16_t *K, int n, int hd, int stride, float *kq) {
    for (int j = 0; j < n; j++) {
        const uint16_t *k = K + (size_t)j * stride;
        float s = 0;
        for (int d = 0; d < hd; d++) s = FMAF(q[d], ggml_fp16_to_fp32(k[d]), s);
        kq[j] = s;
    }
}

static void tile_exp_scalar(float *kq, float max) {
    for (int j = 0; j < ATTENTION_TILE_KV; j++) kq[j] = ggml_poly_expf(kq[j] - max);
}

static void tile_accum_scalar(const float *p, const uint16_t *V, int n, int hd, int stride, float *acc) {
    for (int j = 0; j < n; j++) {
        const uint16_t *v = V + (size_t)j * stride;
        for (int d = 0; d < hd; d++) acc[d] = FMAF(p[j], ggml_fp16_to_fp32(v[d]), acc[d]);
    }
}

attention_tile_fns attention_tiled_select(bool allow_simd) {
    attention_tile_fns fns = {tile_scores_scalar, tile_exp_scalar, tile_accum_scalar};
#ifndef __wasm_simd128__
    if (allow_simd && (kernels_cpu_features() & KERNELS_CPU_AVX2)) attention_tile_fns_avx2(&fns);
#else
    (void)allow_simd;
#endif
    return fns;
}
