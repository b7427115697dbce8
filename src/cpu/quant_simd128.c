/* WebAssembly SIMD128 kernels for quantized weights (Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0) and the Q8_0/Q8_1 activation quantization. Compiled only for wasm
 * with -msimd128 (make wasm); elsewhere kernels_simd128_fill is a stub that
 * returns false. Results are bit-identical with quant_scalar.c (see
 * simd128_exact.h for how the FMAs of ggml's order are reproduced).
 *
 * Weight codes are widened to i16 (Q4/Q5 nibbles unsigned, their offsets
 * corrected exactly from the activation row's aux entries; Q8_0 signed) and
 * multiplied with i32x4.dot_i16x8_s, which gives sums of element pairs; the
 * pairs are folded into the 4-element groups of ggml's 8 float lanes (or,
 * for Q4_0, into block sums of 4 rows, one row per lane).
 * Decode (one token) reads the weights as one sequential stream: row by row
 * (8-lane types) or 4 rows one after the other (Q4_0, group_q4_0_seq).
 * Several tokens: groups of 4 rows, each weight block decoded once for up to
 * TOK_CHUNK tokens (group). */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_simd128__
#include "model/ggml_types.h"
#include "simd128_exact.h"

enum { TY_Q4_0, TY_Q4_1, TY_Q5_0, TY_Q5_1, TY_Q8_0 };

#define ROWS 4     /* weight rows per group */
#define NACC 17    /* accumulators per token: 4 rows x 4 f64x2 lanes, + summs */
#define TOK_CHUNK 32 /* tokens per pass over a group's weights */

AI size_t ty_bsize(int ty) {
    switch (ty) {
    case TY_Q4_0: return sizeof(block_q4_0);
    case TY_Q4_1: return sizeof(block_q4_1);
    case TY_Q5_0: return sizeof(block_q5_0);
    case TY_Q5_1: return sizeof(block_q5_1);
    default: return sizeof(block_q8_0);
    }
}
AI bool ty_q81(int ty) {
    return ty == TY_Q4_1 || ty == TY_Q5_1;
}
/* Q4_0 accumulates block sums (ggml's repacked kernel); the others 8 lanes. */
AI bool ty_lanes(int ty) {
    return ty != TY_Q4_0;
}

/* ---------------- activation quantization ---------------- */

/* One block as quant_scalar.c's quant_block_8 (ggml's x86 rounding): the
 * product x * (127/amax) rounded to f32, then to nearest even. */
float kernels_simd128_quant_block(const float *x, int8_t *qs, int *sum) {
    v128_t v[8];
    v128_t amax = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < 8; i++) {
        v[i] = wasm_v128_load(x + 4 * i);
        /* pmax keeps amax when the element is NaN, as the scalar compare does */
        amax = wasm_f32x4_pmax(amax, wasm_f32x4_abs(v[i]));
    }
    amax = wasm_f32x4_pmax(amax, wasm_i32x4_shuffle(amax, amax, 2, 3, 0, 1));
    amax = wasm_f32x4_pmax(amax, wasm_i32x4_shuffle(amax, amax, 1, 0, 3, 2));
    const float m = wasm_f32x4_extract_lane(amax, 0);
    const float d = m / 127.f;
    const v128_t id = wasm_f32x4_splat(m != 0.0f ? 127.f / m : 0.0f);
    v128_t q[8], s = wasm_i32x4_splat(0);
    for (int i = 0; i < 8; i++) {
        q[i] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(v[i], id)));
        s = wasm_i32x4_add(s, q[i]);
    }
    s = wasm_i32x4_add(s, wasm_i32x4_shuffle(s, s, 2, 3, 0, 1));
    s = wasm_i32x4_add(s, wasm_i32x4_shuffle(s, s, 1, 0, 3, 2));
    *sum = wasm_i32x4_extract_lane(s, 0);
    const v128_t a = wasm_i16x8_narrow_i32x4(q[0], q[1]), b = wasm_i16x8_narrow_i32x4(q[2], q[3]);
    const v128_t c = wasm_i16x8_narrow_i32x4(q[4], q[5]), e = wasm_i16x8_narrow_i32x4(q[6], q[7]);
    wasm_v128_store(qs, wasm_i8x16_narrow_i16x8(a, b));
    wasm_v128_store(qs + 16, wasm_i8x16_narrow_i16x8(c, e));
    return d;
}

