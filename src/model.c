/* Reads hyper-parameters and binds weights for llama, phi3 and qwen2.
 * Every tensor's shape is checked against the hyper-parameters, so the
 * forward pass can trust them. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/kernels.h"
#include "ggml_types.h"

const char *model_arch_name(model_arch a) {
    switch (a) {
    case ARCH_LLAMA: return "llama";
    case ARCH_PHI3: return "phi3";
    case ARCH_QWEN2: return "qwen2";
    }
    return "?";
}

typedef struct {
    const gguf_file *g;
    const hearth_host *host;
    model *m;
    const char *file;
    hearth_error *err;
    bool shapes_only; /* matrices: checked, not read */
} loader;

static void *own(loader *L, size_t bytes) {
    model *m = L->m;
    if (m->n_owned == m->cap_owned) {
        int cap = m->cap_owned ? m->cap_owned * 2 : 64;
        void **p = realloc(m->owned, (size_t)cap * sizeof *p);
        if (!p) return NULL;
        m->owned = p;
        m->cap_owned = cap;
    }
    void *p = malloc(bytes ? bytes : 1);
    if (p) m->owned[m->n_owned++] = p;
    return p;
}

static hearth_status key_u32(loader *L, const char *suffix, bool required, uint32_t def, uint32_t max,
                             int *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", L->m->hp.arch_name, suffix);
    uint32_t v = def;
    const gguf_kv *kv = gguf_find(L->g, key);
    if (kv && kv->type == GGUF_TYPE_ARRAY)
        return hearth_fail(L->err, HEARTH_E_UNSUPPORTED, "%s: %s varies per layer, which hearth does not support",
                           L->file, key);
    if (kv && !gguf_get_u32(L->g, key, &v))
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: %s must be a non-negative integer", L->file, key);
    if (!kv && required)
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: metadata %s is missing", L->file, key);
    if (v == 0 || v > max)
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: %s = %u is out of range (1 to %u)", L->file, key, v, max);
    *out = (int)v;
    return HEARTH_OK;
}

static float key_f32(loader *L, const char *suffix, float def) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", L->m->hp.arch_name, suffix);
    float v;
    return gguf_get_f32(L->g, key, &v) ? v : def;
}

/* Pointer to a tensor's bytes: straight into the mapped file, or read
 * through the host into memory the model owns. */
static hearth_status tensor_data(loader *L, const gguf_tensor *t, const void **out, bool *own_copy) {
    const uint8_t *base = L->host->map ? L->host->map(L->host->ctx, t->part) : NULL;
    *own_copy = !base;
    if (base) {
        *out = base + t->offset;
        return HEARTH_OK;
    }
    void *buf = own(L, (size_t)t->size);
    if (!buf)
        return hearth_fail(L->err, HEARTH_E_NOMEM, "%s: out of memory loading tensor %s (%.1f MB)", L->file,
                           t->name.data, (double)t->size / 1e6);
    hearth_status st = L->host->read(L->host->ctx, t->part, t->offset, buf, (size_t)t->size, L->err);
    if (st) return st;
    *out = buf;
    return HEARTH_OK;
}

static const char *supported_list(void) { return "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1"; }

static hearth_status find(loader *L, const char *name, bool required, const gguf_tensor **out) {
    *out = gguf_find_tensor(L->g, name);
    if (!*out) {
        if (!required) return HEARTH_OK;
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: tensor %s is missing (architecture %s)", L->file, name,
                           L->m->hp.arch_name);
    }
    if (!ggml_type_supported((*out)->type))
        return hearth_fail(L->err, HEARTH_E_UNSUPPORTED,
                           "%s: tensor %s has type %s, which hearth cannot run yet (supported: %s)", L->file,
                           name, ggml_type_name((*out)->type), supported_list());
    return HEARTH_OK;
}

