/* Q2_K, Q3_K, Q4_K, Q5_K and Q6_K products with WebAssembly relaxed SIMD's
 * 8-bit dot product: the relaxed build's fast numerics (compiled by
 * clang-19 with -mrelaxed-simd, as quant_simd128_relaxed.c). Their codes
 * are unsigned and below 64 (Q3_K's taken as 0..7, the offset 4 corrected
 * from the activations' 16-element sums), so they fit the 7-bit operand of
 * i16x8.relaxed_dot_i8x16_i7x16_s, which multiplies 16 byte pairs at once
 * (pmaddubsw on x86) with the token's Q8_K codes as they are: no widening
 * of either side, where baseline SIMD128 needs 16-bit lanes. A 16-bit lane
 * holds two products, at most 2 x 63 x 127 (Q6_K): exact everywhere. Then
 * i32x4.dot_i16x8_s with the 16 elements' scale adds pairs of those lanes,
 * times the scale, into 4 i32 lanes (Q4_K, Q5_K: the two 16-bit vectors
 * of a 32-element sub-block added first, at most 4 x 31 x 127).
 *
 * The float steps are quant_k_simd128_fast.c's (per super-block,
 * float(integer sum lanes) x dw * da, minus the mins' term, into 4 f32
 * lanes), on the same totals (spread over the 4 lanes differently), so
 * both stay within the fast numerics' bound of the exact kernels. IQ4_XS
 * keeps the SIMD128 kernel: its code book's entries are signed. */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_relaxed_simd__
#include "quant_k_simd128.h"

/* A super-block decoded for the byte dot: codes in element order, 16 a
 * vector, and each 16 elements' scale in every i16 lane. */
typedef struct {
    v128_t c[16], sc[16];
    v128_t m16[2]; /* as ks_sb's (Q3_K: its 16 scales, for the offset) */
    float d, dmin;
} kr_sb;

/* Q2_K / Q3_K low bits: element 128h + 32j + l is bits 2j.. of qs[32h + l]
 * (Q3_K: + 4 where bit 4h + j of hmask[l] is set). */
AI void kr_dec_2bit(const uint8_t *qs, const uint8_t *hmask, v128_t *c) {
    const v128_t m3 = wasm_i8x16_const_splat(3);
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int half = 0; half < 2; half++) {
                const v128_t q = wasm_v128_load(qs + 32 * h + 16 * half);
                v128_t v = wasm_v128_and(wasm_u16x8_shr(q, (uint32_t)(2 * j)), m3);
                if (hmask) /* bit 4h + j to bit 2 of each byte (a 16-bit shift: no wanted bit crosses) */
                    v = wasm_v128_or(v, wasm_v128_and(ks_shift16(wasm_v128_load(hmask + 16 * half), 2 - (4 * h + j)),
                                                      wasm_i8x16_const_splat(4)));
                c[8 * h + 2 * j + half] = v;
            }
}