/* Activation rows: Q8_0 with the group biases of the weight type (0: none,
 * for Q4_0; -16: Q5_0; -128: Q8_0), and Q8_1. */
#define QUANT_Q8_0_ENTRY(name, gmul) \
    static void name(const float *x, void *dst, int n) { kernels_fill_q8_0_row(x, dst, n, gmul, kernels_simd128_quant_block); }
QUANT_Q8_0_ENTRY(quant_q8_0, 0)
QUANT_Q8_0_ENTRY(quant_q8_0_g16, -16)
QUANT_Q8_0_ENTRY(quant_q8_0_g128, -128)
static void quant_q8_1(const float *x, void *dst, int n) {
    kernels_fill_q8_1_row(x, dst, n, kernels_simd128_quant_block);
}

/* ---------------- integer block dot products ---------------- */

/* One weight block's 32 codes as i16: w[k] = elements 8k..8k+7. Q4/Q5
 * codes stay unsigned (0..15, 0..31), Q8_0 codes signed. */
AI void decode_block(const int ty, const uint8_t *blk, v128_t *w) {
    if (ty == TY_Q8_0) {
        widen_i8x32(blk + 2, w);
        return;
    }
    /* byte j holds element j (low nibble) and element j + 16 (high nibble):
     * widened to i16 first, so the nibble split is a 16-bit and/shift */
    const size_t qs = ty == TY_Q4_0 ? 2 : ty == TY_Q4_1 ? 4 : ty == TY_Q5_0 ? 6 : 8;
    const v128_t q = wasm_v128_load(blk + qs);
    const v128_t lo = wasm_u16x8_extend_low_u8x16(q), hi = wasm_u16x8_extend_high_u8x16(q);
    const v128_t m4 = wasm_i16x8_const_splat(0x0f);
    w[0] = wasm_v128_and(lo, m4);
    w[1] = wasm_v128_and(hi, m4);
    w[2] = wasm_u16x8_shr(lo, 4);
    w[3] = wasm_u16x8_shr(hi, 4);
    if (ty == TY_Q5_0 || ty == TY_Q5_1) {
        /* bit j of qh is the fifth bit (0x10) of element j */
        uint32_t qh;
        memcpy(&qh, blk + (ty == TY_Q5_0 ? 2 : 4), 4);
        const v128_t hl = wasm_i16x8_splat((int16_t)(qh & 0xffffu)), hh = wasm_i16x8_splat((int16_t)(qh >> 16));
        const v128_t b0 = wasm_i16x8_const(1, 2, 4, 8, 16, 32, 64, 128);
        const v128_t b1 = wasm_i16x8_const(256, 512, 1024, 2048, 4096, 8192, 16384, -32768);
        or_fifth_bits(w, (const v128_t[4]){hl, hl, hh, hh}, (const v128_t[4]){b0, b1, b0, b1});
    }
}

/* Sums of adjacent lanes of a and b: {a0+a1, a2+a3, b0+b1, b2+b3}. */
AI v128_t pair_sums(v128_t a, v128_t b) {
    return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
}

/* Four fp16 fields at byte off of the 4 rows' current blocks, as f32. */
AI v128_t gather_half4(const uint8_t *const *p, size_t off) {
    v128_t h = wasm_i32x4_splat(0);
    h = wasm_v128_load16_lane(p[0] + off, h, 0);
    h = wasm_v128_load16_lane(p[1] + off, h, 2);
    h = wasm_v128_load16_lane(p[2] + off, h, 4);
    h = wasm_v128_load16_lane(p[3] + off, h, 6);
    return half4_to_f32(h);
}

/* Lane r of v in every lane (r a constant once the row loop is unrolled). */
AI v128_t lane_splat(v128_t v, int r) {
    switch (r) {
    case 0: return wasm_i32x4_shuffle(v, v, 0, 0, 0, 0);
    case 1: return wasm_i32x4_shuffle(v, v, 1, 1, 1, 1);
    case 2: return wasm_i32x4_shuffle(v, v, 2, 2, 2, 2);
    default: return wasm_i32x4_shuffle(v, v, 3, 3, 3, 3);
    }
}

/* An 8-lane block step for one row: group sums (lane m of lo / hi =
 * elements 4m..4m+3 / 16+4m..) plus the group biases gl, gh, then
 * l[0..3] (lanes 0-1 ... 6-7) take ggml's fma(dw * da, sum, lane); dd: the
 * scale dw * da in every lane. */
