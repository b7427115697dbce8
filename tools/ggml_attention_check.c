/* hearth's CPU attention paths against ggml's own flash attention, bit for
 * bit: ggml_flash_attn_ext on random Q (f32), K and V (f16) with a causal
 * mask, computed by the libggml-cpu variant it is linked with, and the
 * same rows by hearth's one-row, tiled or split-KV code (as forward.c picks
 * them). Not built by make; with the reference tools installed
 * (docs/test-models.md) and llama.cpp's source cloned from
 * node-llama-cpp/llama/gitRelease.bundle into /tmp/llama:
 *
 *   L=tools/reference/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
 *   make && gcc -O1 -I/tmp/llama/ggml/include tools/ggml_attention_check.c -o build/gac \
 *       build/libhearth.a $L/libggml-cpu-zen4.so $L/libggml-base.so -Wl,-rpath,$L -lm -lpthread
 *   build/gac HEAD_DIM HEADS KV_HEADS POSITIONS ROWS THREADS [SIMD=1 [N_CTX=512 [SEED]]]
 *
 * ROWS query rows end at position POSITIONS-1 (1: decode). Exit status 0
 * when every output bit agrees. */
#include "ggml.h"
#include "ggml-cpu.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
typedef void (*row_fn)(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int head_dim, int stride, float scale, uint16_t *acc, float *out);
row_fn attention_row_select(bool allow_simd, bool inexact);
row_fn attention_tiled_select(bool allow_simd);
bool attention_tiled_applies(int n_rows, int head_dim);
typedef void (*part_fn)(const float *q, const uint16_t *K, const uint16_t *V, int j0, int j1, int head_dim, int stride, float scale, uint16_t *acc, float ms[2]);
part_fn attention_part_select(bool allow_simd);
void attention_split_row(part_fn part, const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int n_kv, int n_chunks, int head_dim, int stride, float scale, uint16_t *acc, float *out);
int attention_split_kv(int n_ctx, int pos, int n_rows);
static unsigned st = 777;
static float rnd(void) { st = st * 1103515245u + 12345u; return ((int)(st >> 9) % 20001 - 10000) / 5000.0f; }
int main(int argc, char **argv) {
    int hd = atoi(argv[1]), nh = atoi(argv[2]), nkvh = atoi(argv[3]), npos = atoi(argv[4]), nq = atoi(argv[5]), nth = atoi(argv[6]);
    int simd = argc > 7 ? atoi(argv[7]) : 1;
    if (argc > 9) st = (unsigned)atoi(argv[9]);
    int nkv = ((npos + 255) / 256) * 256; if (nkv < 256) nkv = 256;
    int nctx = argc > 8 ? atoi(argv[8]) : 512; if (nkv > nctx) nkv = nctx;
    struct ggml_init_params ip = {512u << 20, NULL, false};
    struct ggml_context *ctx = ggml_init(ip);
    struct ggml_tensor *q = ggml_new_tensor_4d(ctx, GGML_TYPE_F32, hd, nq, nh, 1);
    struct ggml_tensor *k = ggml_new_tensor_4d(ctx, GGML_TYPE_F16, hd, nkv, nkvh, 1);
    struct ggml_tensor *v = ggml_new_tensor_4d(ctx, GGML_TYPE_F16, hd, nkv, nkvh, 1);
    struct ggml_tensor *m = ggml_new_tensor_4d(ctx, GGML_TYPE_F16, nkv, nq, 1, 1);
    float *qd = q->data; ggml_fp16_t *kd = k->data, *vd = v->data, *md = m->data;
    for (long i = 0; i < (long)hd * nq * nh; i++) qd[i] = rnd() * 0.3f;
    for (long i = 0; i < (long)hd * nkv * nkvh; i++) { kd[i] = ggml_fp32_to_fp16(rnd()); vd[i] = ggml_fp32_to_fp16(rnd()); }
    /* query row t sits at position npos - nq + t */
    for (int t = 0; t < nq; t++) for (int j = 0; j < nkv; j++)
        md[t * nkv + j] = ggml_fp32_to_fp16(j <= npos - nq + t ? 0.0f : -INFINITY);
    float scale = 1.0f / sqrtf((float)hd);
    struct ggml_tensor *o = ggml_flash_attn_ext(ctx, q, k, v, m, scale, 0.0f, 0.0f);
    struct ggml_cgraph *g = ggml_new_graph(ctx);
    ggml_build_forward_expand(g, o);
    ggml_graph_compute_with_ctx(ctx, g, nth);
    float *od = o->data; /* [hd, nh, nq] */
    /* hearth: K/V rows per kv head, stride hd */
    uint16_t acc[512]; float out[512], qrow[512];
    int bad = 0; double maxd = 0;
    row_fn row = attention_row_select(simd, false), tiled = attention_tiled_select(simd);
    int split = nq == 1 ? attention_split_kv(nctx, npos - 1, 1) : 0;
    for (int t = 0; t < nq; t++) for (int h = 0; h < nh; h++) {
        int kvh = h / (nh / nkvh), n = npos - nq + t + 1;
        for (int d = 0; d < hd; d++) qrow[d] = qd[(long)h * nq * hd + (long)t * hd + d];
        const uint16_t *K = (const uint16_t *)kd + (long)kvh * nkv * hd, *V = (const uint16_t *)vd + (long)kvh * nkv * hd;
        if (split) attention_split_row(attention_part_select(simd), qrow, K, V, n, split, nth, hd, hd, scale, acc, out);
        else (attention_tiled_applies(nq, hd) ? tiled : row)(qrow, K, V, n, hd, hd, scale, acc, out);
        for (int d = 0; d < hd; d++) {
            float r = od[(long)t * nh * hd + (long)h * hd + d];
            if (r != out[d]) { bad++; if (fabs(r - out[d]) > maxd) maxd = fabs(r - out[d]); }
        }
    }
    printf("hd %d heads %d/%d pos %d rows %d threads %d %s split %d: %d of %d differ (max %g)\n", hd, nh, nkvh, npos, nq, nth,
           simd ? "simd" : "scalar", split, bad, hd * nh * nq, maxd);
    return bad != 0;
}
