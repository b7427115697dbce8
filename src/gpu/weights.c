#include "weights.h"

#include <string.h>

#include "model/ggml_types.h"

/* A GPU block's bytes (gpu_block_elems values of the GGUF type). */
static uint64_t gpu_block_bytes(const ggml_type_info *t) {
    return (uint64_t)t->block_bytes * t->gpu_block_elems / t->block_elems;
}

/* How the parts of a paired type's GGUF block are split over the pair: the
 * d (and m) halves, the fifth bits, the quants; or (d_at > 0: Q3_K, Q6_K,
 * whose f16 d ends their 110- and 210-byte blocks) [d0 | d1] then each
 * block's other bytes in their GGUF order, 27 and 52 words. */
typedef struct {
    uint32_t type;
    int dm_halves; /* 1: d; 2: d, m */
    int qh_bytes;  /* 4 for Q5 */
    int qs_bytes;
    int d_at;      /* > 0: the block's d is at this byte, the rest kept whole */
} pair_layout;

static const pair_layout pairs[] = {
    {GGML_TYPE_Q8_0, 1, 0, 32, 0},   {GGML_TYPE_Q4_0, 1, 0, 16, 0}, {GGML_TYPE_Q4_1, 2, 0, 16, 0},
    {GGML_TYPE_Q5_0, 1, 4, 16, 0},   {GGML_TYPE_Q5_1, 2, 4, 16, 0}, {GGML_TYPE_IQ4_NL, 1, 0, 16, 0},
    {GGML_TYPE_Q3_K, 1, 0, 0, 108},  {GGML_TYPE_Q6_K, 1, 0, 0, 208},
};

static const ggml_type_info *gpu_info(uint32_t type) {
    const ggml_type_info *t = ggml_type_info_of(type);
    return t && t->gpu_wgsl && t->gpu_block_elems ? t : NULL;
}

static const pair_layout *pair_of(uint32_t type) {
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        if (pairs[i].type == type) return &pairs[i];
    return NULL;
}

bool gpu_type_supported(uint32_t type) {
    const ggml_type_info *t = gpu_info(type);
    /* a paired type also needs its split described here */
    return t && (!t->gpu_pairs || pair_of(type));
}

const char *gpu_type_wgsl(uint32_t type) { return gpu_type_supported(type) ? gpu_info(type)->gpu_wgsl : NULL; }

int gpu_type_block(uint32_t type) { return gpu_type_supported(type) ? gpu_info(type)->gpu_block_elems : 0; }

bool gpu_type_pairs(uint32_t type) { return gpu_type_supported(type) && gpu_info(type)->gpu_pairs; }

int gpu_type_act(uint32_t type) {
    if (!gpu_type_supported(type)) return 0;
    switch (gpu_info(type)->act) {
    case GGML_TYPE_F16: return 1;
    case GGML_TYPE_BF16: return 2;
    case GGML_TYPE_Q8_0:
    case GGML_TYPE_Q8_1: return 3;
    case GGML_TYPE_Q8_K: return 4;
    default: return 0;
    }
}

uint64_t gpu_blocks_bytes(uint32_t type, uint64_t n_blocks) {
    if (!gpu_type_supported(type)) return 0;
    const ggml_type_info *t = gpu_info(type);
    if (!t->gpu_pairs) return n_blocks * gpu_block_bytes(t);
    return (n_blocks + 1) / 2 * 2 * gpu_block_bytes(t);
}

/* A pair: [d0 d1] ([m0 m1]) (qh0 qh1) qs0 qs1, from GGUF's d (m) (qh) qs per
 * block; or [d0 d1] rest0 rest1. Other types (and Q2_K, Q4_K, Q5_K,
 * IQ4_XS, whose 84, 144, 176 and 136 bytes are whole words) as they are. */
size_t gpu_repack(uint32_t type, const uint8_t *src, size_t n_blocks, uint8_t *dst) {
    if (!gpu_type_supported(type)) return 0;
    const ggml_type_info *t = gpu_info(type);
    size_t bb = (size_t)gpu_block_bytes(t), out = 0;
    if (!t->gpu_pairs) {
        memcpy(dst, src, n_blocks * bb);
        return n_blocks * bb;
    }
    const pair_layout *l = pair_of(type);
    for (size_t b = 0; b < n_blocks; b += 2) {
        const uint8_t *blk[2] = {src + b * bb, b + 1 < n_blocks ? src + (b + 1) * bb : NULL};
        uint8_t *p = dst + out;
        memset(p, 0, 2 * bb);
        for (int h = 0; h < 2; h++) {
            if (!blk[h]) continue;
            if (l->d_at) {
                size_t rest = bb - 2;
                memcpy(p + 2 * h, blk[h] + l->d_at, 2);
                memcpy(p + 4 + (size_t)h * rest, blk[h], (size_t)l->d_at);
                memcpy(p + 4 + (size_t)h * rest + l->d_at, blk[h] + l->d_at + 2, bb - (size_t)l->d_at - 2);
                continue;
            }
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