AI void kr_decode(const int ty, const uint8_t *x, kr_sb *o) {
    const v128_t m4 = wasm_i8x16_const_splat(0x0f);
    switch (ty) {
    case KS_Q4_K:
    case KS_Q5_K: {
        ks_sb s; /* the scales and mins (ks_dec_scales_mins) */
        ks_dec_scales_mins(((const block_q4_K *)x)->scales, &s);
        o->m16[0] = s.m16[0];
        o->m16[1] = s.m16[1];
        for (int j = 0; j < 8; j++) o->sc[2 * j] = o->sc[2 * j + 1] = ks_splat_i16(wasm_u16x8_extend_low_u8x16(s.sc), j);
        ks_halves(x, true, &o->d, &o->dmin);
        const uint8_t *qs = x + (ty == KS_Q5_K ? KQ5_QS : KQ4_QS);
        for (int p = 0; p < 4; p++)
            for (int half = 0; half < 2; half++) {
                const v128_t q = wasm_v128_load(qs + 32 * p + 16 * half);
                o->c[4 * p + half] = wasm_v128_and(q, m4);
                o->c[4 * p + 2 + half] = wasm_v128_and(wasm_u16x8_shr(q, 4), m4);
            }
        if (ty == KS_Q5_K) /* bit j of qh[l]: 0x10 of element l of sub-block j */
            for (int half = 0; half < 2; half++) {
                const v128_t qh = wasm_v128_load(x + KQ5_QH + 16 * half);
                for (int j = 0; j < 8; j++) /* bit j to bit 4 of each byte: a 16-bit shift, no wanted bit crosses */
                    o->c[2 * j + half] = wasm_v128_or(o->c[2 * j + half], wasm_v128_and(ks_shift16(qh, 4 - j), wasm_i8x16_const_splat(0x10)));
            }
        return;
    }
    case KS_Q6_K: {
        const block_q6_K *b = (const block_q6_K *)x;
        const v128_t s8 = wasm_v128_load(b->scales), m30 = wasm_i8x16_const_splat(0x30);
        o->m16[0] = wasm_i16x8_extend_low_i8x16(s8);
        o->m16[1] = wasm_i16x8_extend_high_i8x16(s8);
        for (int s = 0; s < 16; s++) o->sc[s] = ks_splat_i16(o->m16[s / 8], s % 8);
        for (int c8 = 0; c8 < 8; c8++) {
            const int h = c8 / 4, c = c8 % 4;
            for (int half = 0; half < 2; half++) {
                const v128_t l = wasm_v128_load(b->ql + 64 * h + 32 * (c & 1) + 16 * half);
                const v128_t q = wasm_v128_load(b->qh + 32 * h + 16 * half);
                /* the u16 shifts move no wanted bit across bytes: the masks drop those */
                o->c[2 * c8 + half] = wasm_v128_or(wasm_v128_and(c & 2 ? wasm_u16x8_shr(l, 4) : l, m4),
                                                   wasm_v128_and(ks_shift16(q, 4 - 2 * c), m30));
            }
        }
        ks_halves(x + KQ6_D, false, &o->d, NULL);
        return;
    }
    case KS_Q2_K: {
        const block_q2_K *b = (const block_q2_K *)x;
        const v128_t s8 = wasm_v128_load(b->scales), m = wasm_i16x8_const_splat(0x0f);
        const v128_t lo = wasm_u16x8_extend_low_u8x16(s8), hi = wasm_u16x8_extend_high_u8x16(s8);
        const v128_t sc[2] = {wasm_v128_and(lo, m), wasm_v128_and(hi, m)};
        for (int s = 0; s < 16; s++) o->sc[s] = ks_splat_i16(sc[s / 8], s % 8);
        o->m16[0] = wasm_u16x8_shr(lo, 4);
        o->m16[1] = wasm_u16x8_shr(hi, 4);
        kr_dec_2bit(b->qs, NULL, o->c);
        ks_halves(x + offsetof(block_q2_K, d), true, &o->d, &o->dmin);
        return;
    }
    default: { /* Q3_K */
        const block_q3_K *b = (const block_q3_K *)x;
        ks_q3_scales(b->scales, o->m16);
        for (int s = 0; s < 16; s++) o->sc[s] = ks_splat_i16(o->m16[s / 8], s % 8);
        kr_dec_2bit(b->qs, b->hmask, o->c);
        ks_halves(x + offsetof(block_q3_K, d), false, &o->d, NULL);
        return;
    }
    }
}

/* st[k] += float(sum) x dw * da - float(mins) x dmin * da (lanes to be
 * added) for the NT tokens y[k * ys] (NT a constant): each vector of codes
 * taken once for all of them. */