AI void lanes_step(const v128_t *w, const v128_t *y, v128_t gl, v128_t gh, v128_t dd, v128_t *l) {
    const v128_t lo = wasm_i32x4_add(pair_sums(wasm_i32x4_dot_i16x8(w[0], y[0]), wasm_i32x4_dot_i16x8(w[1], y[1])), gl);
    const v128_t hi = wasm_i32x4_add(pair_sums(wasm_i32x4_dot_i16x8(w[2], y[2]), wasm_i32x4_dot_i16x8(w[3], y[3])), gh);
    const v128_t ddr = wasm_f64x2_promote_low_f32x4(dd);
    const v128_t d[4] = {ddr, ddr, ddr, ddr};
    const v128_t f[4] = {wasm_f64x2_convert_low_i32x4(lo), wasm_f64x2_convert_low_i32x4(high_pair(lo)),
                         wasm_f64x2_convert_low_i32x4(hi), wasm_f64x2_convert_low_i32x4(high_pair(hi))};
    fma64(4, l, d, f);
}

/* Q4_0's block step for 4 rows: s[r] holds row r's partial sums; the
 * transpose-add makes lane r row r's block sum, the aux entry (-8 * sum of
 * y) corrects the nibbles' offset 8, and acc[0..1] (rows 0-1, 2-3) take
 * ggml's fma(sum, dw * da, acc). */
AI void q4_0_step(const v128_t *s, const uint8_t *aux, v128_t dd, v128_t *acc) {
    const v128_t t01 = wasm_i32x4_add(wasm_i32x4_shuffle(s[0], s[1], 0, 4, 1, 5), wasm_i32x4_shuffle(s[0], s[1], 2, 6, 3, 7));
    const v128_t t23 = wasm_i32x4_add(wasm_i32x4_shuffle(s[2], s[3], 0, 4, 1, 5), wasm_i32x4_shuffle(s[2], s[3], 2, 6, 3, 7));
    v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(t01, t23, 0, 1, 4, 5), wasm_i32x4_shuffle(t01, t23, 2, 3, 6, 7));
    sum = wasm_i32x4_add(sum, wasm_v128_load32_splat(aux + 4));
    const v128_t f[2] = {wasm_f64x2_convert_low_i32x4(sum), wasm_f64x2_convert_low_i32x4(high_pair(sum))};
    const v128_t d[2] = {wasm_f64x2_promote_low_f32x4(dd), wasm_f64x2_promote_low_f32x4(high_pair(dd))};
    fma64(2, acc, f, d);
}

/* Stores the 4 rows' Q4_0 sums (acc: rows 0-1, 2-3), cnt of them. */
AI void q4_0_store(const v128_t *acc, float *o, int cnt) {
    float v[4];
    wasm_v128_store(v, wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(acc[0]), wasm_f32x4_demote_f64x2_zero(acc[1]),
                                          0, 1, 4, 5));
    for (int r = 0; r < cnt; r++) o[r] = v[r];
}

typedef struct {
    const uint8_t *w; /* first row of the group */
    size_t wrow;      /* bytes per weight row */
    int nb, cnt;      /* blocks per row, valid rows in the group (1..4) */
    const uint8_t *act;
    size_t arow, aux_off, gb_off;
    float *out; /* &out[t0 * os + first row] */
    size_t os;
} group_args;

/* One group of rows against nt tokens (NT: the count when known at compile
 * time, else 0). acc: nt * NACC accumulators. */