static hearth_status bind_matrix(loader *L, const char *name, bool required, int cols, int rows, weight *w) {
    const gguf_tensor *t;
    hearth_status st = find(L, name, required, &t);
    if (st || !t) return st;
    if (t->n_dims != 2 || t->ne[0] != (uint64_t)cols || t->ne[1] != (uint64_t)rows)
        return hearth_fail(L->err, HEARTH_E_FORMAT,
                           "%s: tensor %s has shape [%llu, %llu, %llu], expected [%d, %d] for this model's sizes",
                           L->file, name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
                           (unsigned long long)t->ne[2], cols, rows);
    w->type = t->type;
    w->rows = rows;
    w->cols = cols;
    ggml_row_bytes(t->type, (uint64_t)cols, &w->row_bytes);
    w->src = t;
    L->m->weight_bytes += t->size;
    if (L->shapes_only) return HEARTH_OK;
    return tensor_data(L, t, &w->data, &w->own_copy);
}

/* Vectors (norms, biases, rope factors) are converted to f32 once. */
static hearth_status bind_vector(loader *L, const char *name, bool required, int n, const float **out) {
    const gguf_tensor *t;
    *out = NULL;
    hearth_status st = find(L, name, required, &t);
    if (st || !t) return st;
    if (t->n_dims != 1 || t->ne[0] != (uint64_t)n)
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: tensor %s has %llu elements in %u dimensions, expected %d",
                           L->file, name, (unsigned long long)t->ne[0], t->n_dims, n);
    const void *src;
    bool own_copy;
    st = tensor_data(L, t, &src, &own_copy);
    if (st) return st;
    float *v = own(L, (size_t)n * sizeof *v);
    if (!v) return hearth_fail(L->err, HEARTH_E_NOMEM, "%s: out of memory", L->file);
    kernels_dequantize_row(t->type, src, v, n);
    L->m->weight_bytes += t->size;
    *out = v;
    return HEARTH_OK;
}

static hearth_status read_hparams(loader *L) {
    model_hparams *hp = &L->m->hp;
    gguf_str arch;
    if (!gguf_get_str(L->g, "general.architecture", &arch))
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: metadata general.architecture is missing", L->file);
    if (strcmp(arch.data, "llama") == 0) hp->arch = ARCH_LLAMA;
    else if (strcmp(arch.data, "phi3") == 0) hp->arch = ARCH_PHI3;
    else if (strcmp(arch.data, "qwen2") == 0) hp->arch = ARCH_QWEN2;
    else
        return hearth_fail(L->err, HEARTH_E_UNSUPPORTED,
                           "%s: architecture \"%.40s\" is not supported (hearth runs llama, phi3, qwen2)", L->file,
                           arch.data);
    snprintf(hp->arch_name, sizeof hp->arch_name, "%s", arch.data);

    hearth_status st;
    if ((st = key_u32(L, "embedding_length", true, 0, 65536, &hp->n_embd))) return st;
    if ((st = key_u32(L, "block_count", true, 0, 1024, &hp->n_layer))) return st;
    if ((st = key_u32(L, "feed_forward_length", true, 0, 1 << 20, &hp->n_ff))) return st;
    if ((st = key_u32(L, "attention.head_count", true, 0, 4096, &hp->n_head))) return st;
    if ((st = key_u32(L, "attention.head_count_kv", false, (uint32_t)hp->n_head, 4096, &hp->n_head_kv))) return st;
    if ((st = key_u32(L, "context_length", false, 2048, 1 << 24, &hp->n_ctx_train))) return st;
    if (hp->n_embd % hp->n_head)
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: embedding length %d is not a multiple of %d heads",
                           L->file, hp->n_embd, hp->n_head);
    if ((st = key_u32(L, "attention.key_length", false, (uint32_t)(hp->n_embd / hp->n_head), 4096, &hp->head_dim)))
        return st;
    if (hp->n_head % hp->n_head_kv)
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: %d attention heads are not a multiple of %d kv heads",
                           L->file, hp->n_head, hp->n_head_kv);
    if ((st = key_u32(L, "rope.dimension_count", false, (uint32_t)hp->head_dim, (uint32_t)hp->head_dim,
                      &hp->rope_dim)))
        return st;
    if (hp->rope_dim % 2 || hp->head_dim % 2)
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: rope dimension %d / head size %d must be even", L->file,
                           hp->rope_dim, hp->head_dim);
    hp->rms_eps = key_f32(L, "attention.layer_norm_rms_epsilon", 1e-5f);
    hp->rope_base = key_f32(L, "rope.freq_base", 10000.0f);
    if (!(hp->rms_eps > 0 && hp->rms_eps < 1) || !(hp->rope_base > 1))
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: rms epsilon %g or rope base %g is out of range", L->file,
                           hp->rms_eps, hp->rope_base);
    /* llama's GGUF weights are permuted for interleaved rope; the others keep NeoX halves. */
    hp->rope_neox = hp->arch != ARCH_LLAMA;
    hp->n_ctx_orig = hp->n_ctx_train;
    if (hp->arch == ARCH_PHI3) {
        int orig = 0;
        if (!key_u32(L, "rope.scaling.original_context_length", false, (uint32_t)hp->n_ctx_train, 1 << 24, &orig))
            hp->n_ctx_orig = orig;
    }
    hp->rope_attn_factor = key_f32(L, "rope.scaling.attn_factor", 1.0f);
    uint32_t ft = 0;
    gguf_get_u32(L->g, "general.file_type", &ft);
    hp->file_type = ft;
    return HEARTH_OK;
}

