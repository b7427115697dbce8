/* Reads hyper-parameters and binds weights by walking the architecture's
 * description (arch.h). Every tensor's shape is checked against the
 * hyper-parameters, so the backends can trust them. */
#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/kernels.h"
#include "model/ggml_types.h"

const char *model_arch_name(model_arch a) {
    for (size_t i = 0; arch_row(i); i++)
        if (arch_row(i)->id == a) return arch_row(i)->name;
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

static hearth_status key_f32(loader *L, const arch_f32_key *k, float *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", L->m->hp.arch_name, k->key);
    float v;
    if (!gguf_get_f32(L->g, key, &v)) v = k->def;
    if (!(v > k->lo && v < k->hi))
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: %s = %g is out of range (%g to %g)", L->file, key, v, k->lo,
                           k->hi);
    *out = v;
    return HEARTH_OK;
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

static hearth_status find(loader *L, const char *name, bool required, const gguf_tensor **out) {
    *out = gguf_find_tensor(L->g, name);
    if (!*out) {
        if (!required) return HEARTH_OK;
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: tensor %s is missing (architecture %s)", L->file, name,
                           L->m->hp.arch_name);
    }
    if (!ggml_type_runs((*out)->type)) {
        char list[160];
        ggml_type_list(false, list, sizeof list);
        return hearth_fail(L->err, HEARTH_E_UNSUPPORTED,
                           "%s: tensor %s has type %s, which hearth cannot run yet (supported: %s)", L->file,
                           name, ggml_type_name((*out)->type), list);
    }
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

/* The default or bound of a key, from the values read before it. */
static uint32_t key_value(const model_hparams *hp, arch_key_value kind, uint32_t value) {
    switch (kind) {
    case KEY_N_HEAD: return (uint32_t)hp->n_head;
    case KEY_EMBD_PER_HEAD: return (uint32_t)(hp->n_embd / hp->n_head);
    case KEY_HEAD_DIM: return (uint32_t)hp->head_dim;
    case KEY_CTX_TRAIN: return (uint32_t)hp->n_ctx_train;
    case KEY_REQUIRED:
    case KEY_CONST: break;
    }
    return value;
}

static hearth_status read_keys(loader *L) {
    model_hparams *hp = &L->m->hp;
    hearth_status st;
    for (size_t i = 0; i < arch_n_u32_keys; i++) {
        const arch_u32_key *k = &arch_u32_keys[i];
        int *field = (int *)((char *)hp + k->field);
        if (k->def == KEY_EMBD_PER_HEAD && hp->n_embd % hp->n_head)
            return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: embedding length %d is not a multiple of %d heads",
                               L->file, hp->n_embd, hp->n_head);
        uint32_t def = key_value(hp, k->def, k->value);
        if ((k->only_if & hp->flags) != k->only_if) {
            *field = (int)def; /* the row has no such key */
            continue;
        }
        if ((st = key_u32(L, k->key, k->def == KEY_REQUIRED, def, key_value(hp, k->max_kind, k->max), field)))
            return st;
    }
    for (size_t i = 0; i < arch_n_f32_keys; i++) {
        const arch_f32_key *k = &arch_f32_keys[i];
        float *field = (float *)((char *)hp + k->field);
        if ((k->only_if & hp->flags) != k->only_if) *field = k->def;
        else if ((st = key_f32(L, k, field))) return st;
    }
    return HEARTH_OK;
}

/* rope.scaling.type: linear scaling divides every angle by
 * rope.scaling.factor (Gemma 3 4B's global layers); long-rope (phi3) has
 * its own keys; others (yarn) are refused rather than run wrong. */
static hearth_status read_rope_scaling(loader *L) {
    model_hparams *hp = &L->m->hp;
    char key[128];
    gguf_str type = {0, ""};
    hp->rope_freq_scale = 1.0f;
    snprintf(key, sizeof key, "%s.rope.scaling.type", hp->arch_name);
    if (!gguf_get_str(L->g, key, &type) || (type.len == 4 && !memcmp(type.data, "none", 4))) return HEARTH_OK;
    if (type.len == 8 && !memcmp(type.data, "longrope", 8) && (hp->flags & ARCH_LONG_ROPE)) return HEARTH_OK;
    if (!(type.len == 6 && !memcmp(type.data, "linear", 6)))
        return hearth_fail(L->err, HEARTH_E_UNSUPPORTED, "%s: %s \"%.*s\" is not supported (hearth runs linear)",
                           L->file, key, (int)(type.len > 20 ? 20 : type.len), type.data);
    float factor = 1.0f;
    snprintf(key, sizeof key, "%s.rope.scaling.factor", hp->arch_name);
    gguf_get_f32(L->g, key, &factor);
    if (!(factor >= 1.0f && factor < 1e6f))
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: %s = %g is out of range (1 to 1e6)", L->file, key, factor);
    hp->rope_freq_scale = 1.0f / factor;
    return HEARTH_OK;
}