AI void group(const int ty, const int NT, const group_args *g, int nt, v128_t *acc) {
    if (NT) nt = NT;
    const uint8_t *p[ROWS];
    for (int i = 0; i < ROWS; i++) p[i] = g->w + (size_t)(i < g->cnt ? i : g->cnt - 1) * g->wrow;
    const size_t bs = ty_bsize(ty), ab = ty_q81(ty) ? sizeof(block_q8_1) : sizeof(block_q8_0);
    const size_t qoff = ty_q81(ty) ? 4 : 2;
    for (int k = 0; k < nt * NACC; k++) acc[k] = wasm_f64x2_splat(0.0);
    for (int b = 0; b < g->nb; b++) {
        v128_t w[ROWS][4];
#pragma clang loop unroll(full)
        for (int r = 0; r < ROWS; r++) decode_block(ty, p[r], w[r]);
        const v128_t dw = gather_half4(p, 0);
        const v128_t mw = ty_q81(ty) ? gather_half4(p, 2) : dw;
        for (int r = 0; r < ROWS; r++) p[r] += bs;
        const uint8_t *a = g->act + (size_t)b * ab;
        const uint8_t *aux = g->act + g->aux_off + 8 * (size_t)b;
        const uint8_t *gb = g->act + g->gb_off + 32 * (size_t)b;
        for (int k = 0; k < nt; k++, a += g->arow, aux += g->arow, gb += g->arow) {
            v128_t *ac = acc + (size_t)k * NACC;
            v128_t y[4];
            widen_i8x32(a + qoff, y);
            float da;
            memcpy(&da, aux, 4);
            const v128_t dd = wasm_f32x4_mul(dw, wasm_f32x4_splat(da)); /* exact: fp16 x fp16 */
            if (!ty_lanes(ty)) {
                v128_t s[ROWS];
#pragma clang loop unroll(full)
                for (int r = 0; r < ROWS; r++) {
                    const v128_t d01 = wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[r][0], y[0]), wasm_i32x4_dot_i16x8(w[r][1], y[1]));
                    const v128_t d23 = wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[r][2], y[2]), wasm_i32x4_dot_i16x8(w[r][3], y[3]));
                    s[r] = wasm_i32x4_add(d01, d23);
                }
                q4_0_step(s, aux, dd, ac);
                continue;
            }
            v128_t gl = wasm_i32x4_splat(0), gh = gl;
            if (ty == TY_Q5_0) { /* -16 x each group's activation sum */
                gl = wasm_v128_load(gb);
                gh = wasm_v128_load(gb + 16);
            }
#pragma clang loop unroll(full)
            for (int r = 0; r < ROWS; r++) {
                lanes_step(w[r], y, gl, gh, lane_splat(dd, r), ac + 4 * r);
            }
            if (ty_q81(ty)) { /* summs += m * s: the product of two fp16 is exact */
                float sa;
                memcpy(&sa, aux + 4, 4);
                ac[16] = wasm_f32x4_add(ac[16], wasm_f32x4_mul(mw, wasm_f32x4_splat(sa)));
            }
        }
    }
    for (int k = 0; k < nt; k++) {
        const v128_t *ac = acc + (size_t)k * NACC;
        float *o = g->out + (size_t)k * g->os;
        if (!ty_lanes(ty)) {
            q4_0_store(ac, o, g->cnt);
            continue;
        }
        float sm[4];
        wasm_v128_store(sm, ac[16]);
        for (int r = 0; r < g->cnt; r++) {
            float l[8];
            for (int i = 0; i < 4; i++) {
                l[2 * i] = (float)wasm_f64x2_extract_lane(ac[4 * r + i], 0);
                l[2 * i + 1] = (float)wasm_f64x2_extract_lane(ac[4 * r + i], 1);
            }
            /* ggml's hsum_float_8 */
            const float h = ((l[4] + l[0]) + (l[6] + l[2])) + ((l[5] + l[1]) + (l[7] + l[3]));
            o[r] = ty_q81(ty) ? h + sm[r] : h;
        }
    }
}

#define SEQ_MAX_NB 256 /* blocks per row (n <= 8192) for group_q4_0_seq's buffers */

/* Q4_0 decode reading the group's 4 rows one after the other: a single
 * sequential stream. (The hardware prefetcher loses rows read side by side:
 * here one stream of weights came from memory at about 8 GB/s, four
 * interleaved ones at 2-4.) First each row's per-block partial sums go to
 * sbuf, then the 4 rows take ggml's per-block FMA together, lane = row.
 * y16: the token's activation codes widened to i16, 4 vectors per block. */