static hearth_status bind_layer(loader *L, int il) {
    model *m = L->m;
    model_hparams *hp = &m->hp;
    model_layer *ly = &m->layers[il];
    int q_dim = hp->n_head * hp->head_dim, kv_dim = hp->n_head_kv * hp->head_dim;
    char name[96];
    hearth_status st;
#define NAME(s) (snprintf(name, sizeof name, "blk.%d.%s", il, s), name)
    if ((st = bind_vector(L, NAME("attn_norm.weight"), true, hp->n_embd, &ly->attn_norm))) return st;
    if ((st = bind_vector(L, NAME("ffn_norm.weight"), true, hp->n_embd, &ly->ffn_norm))) return st;
    if ((st = bind_matrix(L, NAME("attn_output.weight"), true, q_dim, hp->n_embd, &ly->wo))) return st;
    if ((st = bind_matrix(L, NAME("ffn_down.weight"), true, hp->n_ff, hp->n_embd, &ly->down))) return st;
    if (hp->arch == ARCH_PHI3) {
        if ((st = bind_matrix(L, NAME("attn_qkv.weight"), true, hp->n_embd, q_dim + 2 * kv_dim, &ly->wqkv)))
            return st;
        if ((st = bind_matrix(L, NAME("ffn_up.weight"), true, hp->n_embd, 2 * hp->n_ff, &ly->gate_up))) return st;
        return HEARTH_OK;
    }
    if ((st = bind_matrix(L, NAME("attn_q.weight"), true, hp->n_embd, q_dim, &ly->wq))) return st;
    if ((st = bind_matrix(L, NAME("attn_k.weight"), true, hp->n_embd, kv_dim, &ly->wk))) return st;
    if ((st = bind_matrix(L, NAME("attn_v.weight"), true, hp->n_embd, kv_dim, &ly->wv))) return st;
    if ((st = bind_matrix(L, NAME("ffn_gate.weight"), true, hp->n_embd, hp->n_ff, &ly->gate))) return st;
    if ((st = bind_matrix(L, NAME("ffn_up.weight"), true, hp->n_embd, hp->n_ff, &ly->up))) return st;
    bool biases = hp->arch == ARCH_QWEN2;
    if ((st = bind_vector(L, NAME("attn_q.bias"), biases, q_dim, &ly->bq))) return st;
    if ((st = bind_vector(L, NAME("attn_k.bias"), biases, kv_dim, &ly->bk))) return st;
    if ((st = bind_vector(L, NAME("attn_v.bias"), biases, kv_dim, &ly->bv))) return st;
#undef NAME
    return HEARTH_OK;
}