/* ARCH_SLIDING_WINDOW: the window, and which layers are local:
 * attention.sliding_window_pattern is either a per-layer array of bools
 * (true: local) or n (every n-th layer global, the others local), as
 * llama.cpp reads it. */
static hearth_status read_sliding_window(loader *L) {
    model *m = L->m;
    model_hparams *hp = &m->hp;
    if (!(hp->flags & ARCH_SLIDING_WINDOW)) return HEARTH_OK;
    char key[128];
    uint32_t n_swa = hp->desc->swa_default, pattern = hp->desc->swa_pattern, type;
    uint64_t count;
    const void *data;
    snprintf(key, sizeof key, "%s.attention.sliding_window", hp->arch_name);
    if (gguf_find(L->g, key) && (!gguf_get_u32(L->g, key, &n_swa) || n_swa > (1u << 24)))
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: %s must be an integer from 0 to %u", L->file, key, 1u << 24);
    hp->n_swa = (int)n_swa;
    if (!n_swa) return HEARTH_OK;
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", hp->arch_name);
    if (gguf_get_array(L->g, key, &type, &count, &data)) {
        if (type != GGUF_TYPE_BOOL || count < (uint64_t)hp->n_layer)
            return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: %s must be %d booleans or one integer", L->file, key,
                               hp->n_layer);
        for (int il = 0; il < hp->n_layer; il++) m->layers[il].local = ((const uint8_t *)data)[il] != 0;
        return HEARTH_OK;
    }
    if (gguf_find(L->g, key) && (!gguf_get_u32(L->g, key, &pattern) || pattern > 1024))
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: %s must be %d booleans or one integer up to 1024", L->file,
                           key, hp->n_layer);
    for (int il = 0; il < hp->n_layer; il++) m->layers[il].local = pattern == 0 || (uint32_t)il % pattern < pattern - 1;
    return HEARTH_OK;
}

hearth_status model_arch_of(const gguf_file *g, const char *file, const arch_desc **out, hearth_error *err) {
    gguf_str arch;
    if (!gguf_get_str(g, "general.architecture", &arch))
        return hearth_fail(err, HEARTH_E_FORMAT, "%s: metadata general.architecture is missing", file);
    const arch_desc *d = arch_find(arch.data);
    if (!d) {
        char names[128];
        arch_names(names, sizeof names);
        return hearth_fail(err, HEARTH_E_UNSUPPORTED, "%s: architecture \"%.40s\" is not supported (hearth runs %s)",
                           file, arch.data, names);
    }
    hearth_status st = model_arch_runs_on(d, false, file, err);
    if (st) return st;
    *out = d;
    return HEARTH_OK;
}

hearth_status model_arch_runs_on(const arch_desc *d, bool gpu, const char *file, hearth_error *err) {
    char missing[160];
    arch_missing(d, gpu ? ARCH_RUNS_GPU : ARCH_RUNS, missing, sizeof missing);
    if (missing[0])
        return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                           "%s: architecture %s needs %s, which hearth's %s backend does not run yet%s", file, d->name,
                           missing, gpu ? "WebGPU" : "CPU", gpu ? " (the CPU backend runs it)" : "");
    return HEARTH_OK;
}

static hearth_status read_hparams(loader *L) {
    model_hparams *hp = &L->m->hp;
    const arch_desc *d;
    hearth_status st = model_arch_of(L->g, L->file, &d, L->err);
    if (st) return st;
    hp->arch = d->id;
    hp->desc = d;
    hp->flags = d->flags;
    hp->rope_neox = d->rope == ROPE_NEOX;
    snprintf(hp->arch_name, sizeof hp->arch_name, "%s", d->name);

    st = read_keys(L); /* (it checks n_embd % n_head where the head size's default needs it) */
    if (st) return st;
    if (hp->n_head % hp->n_head_kv)
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: %d attention heads are not a multiple of %d kv heads",
                           L->file, hp->n_head, hp->n_head_kv);
    if (hp->rope_dim % 2 || hp->head_dim % 2)
        return hearth_fail(L->err, HEARTH_E_FORMAT, "%s: rope dimension %d / head size %d must be even", L->file,
                           hp->rope_dim, hp->head_dim);
    if ((st = read_rope_scaling(L))) return st;
    /* llama.cpp's values (gemma: ggml_scale by sqrtf(n_embd); Q by
     * 1/sqrt(head_dim), Gemma 2/3 27B's n_embd/n_head aside, which hearth
     * does not tell apart) */
    hp->embd_scale = hp->flags & ARCH_EMBD_SCALE ? sqrtf((float)hp->n_embd) : 1.0f;
    hp->q_scale = 1.0f / sqrtf((float)hp->head_dim);
    uint32_t ft = 0;
    gguf_get_u32(L->g, "general.file_type", &ft);
    hp->file_type = ft;
    return HEARTH_OK;
}