static void group_q4_0_seq(const group_args *g, const v128_t *y16, v128_t *sbuf) {
    const int nb = g->nb;
    const uint8_t *p[ROWS];
    for (int i = 0; i < ROWS; i++) p[i] = g->w + (size_t)(i < g->cnt ? i : g->cnt - 1) * g->wrow;
    for (int r = 0; r < ROWS; r++) {
        const uint8_t *x = p[r];
        v128_t *sr = sbuf + (size_t)r * nb;
        for (int b = 0; b < nb; b++, x += sizeof(block_q4_0)) {
            v128_t w[4];
            decode_block(TY_Q4_0, x, w);
            const v128_t *y = y16 + 4 * (size_t)b;
            sr[b] = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], y[0]), wasm_i32x4_dot_i16x8(w[1], y[1])),
                                   wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[2], y[2]), wasm_i32x4_dot_i16x8(w[3], y[3])));
        }
    }
    v128_t acc[2] = {wasm_f64x2_splat(0.0), wasm_f64x2_splat(0.0)};
    const uint8_t *aux = g->act + g->aux_off;
    for (int b = 0; b < nb; b++, aux += 8) {
        const v128_t s[4] = {sbuf[b], sbuf[nb + b], sbuf[2 * nb + b], sbuf[3 * nb + b]};
        float da;
        memcpy(&da, aux, 4);
        q4_0_step(s, aux, wasm_f32x4_mul(gather_half4(p, (size_t)b * sizeof(block_q4_0)), wasm_f32x4_splat(da)), acc);
    }
    q4_0_store(acc, g->out, g->cnt);
}

/* 8-lane types' decode, one row at a time (one sequential stream, as
 * group_q4_0_seq): ggml's vec_dot order, lane m += dw * da * (group m's
 * integer sum), 4 blocks per step so that their scales convert together.
 * y16: the token's codes as i16 (4 per block); dsa: per 4 blocks, the
 * activations' d (even entries) and Q8_1's s (odd). nb: a multiple of 4. */
AI float row_lanes_seq(const int ty, const uint8_t *x, int nb, const uint8_t *gb, const v128_t *y16, const v128_t *dsa) {
    const size_t bs = ty_bsize(ty);
    v128_t l[4] = {wasm_f64x2_splat(0.0), wasm_f64x2_splat(0.0), wasm_f64x2_splat(0.0), wasm_f64x2_splat(0.0)};
    float summs = 0.0f;
    for (int b = 0; b < nb; b += 4, x += 4 * bs) {
        const uint8_t *blk[ROWS] = {x, x + bs, x + 2 * bs, x + 3 * bs}; /* 4 blocks of the row, like 4 rows */
        const v128_t dd = wasm_f32x4_mul(gather_half4(blk, 0), dsa[b / 2]);
        v128_t ms = dd;
        if (ty_q81(ty)) ms = wasm_f32x4_mul(gather_half4(blk, 2), dsa[b / 2 + 1]); /* exact: fp16 x fp16 */
#pragma clang loop unroll(full)
        for (int k = 0; k < 4; k++) {
            v128_t w[4];
            decode_block(ty, blk[k], w);
            v128_t gl = wasm_i32x4_splat(0), gh = gl;
            if (ty == TY_Q5_0) { /* -16 x each group's activation sum */
                gl = wasm_v128_load(gb + 32 * (size_t)(b + k));
                gh = wasm_v128_load(gb + 32 * (size_t)(b + k) + 16);
            }
            lanes_step(w, y16 + 4 * (size_t)(b + k), gl, gh, lane_splat(dd, k), l);
            if (ty_q81(ty)) summs += wasm_f32x4_extract_lane(lane_splat(ms, k), 0);
        }
    }
    float v[8];
    for (int i = 0; i < 4; i++) {
        v[2 * i] = (float)wasm_f64x2_extract_lane(l[i], 0);
        v[2 * i + 1] = (float)wasm_f64x2_extract_lane(l[i], 1);
    }
    const float h = ((v[4] + v[0]) + (v[6] + v[2])) + ((v[5] + v[1]) + (v[7] + v[3])); /* hsum_float_8 */
    return ty_q81(ty) ? h + summs : h;
}

