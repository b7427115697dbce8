#include "weights.h"

#include <string.h>

#include "ggml_types.h"

/* Bytes of one GGUF block of 32: the d (and m) halves, the fifth bits, the quants. */
typedef struct {
    uint32_t type;
    const char *wgsl;
    int block_bytes; /* GGUF */
    int dm_halves;   /* 1: d; 2: d, m */
    int qh_bytes;    /* 4 for Q5 */
    int qs_bytes;
} type_layout;

static const type_layout layouts[] = {
    {GGML_TYPE_F32, "wtype_f32.wgsl", 128, 0, 0, 0},    {GGML_TYPE_F16, "wtype_f16.wgsl", 64, 0, 0, 0},
    {GGML_TYPE_BF16, "wtype_bf16.wgsl", 64, 0, 0, 0},   {GGML_TYPE_Q8_0, "wtype_q8_0.wgsl", 34, 1, 0, 32},
    {GGML_TYPE_Q4_0, "wtype_q4_0.wgsl", 18, 1, 0, 16},  {GGML_TYPE_Q4_1, "wtype_q4_1.wgsl", 20, 2, 0, 16},
    {GGML_TYPE_Q5_0, "wtype_q5_0.wgsl", 22, 1, 4, 16},  {GGML_TYPE_Q5_1, "wtype_q5_1.wgsl", 24, 2, 4, 16},
};

static const type_layout *layout_of(uint32_t type) {
    for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++)
        if (layouts[i].type == type) return &layouts[i];
    return NULL;
}

bool gpu_type_supported(uint32_t type) { return layout_of(type) != NULL; }

const char *gpu_type_wgsl(uint32_t type) {
    const type_layout *l = layout_of(type);
    return l ? l->wgsl : NULL;
}

static bool quantized(const type_layout *l) { return l->qs_bytes > 0; }

int gpu_type_act(uint32_t type) {
    const type_layout *l = layout_of(type);
    if (!l || type == GGML_TYPE_F32) return 0;
    return type == GGML_TYPE_F16 ? 1 : type == GGML_TYPE_BF16 ? 2 : 3;
}

uint64_t gpu_blocks_bytes(uint32_t type, uint64_t n_blocks) {
    const type_layout *l = layout_of(type);
    if (!l) return 0;
    if (!quantized(l)) return n_blocks * (uint64_t)l->block_bytes;
    return (n_blocks + 1) / 2 * 2 * (uint64_t)l->block_bytes;
}

/* A pair: [d0 d1] ([m0 m1]) (qh0 qh1) qs0 qs1, from GGUF's d (m) (qh) qs per block. */
size_t gpu_repack(uint32_t type, const uint8_t *src, size_t n_blocks, uint8_t *dst) {
    const type_layout *l = layout_of(type);
    if (!l) return 0;
    if (!quantized(l)) {
        memcpy(dst, src, n_blocks * (size_t)l->block_bytes);
        return n_blocks * (size_t)l->block_bytes;
    }
    size_t bb = (size_t)l->block_bytes, out = 0;
    for (size_t b = 0; b < n_blocks; b += 2) {
        const uint8_t *blk[2] = {src + b * bb, b + 1 < n_blocks ? src + (b + 1) * bb : NULL};
        uint8_t *p = dst + out;
        memset(p, 0, 2 * bb);
        for (int h = 0; h < 2; h++) {
            if (!blk[h]) continue;
            for (int k = 0; k < l->dm_halves; k++) memcpy(p + 4 * k + 2 * h, blk[h] + 2 * k, 2);
            size_t at = 4 * (size_t)l->dm_halves;
            if (l->qh_bytes) memcpy(p + at + (size_t)h * 4, blk[h] + 2 * l->dm_halves, 4);
            at += 2 * (size_t)l->qh_bytes;
            memcpy(p + at + (size_t)h * l->qs_bytes, blk[h] + 2 * l->dm_halves + l->qh_bytes, (size_t)l->qs_bytes);
        }
        out += 2 * bb;
    }
    return out;
}
