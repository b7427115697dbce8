/* The RoPE cos/sin table, one builder for both backends (the CPU fills a
 * batch's rows, the GPU uploads the whole context's), with ggml's
 * arithmetic so that both agree with llama.cpp bit for bit. */
#include <math.h>

#include "model/model.h"

void model_rope_table(const model *m, int n_ctx, int pos0, int n_pos, float *out) {
    const model_hparams *hp = &m->hp;
    const float *factors = m->rope_freqs;
    if (m->rope_long && n_ctx > hp->n_ctx_orig) factors = m->rope_long;
    else if (m->rope_short) factors = m->rope_short;
    int half = hp->rope_dim / 2;
    float theta_scale = powf(hp->rope_base, -2.0f / (float)hp->rope_dim);
    /* rope.scaling.attn_factor (Phi-3.5 long-rope) scales cos and sin. */
    float mscale = hp->rope_attn_factor;
    for (int t = 0; t < n_pos; t++) {
        float *cs = out + (size_t)t * hp->rope_dim;
        float theta = (float)(pos0 + t);
        for (int i = 0; i < half; i++) {
            float th = factors ? theta / factors[i] : theta;
            cs[2 * i] = cosf(th) * mscale;
            cs[2 * i + 1] = sinf(th) * mscale;
            theta *= theta_scale;
        }
    }
}