static int dim(const model_hparams *hp, arch_dim d) {
    int q = hp->n_head * hp->head_dim, kv = hp->n_head_kv * hp->head_dim;
    switch (d) {
    case DIM_EMBD: return hp->n_embd;
    case DIM_Q: return q;
    case DIM_KV: return kv;
    case DIM_QKV: return q + 2 * kv;
    case DIM_FF: return hp->n_ff;
    case DIM_FF2: return 2 * hp->n_ff;
    case DIM_HEAD: return hp->head_dim;
    case DIM_VOCAB: return hp->n_vocab;
    case DIM_ROPE_HALF: return hp->rope_dim / 2;
    }
    return 0;
}

/* Binds the catalogue's tensors that the row selects into the struct at
 * base (the model, or a layer), names prefixed with prefix ("blk.3."). */
static hearth_status bind_tensors(loader *L, const arch_tensor *ts, size_t n, const char *prefix, void *base) {
    const model_hparams *hp = &L->m->hp;
    for (size_t i = 0; i < n; i++) {
        const arch_tensor *t = &ts[i];
        if ((t->only_if & hp->flags) != t->only_if || (t->not_if & hp->flags)) continue;
        bool required = t->need == NEED_REQUIRED || (t->need == NEED_IF_FLAG && (hp->flags & t->flag)) ||
                        (t->need == NEED_UNLESS_FLAG && !(hp->flags & t->flag));
        char name[96];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        void *field = (char *)base + t->field;
        hearth_status st = t->matrix ? bind_matrix(L, name, required, dim(hp, t->cols), dim(hp, t->rows), field)
                                     : bind_vector(L, name, required, dim(hp, t->cols), field);
        if (st) return st;
    }
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
    if ((st = bind_tensors(&L, arch_global_tensors, arch_n_global_tensors, "", m))) goto fail;
    if (!m->output.src) m->output = m->tok_embd; /* tied embeddings */

    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) {
        st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
        goto fail;
    }
    for (int il = 0; il < hp->n_layer; il++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "blk.%d.", il);
        if ((st = bind_tensors(&L, arch_layer_tensors, arch_n_layer_tensors, prefix, &m->layers[il]))) goto fail;
        m->layers[il].n_qkv = hp->flags & ARCH_FUSED_QKV ? 1 : 3;
        m->layers[il].n_gate_up = hp->flags & ARCH_FUSED_GATE_UP ? 1 : 2;
        m->layers[il].rope = !(hp->flags & ARCH_ROPE_SKIP) || (il + 1) % (int)hp->desc->rope_skip != 0;
    }
    if ((st = read_sliding_window(&L))) goto fail;
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
        model_layer *ly = &m->layers[il];
        for (int i = 0; i < ly->n_qkv; i++) pack(m, &ly->qkv[i], k);
        for (int i = 0; i < ly->n_gate_up; i++) pack(m, &ly->gate_up[i], k);
        pack(m, &ly->wo, k);
        pack(m, &ly->down, k);
    }
}

int model_matrices(const model *m, const weight **out, int max) {
    int n = 0;
#define PUT(w) (n < max ? (void)(out[n] = (w)) : (void)0, n++)
    PUT(&m->tok_embd);
    if (m->output.src != m->tok_embd.src) PUT(&m->output);
    for (int il = 0; il < m->hp.n_layer; il++) {
        const model_layer *ly = &m->layers[il];
        for (int i = 0; i < ly->n_qkv; i++) PUT(&ly->qkv[i]);
        PUT(&ly->wo);
        for (int i = 0; i < ly->n_gate_up; i++) PUT(&ly->gate_up[i]);
        PUT(&ly->down);
    }
#undef PUT
    return n;
}

uint64_t model_decode_bytes(const model *m) {
    uint64_t sum = 0;
    for (int il = 0; il < m->hp.n_layer; il++) {
        const model_layer *ly = &m->layers[il];
        const weight *w[] = {&ly->qkv[0], &ly->qkv[1], &ly->qkv[2], &ly->wo, &ly->gate_up[0], &ly->gate_up[1], &ly->down};
        for (size_t i = 0; i < sizeof w / sizeof *w; i++) {
            if ((i < 3 && (int)i >= ly->n_qkv) || ((i == 4 || i == 5) && (int)i - 4 >= ly->n_gate_up)) continue;
            sum += (uint64_t)w[i]->rows * w[i]->row_bytes;
        }
    }
    /* the whole output matrix, tied or not; the token table gives one row */
    sum += (uint64_t)m->output.rows * m->output.row_bytes;
    if (m->output.src != m->tok_embd.src) sum += m->tok_embd.row_bytes;
    return sum;
}

void model_free(model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->layers);
    free(m);
}