AI void kr_step(const int ty, const int NT, const kr_sb *w, const block_q8_K *y, size_t ys, v128_t *st) {
    v128_t sum[KS_TILE];
    for (int k = 0; k < NT; k++) sum[k] = wasm_i32x4_splat(0);
    for (int s = 0; s < 16; s += 2) {
        const v128_t c0 = w->c[s], c1 = w->c[s + 1];
        for (int k = 0; k < NT; k++) {
            const int8_t *qs = y[(size_t)k * ys].qs + 16 * s;
            const v128_t p0 = wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(qs), c0);
            const v128_t p1 = wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(qs + 16), c1);
            if (ty == KS_Q4_K || ty == KS_Q5_K) /* one scale per 32 elements: the pair sums added first (below 2^15) */
                sum[k] = wasm_i32x4_add(sum[k], wasm_i32x4_dot_i16x8(wasm_i16x8_add(p0, p1), w->sc[s]));
            else
                sum[k] = wasm_i32x4_add(sum[k], wasm_i32x4_add(wasm_i32x4_dot_i16x8(p0, w->sc[s]), wasm_i32x4_dot_i16x8(p1, w->sc[s + 1])));
        }
    }
    for (int k = 0; k < NT; k++) {
        const block_q8_K *yk = &y[(size_t)k * ys];
        const v128_t b0 = wasm_v128_load(yk->bsums), b1 = wasm_v128_load(yk->bsums + 8);
        const v128_t bm = wasm_i32x4_add(wasm_i32x4_dot_i16x8(b0, w->m16[0]), wasm_i32x4_dot_i16x8(b1, w->m16[1]));
        if (ty == KS_Q6_K) sum[k] = wasm_i32x4_sub(sum[k], wasm_i32x4_shl(bm, 5)); /* codes - 32 */
        if (ty == KS_Q3_K) sum[k] = wasm_i32x4_sub(sum[k], wasm_i32x4_shl(bm, 2)); /* codes - 4 */
        v128_t t = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum[k]), wasm_f32x4_splat(w->d * yk->d));
        if (ty == KS_Q4_K || ty == KS_Q5_K || ty == KS_Q2_K)
            t = wasm_f32x4_sub(t, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(bm), wasm_f32x4_splat(w->dmin * yk->d)));
        st[k] = wasm_f32x4_add(st[k], t);
    }
}

/* Rows [r0, r1) against NT tokens (a constant), each row read once. */
AI void kr_rows(const int ty, const int NT, const uint8_t *w, int nb, int r0, int r1, const block_q8_K *y, float *out,
                size_t os) {
    const size_t bs = ks_bsize(ty), wrow = (size_t)nb * bs;
    for (int r = r0; r < r1; r++) {
        const uint8_t *x = w + (size_t)r * wrow;
        v128_t st[KS_TILE];
        for (int k = 0; k < NT; k++) st[k] = wasm_f32x4_splat(0.0f);
        for (int b = 0; b < nb; b++, x += bs) {
            kr_sb sb;
            kr_decode(ty, x, &sb);
            kr_step(ty, NT, &sb, y + b, (size_t)nb, st);
        }
        for (int k = 0; k < NT; k++) {
            v128_t v = wasm_f32x4_add(st[k], wasm_i32x4_shuffle(st[k], st[k], 2, 3, 0, 1));
            v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
            out[(size_t)k * os + (size_t)r] = wasm_f32x4_extract_lane(v, 0);
        }
    }
}

/* Q6_K rows against NT tokens, decoded and multiplied in one pass (no
 * decoded super-block in memory): ks_q6_bytes' codes straight into the
 * byte dot, each 16 elements' i16 pair sums times their scale into 4 i32
 * lanes, ggml's -32 from the bsums; kr_step's float step. */
