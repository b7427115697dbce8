/* The RoPE cos/sin table, one builder for both backends (the CPU fills a
 * batch's rows, the GPU uploads the whole context's), with ggml's
 * arithmetic so that both agree with llama.cpp bit for bit. */
#include <math.h>

#include "model/model.h"

bool model_rope_local_table(const model *m) {
    if (!m->hp.n_swa) return false;
    for (int il = 0; il < m->hp.n_layer; il++)
        if (m->layers[il].local) return m->hp.rope_base_swa != m->hp.rope_base || m->hp.rope_freq_scale != 1.0f;
    return false;
}

int model_first_key(const model *m, const model_layer *ly, int pos) {
    /* llama.cpp masks key p0 for query p1 when p1 - p0 >= n_swa */
    return ly->local && pos >= m->hp.n_swa ? pos - m->hp.n_swa + 1 : 0;
}

void model_rope_table(const model *m, int n_ctx, bool local, int pos0, int n_pos, float *out) {
    const model_hparams *hp = &m->hp;
    const float *factors = m->rope_freqs;
    if (m->rope_long && n_ctx > hp->n_ctx_orig) factors = m->rope_long;
    else if (m->rope_short) factors = m->rope_short;
    int half = hp->rope_dim / 2;
    /* ggml: theta = freq_scale * (p * theta_scale^i / factor) (linear
     * scaling; the local layers of gemma have none) */
    const float freq_scale = local ? 1.0f : hp->rope_freq_scale;
    float theta_scale = powf(local ? hp->rope_base_swa : hp->rope_base, -2.0f / (float)hp->rope_dim);
    /* rope.scaling.attn_factor (Phi-3.5 long-rope) scales cos and sin. */
    float mscale = hp->rope_attn_factor;
    for (int t = 0; t < n_pos; t++) {
        float *cs = out + (size_t)t * hp->rope_dim;
        float theta = (float)(pos0 + t);
        for (int i = 0; i < half; i++) {
            float th = freq_scale * (factors ? theta / factors[i] : theta);
            cs[2 * i] = cosf(th) * mscale;
            cs[2 * i + 1] = sinf(th) * mscale;
            theta *= theta_scale;
        }
    }
}