static hearth_status load(model **out, const gguf_file *g, const hearth_host *host, bool shapes_only,
                          hearth_error *err) {
    *out = NULL;
    model *m = calloc(1, sizeof *m);
    if (!m) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    loader L = {.g = g, .host = host, .m = m, .file = gguf_name(g), .err = err, .shapes_only = shapes_only};
    hearth_status st = read_hparams(&L);
    if (st) goto fail;
    model_hparams *hp = &m->hp;

    const gguf_tensor *emb = gguf_find_tensor(g, "token_embd.weight");
    if (!emb || emb->n_dims != 2 || emb->ne[0] != (uint64_t)hp->n_embd || emb->ne[1] > (1u << 24)) {
        st = hearth_fail(err, HEARTH_E_FORMAT, "%s: tensor token_embd.weight is missing or not [%d, vocab]",
                         L.file, hp->n_embd);
        goto fail;
    }
    hp->n_vocab = (int)emb->ne[1];
    if ((st = bind_matrix(&L, "token_embd.weight", true, hp->n_embd, hp->n_vocab, &m->tok_embd))) goto fail;
    if ((st = bind_vector(&L, "output_norm.weight", true, hp->n_embd, &m->output_norm))) goto fail;
    if ((st = bind_matrix(&L, "output.weight", false, hp->n_embd, hp->n_vocab, &m->output))) goto fail;
    if (!m->output.src) m->output = m->tok_embd; /* tied embeddings */
    if ((st = bind_vector(&L, "rope_freqs.weight", false, hp->rope_dim / 2, &m->rope_freqs))) goto fail;
    if ((st = bind_vector(&L, "rope_factors_long.weight", false, hp->rope_dim / 2, &m->rope_long))) goto fail;
    if ((st = bind_vector(&L, "rope_factors_short.weight", false, hp->rope_dim / 2, &m->rope_short))) goto fail;

    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) {
        st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
        goto fail;
    }
    for (int il = 0; il < hp->n_layer; il++)
        if ((st = bind_layer(&L, il))) goto fail;
    *out = m;
    return HEARTH_OK;
fail:
    model_free(m);
    return st;
}

hearth_status model_load(model **out, const gguf_file *g, const hearth_host *host, hearth_error *err) {
    return load(out, g, host, false, err);
}

hearth_status model_load_shapes(model **out, const gguf_file *g, const hearth_host *host, hearth_error *err) {
    return load(out, g, host, true, err);
}

/* Replaces a matrix read into the model's memory by the kernels' packed
 * copy, if they make one (the original is freed: peak memory is one
 * matrix more than either). */
static void pack(model *m, weight *w, const hearth_kernels *k) {
    if (!w->data || !w->own_copy) return;
    int slot = -1;
    for (int i = 0; i < m->n_owned; i++)
        if (m->owned[i] == w->data) slot = i;
    void *packed;
    uint64_t row_bytes;
    uint32_t type = w->type;
    if (slot < 0 || !kernels_pack_weight(k, &type, w->data, w->rows, w->cols, &packed, &row_bytes)) return;
    free(m->owned[slot]);
    m->owned[slot] = packed;
    w->data = packed;
    w->type = type;
    w->row_bytes = row_bytes;
}

void model_pack_weights(model *m, const hearth_kernels *k) {
    const void *embd = m->tok_embd.data;
    pack(m, &m->tok_embd, k);
    if (m->output.data == embd) m->output = m->tok_embd; /* tied: the same bytes */
    else pack(m, &m->output, k);
    for (int il = 0; il < m->hp.n_layer; il++) {
        weight *all[] = {&m->layers[il].wq,  &m->layers[il].wk,   &m->layers[il].wv,      &m->layers[il].wqkv,
                         &m->layers[il].wo,  &m->layers[il].gate, &m->layers[il].up,      &m->layers[il].gate_up,
                         &m->layers[il].down};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) pack(m, all[i], k);
    }
}

void model_free(model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->layers);
    free(m);
}