AI void kr_q6_rows(const int NT, const uint8_t *w, int nb, int r0, int r1, const block_q8_K *y, float *out, size_t os) {
    const size_t wrow = (size_t)nb * sizeof(block_q6_K);
    for (int r = r0; r < r1; r++) {
        const block_q6_K *x = (const block_q6_K *)(w + (size_t)r * wrow);
        v128_t st[KS_TILE];
        for (int k = 0; k < NT; k++) st[k] = wasm_f32x4_splat(0.0f);
        for (int b = 0; b < nb; b++, x++) {
            const v128_t s8 = wasm_v128_load(x->scales);
            const v128_t sc[2] = {wasm_i16x8_extend_low_i8x16(s8), wasm_i16x8_extend_high_i8x16(s8)};
            v128_t sum[KS_TILE];
            for (int k = 0; k < NT; k++) sum[k] = wasm_i32x4_splat(0);
            for (int h = 0; h < 2; h++)
                for (int half = 0; half < 2; half++) {
                    v128_t c[4];
                    ks_q6_bytes(x, h, half, c);
                    for (int j = 0; j < 4; j++) {
                        const int s = 8 * h + 2 * j + half;
                        const v128_t scv = ks_splat_i16(sc[h], s % 8);
                        for (int k = 0; k < NT; k++) {
                            const v128_t p = wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(y[(size_t)k * nb + b].qs + 16 * s), c[j]);
                            sum[k] = wasm_i32x4_add(sum[k], wasm_i32x4_dot_i16x8(p, scv));
                        }
                    }
                }
            float d;
            ks_halves((const uint8_t *)x + KQ6_D, false, &d, NULL);
            for (int k = 0; k < NT; k++) {
                const block_q8_K *yk = &y[(size_t)k * nb + b];
                const v128_t b0 = wasm_v128_load(yk->bsums), b1 = wasm_v128_load(yk->bsums + 8);
                const v128_t bm = wasm_i32x4_add(wasm_i32x4_dot_i16x8(b0, sc[0]), wasm_i32x4_dot_i16x8(b1, sc[1]));
                const v128_t t = wasm_i32x4_sub(sum[k], wasm_i32x4_shl(bm, 5));
                st[k] = wasm_f32x4_add(st[k], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(t), wasm_f32x4_splat(d * yk->d)));
            }
        }
        for (int k = 0; k < NT; k++) {
            v128_t v = wasm_f32x4_add(st[k], wasm_i32x4_shuffle(st[k], st[k], 2, 3, 0, 1));
            v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
            out[(size_t)k * os + (size_t)r] = wasm_f32x4_extract_lane(v, 0);
        }
    }
}

AI void kr_matmul(const int ty, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK_K;
    for (int t0 = 0; t0 < n_tok; t0 += KS_TILE) {
        const int nt = n_tok - t0 < KS_TILE ? n_tok - t0 : KS_TILE;
        const block_q8_K *y = (const block_q8_K *)act + (size_t)t0 * nb;
        float *o = out + (size_t)t0 * os;
        if (ty == KS_Q6_K) {
            switch (nt) {
            case 1: kr_q6_rows(1, w, nb, r0, r1, y, o, os); break;
            case 2: kr_q6_rows(2, w, nb, r0, r1, y, o, os); break;
            case 3: kr_q6_rows(3, w, nb, r0, r1, y, o, os); break;
            default: kr_q6_rows(KS_TILE, w, nb, r0, r1, y, o, os); break;
            }
            continue;
        }
        switch (nt) {
        case 1: kr_rows(ty, 1, w, nb, r0, r1, y, o, os); break;
        case 2: kr_rows(ty, 2, w, nb, r0, r1, y, o, os); break;
        case 3: kr_rows(ty, 3, w, nb, r0, r1, y, o, os); break;
        default: kr_rows(ty, KS_TILE, w, nb, r0, r1, y, o, os); break;
        }
    }
}

#define KR_ENTRY(name, ty)                                                                                \
    static void name(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) { \
        kr_matmul(ty, w, n, r0, r1, a, nt, o, os);                                                       \
    }
KR_ENTRY(mm_q2_k, KS_Q2_K)
KR_ENTRY(mm_q3_k, KS_Q3_K)
KR_ENTRY(mm_q4_k, KS_Q4_K)
KR_ENTRY(mm_q5_k, KS_Q5_K)
KR_ENTRY(mm_q6_k, KS_Q6_K)

void kernels_k_simd128_relaxed_fill(hearth_kernels *k) {
    k->matmul[KW_Q2_K] = mm_q2_k;
    k->matmul[KW_Q3_K] = mm_q3_k;
    k->matmul[KW_Q4_K] = mm_q4_k;
    k->matmul[KW_Q5_K] = mm_q5_k;
    k->matmul[KW_Q6_K] = mm_q6_k;
}
#endif