AI void matmul_q(const int ty, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                 size_t os) {
    const int nb = n / 32;
    group_args g;
    g.wrow = (size_t)nb * ty_bsize(ty);
    g.nb = nb;
    g.aux_off = kernels_act_aux_offset(n, ty_q81(ty));
    g.gb_off = kernels_act_gbias_offset(n);
    g.arow = (ty == TY_Q5_0 || ty == TY_Q8_0) ? g.gb_off + 32 * (size_t)nb : g.aux_off + 8 * (size_t)nb;
    g.os = os;
    v128_t acc[TOK_CHUNK * NACC];
    if (ty_lanes(ty) && n_tok == 1 && nb <= SEQ_MAX_NB && nb % 4 == 0) {
        v128_t y16[4 * SEQ_MAX_NB], dsa[SEQ_MAX_NB / 2];
        const uint8_t *a = act;
        for (int b = 0; b < nb; b++) widen_i8x32(a + (size_t)b * (ty_q81(ty) ? sizeof(block_q8_1) : sizeof(block_q8_0)) + (ty_q81(ty) ? 4 : 2), y16 + 4 * b);
        for (int b = 0; b < nb; b += 4) { /* aux {d, s/bias} x 4 -> d x 4, s x 4 */
            const v128_t e0 = wasm_v128_load(a + g.aux_off + 8 * (size_t)b), e1 = wasm_v128_load(a + g.aux_off + 8 * (size_t)b + 16);
            dsa[b / 2] = wasm_i32x4_shuffle(e0, e1, 0, 2, 4, 6);
            dsa[b / 2 + 1] = wasm_i32x4_shuffle(e0, e1, 1, 3, 5, 7);
        }
        for (int r = r0; r < r1; r++)
            out[r] = row_lanes_seq(ty, (const uint8_t *)w + (size_t)r * g.wrow, nb, a + g.gb_off, y16, dsa);
        return;
    }
    if (ty == TY_Q4_0 && n_tok == 1 && nb <= SEQ_MAX_NB) {
        v128_t y16[4 * SEQ_MAX_NB], sbuf[ROWS * SEQ_MAX_NB];
        for (int b = 0; b < nb; b++) widen_i8x32((const uint8_t *)act + (size_t)b * sizeof(block_q8_0) + 2, y16 + 4 * b);
        g.act = act;
        for (int r = r0; r < r1; r += ROWS) {
            g.w = (const uint8_t *)w + (size_t)r * g.wrow;
            g.cnt = r1 - r < ROWS ? r1 - r : ROWS;
            g.out = out + (size_t)r;
            group_q4_0_seq(&g, y16, sbuf);
        }
        return;
    }
    for (int t0 = 0; t0 < n_tok; t0 += TOK_CHUNK) {
        const int nt = n_tok - t0 < TOK_CHUNK ? n_tok - t0 : TOK_CHUNK;
        g.act = (const uint8_t *)act + (size_t)t0 * g.arow;
        for (int r = r0; r < r1; r += ROWS) {
            g.w = (const uint8_t *)w + (size_t)r * g.wrow;
            g.cnt = r1 - r < ROWS ? r1 - r : ROWS;
            g.out = out + (size_t)t0 * os + (size_t)r;
            if (nt == 1) group(ty, 1, &g, 1, acc);
            else group(ty, 0, &g, nt, acc);
        }
    }
}

/* The table's entry points, one constant-folded matmul_q per type. */
MATMUL_ENTRY(mm_q4_0, matmul_q, TY_Q4_0)
MATMUL_ENTRY(mm_q4_1, matmul_q, TY_Q4_1)
MATMUL_ENTRY(mm_q5_0, matmul_q, TY_Q5_0)
MATMUL_ENTRY(mm_q5_1, matmul_q, TY_Q5_1)
MATMUL_ENTRY(mm_q8_0, matmul_q, TY_Q8_0)
#define EXPORTED(type)                                                                                                 \
    void kernels_simd128_matmul_##type(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) { \
        mm_##type(w, n, r0, r1, a, nt, o, os);                                                                          \
    }
EXPORTED(q4_0)
EXPORTED(q5_0)
EXPORTED(q8_0)

bool kernels_simd128_fill(hearth_kernels *k) {
    k->quant[KW_Q4_0] = quant_q8_0;
    k->quant[KW_Q5_0] = quant_q8_0_g16;
    k->quant[KW_Q8_0] = quant_q8_0_g128;
    k->quant[KW_Q4_1] = quant_q8_1;
    k->quant[KW_Q5_1] = quant_q8_1;
    k->matmul[KW_Q4_0] = kernels_simd128_matmul_q4_0;
    k->matmul[KW_Q4_1] = mm_q4_1;
    k->matmul[KW_Q5_0] = kernels_simd128_matmul_q5_0;
    k->matmul[KW_Q5_1] = mm_q5_1;
    k->matmul[KW_Q8_0] = kernels_simd128_matmul_q8_0;
    kernels_simd128_float_fill(k);
    kernels_k_simd128_fill(k);
    kernels_iq4nl_simd128_fill(k, false);
    k->name = "simd128";
    return true;
}
#else
bool kernels_simd128_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
