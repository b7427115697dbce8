/* Tokenizer: loading from GGUF metadata (as llama.cpp's llama_vocab::load),
 * the public queries, and encode, which splits out special tokens and hands
 * the raw text between them to the SPM or BPE tokenizer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/normalize.h"
#include "tokenizer/tokenizer_internal.h"

#define KEY "tokenizer.ggml."

static void warn(hearth_tokenizer *t, const char *fmt, const char *arg) {
    size_t used = strlen(t->warning);
    if (used + 1 >= sizeof t->warning) return;
    snprintf(t->warning + used, sizeof t->warning - used, fmt, arg);
    used = strlen(t->warning);
    if (used + 1 < sizeof t->warning) {
        t->warning[used] = '\n';
        t->warning[used + 1] = 0;
    }
}

static bool text_is(const hearth_tokenizer *t, int32_t id, const char *s) {
    size_t n = strlen(s);
    return t->tok_len[id] == n && memcmp(tok_text(t, id), s, n) == 0;
}

/* ---- token texts, scores, types ---- */

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static hearth_status load_tokens(hearth_tokenizer *t, const gguf_file *g, hearth_error *err) {
    uint32_t et;
    uint64_t n;
    const void *data;
    if (!gguf_get_array(g, KEY "tokens", &et, &n, &data))
        return hearth_fail(err, HEARTH_E_FORMAT, "no tokenizer vocabulary (" KEY "tokens) in the model");
    if (et != GGUF_TYPE_STRING)
        return hearth_fail(err, HEARTH_E_FORMAT, KEY "tokens is an array of %s, not of strings", gguf_type_name(et));
    if (n == 0 || n > INT32_MAX)
        return hearth_fail(err, HEARTH_E_FORMAT, KEY "tokens has %llu entries", (unsigned long long)n);
    const gguf_str *toks = data;
    t->n_vocab = (int32_t)n;

    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len = toks[i].len ? toks[i].len : 32; /* room for "[EMPTY_i]" */
        if (len >= UINT32_MAX || len + 1 > SIZE_MAX - total)
            return hearth_fail(err, HEARTH_E_FORMAT, KEY "tokens: token %llu is too long", (unsigned long long)i);
        total += len + 1;
    }
    t->text = malloc(total);
    t->tok_off = tok_alloc(n, sizeof *t->tok_off);
    t->tok_len = tok_alloc(n, sizeof *t->tok_len);
    t->scores = calloc(n, sizeof *t->scores);
    t->attr = tok_alloc(n, sizeof *t->attr);
    if (!t->text || !t->tok_off || !t->tok_len || !t->scores || !t->attr)
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory for a vocabulary of %llu tokens",
                           (unsigned long long)n);
    size_t off = 0;
    for (uint64_t i = 0; i < n; i++) {
        t->tok_off[i] = off;
        if (toks[i].len == 0) {
            /* llama.cpp renames empty tokens */
            int k = snprintf(t->text + off, 32, "[EMPTY_%llu]", (unsigned long long)i);
            t->tok_len[i] = (uint32_t)k;
        } else {
            memcpy(t->text + off, toks[i].data, toks[i].len);
            t->tok_len[i] = (uint32_t)toks[i].len;
        }
        off += t->tok_len[i];
        t->text[off++] = 0;
        if (t->tok_len[i] > t->max_token_len) t->max_token_len = t->tok_len[i];
    }

    if (gguf_get_array(g, KEY "scores", &et, &n, &data)) {
        if (et != GGUF_TYPE_FLOAT32 && et != GGUF_TYPE_INT32)
            return hearth_fail(err, HEARTH_E_FORMAT, KEY "scores is an array of %s, not of float32", gguf_type_name(et));
        if (n < (uint64_t)t->n_vocab)
            return hearth_fail(err, HEARTH_E_FORMAT, KEY "scores has %llu entries for %d tokens",
                               (unsigned long long)n, (int)t->n_vocab);
        for (int32_t i = 0; i < t->n_vocab; i++) {
            if (et == GGUF_TYPE_FLOAT32) memcpy(&t->scores[i], (const char *)data + 4 * (size_t)i, 4);
            else {
                int32_t v;
                memcpy(&v, (const char *)data + 4 * (size_t)i, 4);
                t->scores[i] = (float)v;
            }
        }
    } else if (gguf_find(g, KEY "scores")) {
        return hearth_fail(err, HEARTH_E_FORMAT, KEY "scores is not an array");
    }

    for (int32_t i = 0; i < t->n_vocab; i++) t->attr[i] = TOK_ATTR_NORMAL;
    if (gguf_get_array(g, KEY "token_type", &et, &n, &data)) {
        if (et != GGUF_TYPE_INT32)
            return hearth_fail(err, HEARTH_E_FORMAT, KEY "token_type is an array of %s, not of int32", gguf_type_name(et));
        if (n < (uint64_t)t->n_vocab)
            return hearth_fail(err, HEARTH_E_FORMAT, KEY "token_type has %llu entries for %d tokens",
                               (unsigned long long)n, (int)t->n_vocab);
        for (int32_t i = 0; i < t->n_vocab; i++) {
            int32_t v;
            memcpy(&v, (const char *)data + 4 * (size_t)i, 4);
            static const uint16_t attr_of_type[7] = {0, TOK_ATTR_NORMAL, TOK_ATTR_UNKNOWN, TOK_ATTR_CONTROL,
                                                     TOK_ATTR_USER_DEFINED, TOK_ATTR_UNUSED, TOK_ATTR_BYTE};
            t->attr[i] = (v >= 0 && v <= 6) ? attr_of_type[v] : 0;
        }
    } else if (gguf_find(g, KEY "token_type")) {
        return hearth_fail(err, HEARTH_E_FORMAT, KEY "token_type is not an array");
    }

    /* byte tokens must read <0xNN>: token_to_piece turns them into that byte */
    for (int32_t i = 0; i < t->n_vocab; i++) {
        if (!(t->attr[i] & TOK_ATTR_BYTE)) continue;
        const char *s = tok_text(t, i);
        if (t->tok_len[i] != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>' || !is_hex(s[3]) || !is_hex(s[4]))
            return hearth_fail(err, HEARTH_E_FORMAT, "token %d is a byte token but reads \"%.40s\", not <0xNN>",
                               (int)i, s);
    }
    return tok_index_tokens(t, err);
}

static hearth_status load_merges(hearth_tokenizer *t, const gguf_file *g, hearth_error *err) {
    uint32_t et;
    uint64_t n;
    const void *data;
    if (!gguf_get_array(g, KEY "merges", &et, &n, &data))
        return hearth_fail(err, HEARTH_E_FORMAT, "BPE tokenizer without merges (" KEY "merges)");
    if (et != GGUF_TYPE_STRING)
        return hearth_fail(err, HEARTH_E_FORMAT, KEY "merges is an array of %s, not of strings", gguf_type_name(et));
    if (n > INT32_MAX)
        return hearth_fail(err, HEARTH_E_FORMAT, KEY "merges has %llu entries", (unsigned long long)n);
    const gguf_str *ms = data;
    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (ms[i].len >= UINT32_MAX || ms[i].len + 1 > SIZE_MAX - total)
            return hearth_fail(err, HEARTH_E_FORMAT, KEY "merges: merge %llu is too long", (unsigned long long)i);
        total += ms[i].len + 1;
    }
    t->n_merges = (int32_t)n;
    t->mtext = malloc(total ? total : 1);
    t->m_off = tok_alloc(n, sizeof *t->m_off);
    t->m_split = tok_alloc(n, sizeof *t->m_split);
    t->m_len = tok_alloc(n, sizeof *t->m_len);
    if (!t->mtext || !t->m_off || !t->m_split || !t->m_len)
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory for %llu merges", (unsigned long long)n);
    size_t off = 0;
    for (uint64_t i = 0; i < n; i++) {
        const char *s = ms[i].data;
        size_t len = (size_t)ms[i].len;
        /* as llama.cpp: split at the first space after the first byte */
        const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
        if (!sp)
            return hearth_fail(err, HEARTH_E_FORMAT, KEY "merges: merge %llu (\"%.40s\") is not \"left right\"",
                               (unsigned long long)i, len ? s : "");
        memcpy(t->mtext + off, s, len);
        t->mtext[off + len] = 0;
        t->m_off[i] = off;
        t->m_split[i] = (uint32_t)(sp - s);
        t->m_len[i] = (uint32_t)len;
        off += len + 1;
    }
    return tok_index_merges(t, err);
}

/* ---- special ids, flags, end-of-generation set (llama_vocab::impl::load) ---- */

static void read_id(hearth_tokenizer *t, const gguf_file *g, const char *key, int32_t *id) {
    if (*id >= t->n_vocab) *id = -1; /* a default out of range is disabled */
    uint32_t v;
    if (!gguf_get_u32(g, key, &v)) return;
    if (v >= (uint32_t)t->n_vocab) {
        warn(t, "%s is out of the vocabulary's range; ignored", key);
        return;
    }
    *id = (int32_t)v;
}

static int32_t find_text(const hearth_tokenizer *t, const char *const *texts) {
    for (; *texts; texts++) {
        int32_t id = tok_lookup(t, *texts, strlen(*texts));
        if (id >= 0) return id;
    }
    return -1;
}

/* llama.cpp turns the tokens it finds by their text ("control-looking
 * tokens") into control tokens, which is also what Hugging Face does for the
 * chat tokens a converter mistyped (they are added tokens there). One
 * exception follows Hugging Face instead: "</s>" typed normal in a byte-level
 * BPE vocabulary (Qwen2/2.5/3) is an ordinary vocabulary token in
 * tokenizer.json (not an added token; the merges never produce it), and it is
 * also common text (HTML strikethrough). It stays normal: never matched in
 * text, its piece always shown; it still ends generation. See docs/tokenizers.md. */
static void make_control(hearth_tokenizer *t, int32_t id) {
    if (t->type == TOK_BPE && (t->attr[id] & TOK_ATTR_NORMAL) && t->tok_len[id] == 4 && !memcmp(tok_text(t, id), "</s>", 4))
        return;
    t->attr[id] |= TOK_ATTR_CONTROL;
}

/* When the id was not given, find the token by its text (and make it control). */
static void detect(hearth_tokenizer *t, int32_t *id, const char *const *texts) {
    if (*id >= 0) return;
    *id = find_text(t, texts);
    if (*id >= 0) make_control(t, *id);
}

#define FW_BAR "\xef\xbd\x9c" /* U+FF5C, DeepSeek's fullwidth bar */
#define SP_MARK "\xe2\x96\x81" /* U+2581 */

static const char *const eot_texts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                        "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
                                        "<" FW_BAR "end" SP_MARK "of" SP_MARK "sentence" FW_BAR ">",
                                        "<end_of_utterance>", NULL};
static const char *const eom_texts[] = {"<|eom_id|>", NULL};
static const char *const fim_pre_texts[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
                                            "<" FW_BAR "fim" SP_MARK "begin" FW_BAR ">", "<PRE>", SP_MARK "<PRE>",
                                            "<|code_prefix|>", "<|prefix|>", NULL};
static const char *const fim_suf_texts[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                                            "<" FW_BAR "fim" SP_MARK "hole" FW_BAR ">", "<SUF>", SP_MARK "<SUF>",
                                            "<|code_suffix|>", "<|suffix|>", NULL};
static const char *const fim_mid_texts[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                                            "<" FW_BAR "fim" SP_MARK "end" FW_BAR ">", "<MID>", SP_MARK "<MID>",
                                            "<|code_middle|>", "<|middle|>", NULL};
static const char *const fim_pad_texts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL};
static const char *const fim_rep_texts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
                                            "<reponame>", NULL};
static const char *const fim_sep_texts[] = {"<|file_sep|>", NULL};
static const char *const eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<" FW_BAR "end" SP_MARK "of" SP_MARK "sentence" FW_BAR ">", "[e~[", NULL};

static hearth_status eog_add(hearth_tokenizer *t, int32_t id, hearth_error *err) {
    if (id < 0 || id >= t->n_vocab) return HEARTH_OK;
    for (int32_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return HEARTH_OK;
    int32_t *e = realloc(t->eog, ((size_t)t->n_eog + 1) * sizeof *e);
    if (!e) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    t->eog = e;
    t->eog[t->n_eog++] = id;
    return HEARTH_OK;
}

static void eog_remove(hearth_tokenizer *t, int32_t id) {
    for (int32_t i = 0; i < t->n_eog; i++) {
        if (t->eog[i] == id) {
            t->eog[i] = t->eog[--t->n_eog];
            return;
        }
    }
}

static int32_t eog_with_text(const hearth_tokenizer *t, const char *s) {
    for (int32_t i = 0; i < t->n_eog; i++)
        if (text_is(t, t->eog[i], s)) return t->eog[i];
    return -1;
}

static hearth_status load_specials(hearth_tokenizer *t, const gguf_file *g, hearth_error *err) {
    int32_t fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
    t->eot = t->eom = -1;
    read_id(t, g, KEY "bos_token_id", &t->bos);
    read_id(t, g, KEY "eos_token_id", &t->eos);
    read_id(t, g, KEY "eot_token_id", &t->eot);
    read_id(t, g, KEY "eom_token_id", &t->eom);
    read_id(t, g, KEY "unknown_token_id", &t->unk);
    read_id(t, g, KEY "fim_pre_token_id", &fim_pre);
    read_id(t, g, KEY "fim_suf_token_id", &fim_suf);
    read_id(t, g, KEY "fim_mid_token_id", &fim_mid);
    read_id(t, g, KEY "fim_pad_token_id", &fim_pad);
    read_id(t, g, KEY "fim_rep_token_id", &fim_rep);
    read_id(t, g, KEY "fim_sep_token_id", &fim_sep);
    read_id(t, g, KEY "prefix_token_id", &fim_pre);
    read_id(t, g, KEY "suffix_token_id", &fim_suf);
    read_id(t, g, KEY "middle_token_id", &fim_mid);

    bool b;
    if (gguf_get_bool(g, KEY "add_bos_token", &b)) t->add_bos = b;
    if (gguf_get_bool(g, KEY "add_space_prefix", &b)) t->add_space_prefix = b;

    /* tokens found by their text become control tokens (llama.cpp: "control-looking token") */
    detect(t, &t->eot, eot_texts);
    detect(t, &t->eom, eom_texts);
    detect(t, &fim_pre, fim_pre_texts);
    detect(t, &fim_suf, fim_suf_texts);
    detect(t, &fim_mid, fim_mid_texts);
    detect(t, &fim_pad, fim_pad_texts);
    detect(t, &fim_rep, fim_rep_texts);
    detect(t, &fim_sep, fim_sep_texts);

    hearth_status st;
    if ((st = eog_add(t, fim_pad, err)) || (st = eog_add(t, fim_rep, err)) || (st = eog_add(t, fim_sep, err)))
        return st;
    for (const char *const *s = eog_texts; *s; s++) {
        int32_t id = tok_lookup(t, *s, strlen(*s));
        if (id < 0) continue;
        if ((st = eog_add(t, id, err))) return st;
        make_control(t, id);
    }
    /* gpt-oss: these are always rendered */
    static const char *const gpt_oss[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};
    for (const char *const *s = gpt_oss; *s; s++) {
        int32_t id = tok_lookup(t, *s, strlen(*s));
        if (id >= 0) t->attr[id] = TOK_ATTR_USER_DEFINED;
    }
    if ((st = eog_add(t, t->eos, err)) || (st = eog_add(t, t->eot, err)) || (st = eog_add(t, t->eom, err)))
        return st;
    /* o200k_harmony and solar-open: <|end|> does not end generation there */
    int32_t end_id = eog_with_text(t, "<|end|>");
    bool has_return = eog_with_text(t, "<|return|>") >= 0;
    bool has_call = eog_with_text(t, "<|call|>") >= 0 || eog_with_text(t, "<|calls|>") >= 0;
    bool has_flush = eog_with_text(t, "<|flush|>") >= 0;
    if (end_id >= 0 && ((has_return && has_call) || (has_call && has_flush))) {
        eog_remove(t, end_id);
        t->attr[end_id] = TOK_ATTR_USER_DEFINED;
    }
    /* gemma4 and paddleocr: </s> is not an end of generation there */
    int32_t s_id = eog_with_text(t, "</s>");
    if (s_id >= 0 && eog_with_text(t, "<|tool_response>") >= 0) {
        eog_remove(t, s_id);
        t->attr[s_id] = TOK_ATTR_NORMAL;
    }
    return HEARTH_OK;
}

/* Whether s, lowercased (ASCII), contains needle. */
static bool contains_lower(gguf_str s, const char *needle) {
    size_t n = strlen(needle);
    for (uint64_t i = 0; i + n <= s.len; i++) {
        size_t k = 0;
        while (k < n) {
            char c = s.data[i + k];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (c != needle[k]) break;
            k++;
        }
        if (k == n) return true;
    }
    return false;
}

typedef struct {
    uint32_t len;
    int32_t id;
} special_key;

static int cmp_special_key(const void *a, const void *b) {
    const special_key *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static hearth_status build_specials(hearth_tokenizer *t, const gguf_file *g, hearth_error *err) {
    int32_t n = 0;
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (t->attr[i] & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED | TOK_ATTR_UNKNOWN)) n++;
    special_key *keys = tok_alloc((size_t)n + 1, sizeof *keys);
    t->specials = tok_alloc((size_t)n + 1, sizeof *t->specials);
    if (!keys || !t->specials) {
        free(keys);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory for %d special tokens", (int)n);
    }
    n = 0;
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (t->attr[i] & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED | TOK_ATTR_UNKNOWN))
            keys[n++] = (special_key){t->tok_len[i], i};
    qsort(keys, (size_t)n, sizeof *keys, cmp_special_key);
    for (int32_t i = 0; i < n; i++) t->specials[i] = keys[i].id;
    t->n_specials = n;
    free(keys);

    /* Phi-3 (by general.name, as llama.cpp): special tokens eat the white space after them */
    gguf_str name;
    if (gguf_get_str(g, "general.name", &name)) {
        bool phi3 = contains_lower(name, "phi-3") || contains_lower(name, "phi3");
        if (phi3) {
            for (int32_t i = 0; i < t->n_specials; i++) t->attr[t->specials[i]] |= TOK_ATTR_RSTRIP;
            int32_t id = tok_lookup(t, "</s>", 4);
            if (id >= 0) t->attr[id] |= TOK_ATTR_RSTRIP;
            static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>", NULL};
            for (const char *const *s = keep; *s; s++) {
                id = tok_lookup(t, *s, strlen(*s));
                if (id >= 0) t->attr[id] &= (uint16_t)~TOK_ATTR_RSTRIP;
            }
        }
    }
    return tok_trie_build(t, err);
}

static hearth_status load(hearth_tokenizer *t, const gguf_file *g, hearth_error *err) {
    gguf_str model;
    if (!gguf_get_str(g, KEY "model", &model))
        return hearth_fail(err, HEARTH_E_FORMAT, "the model has no tokenizer (" KEY "model)");
    if (model.len == 5 && memcmp(model.data, "llama", 5) == 0) {
        t->type = TOK_SPM;
        strcpy(t->model_name, "llama");
    } else if (model.len == 4 && memcmp(model.data, "gpt2", 4) == 0) {
        t->type = TOK_BPE;
        strcpy(t->model_name, "gpt2");
    } else {
        return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                           "tokenizer model \"%.40s\" is not supported (hearth reads \"llama\" and \"gpt2\")",
                           model.len < 40 ? model.data : "(long name)");
    }

    gguf_str pre = {0, ""};
    gguf_get_str(g, KEY "pre", &pre);
    t->pre_name = malloc((size_t)pre.len + 1);
    if (!t->pre_name) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    memcpy(t->pre_name, pre.data, (size_t)pre.len);
    t->pre_name[pre.len] = 0;

    hearth_status st = load_tokens(t, g, err);
    if (st) return st;

    if (t->type == TOK_SPM) {
        t->bos = 1;
        t->eos = 2;
        t->unk = 0;
        t->add_bos = true;
        t->add_space_prefix = true;
    } else {
        if ((st = load_merges(t, g, err))) return st;
        t->bos = 11;
        t->eos = 11;
        t->unk = -1;
        if (pre.len == 0) {
            warn(t, "missing pre-tokenizer type (%s), using 'default'", KEY "pre");
            pretok_lookup("default", 7, &t->pre);
        } else if (!pretok_lookup(pre.data, (size_t)pre.len, &t->pre)) {
            warn(t, "unknown pre-tokenizer type '%s', using 'default'", t->pre_name);
        }
        if (t->pre.no_bos) t->bos = -1;
        t->add_bos = t->pre.add_bos;
        t->add_space_prefix = false;
        /* Hugging Face's Qwen2/2.5/3 tokenizer.json normalizes to NFC; GGUFs
         * do not store the normalizer, so the pre-tokenizer name tells. */
        t->nfc = pre.len == 5 && memcmp(pre.data, "qwen2", 5) == 0;
    }
    if ((st = load_specials(t, g, err))) return st;
    if ((st = build_specials(t, g, err))) return st;

    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        int32_t id = tok_lookup(t, hex, 6);
        if (id < 0) {
            char c = (char)b;
            id = tok_lookup(t, &c, 1);
        }
        t->byte_tokens[b] = id;
    }
    t->max_piece_len = tok_compute_max_piece_len(t);
    return HEARTH_OK;
}

hearth_status tokenizer_load(hearth_tokenizer **out, const gguf_file *g, hearth_error *err) {
    *out = NULL;
    hearth_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    hearth_status st = load(t, g, err);
    if (st) {
        tokenizer_free(t);
        return st;
    }
    *out = t;
    return HEARTH_OK;
}

void tokenizer_free(hearth_tokenizer *t) {
    if (!t) return;
    free(t->pre_name);
    free(t->text);
    free(t->tok_off);
    free(t->tok_len);
    free(t->scores);
    free(t->attr);
    free(t->by_text.slots);
    free(t->mtext);
    free(t->m_off);
    free(t->m_split);
    free(t->m_len);
    free(t->by_pair.slots);
    free(t->specials);
    tok_trie_free(&t->trie);
    free(t->eog);
    free(t);
}

/* ---- encode ---- */

hearth_status tokenizer_encode(const hearth_tokenizer *t, const char *text, size_t len, bool parse_special,
                               int32_t **out, size_t *n_out, hearth_error *err) {
    return tokenizer_encode_protected(t, text, len, parse_special, NULL, out, n_out, err);
}

hearth_status tokenizer_encode_protected(const hearth_tokenizer *t, const char *text, size_t len, bool parse_special,
                                         const uint8_t *protect, int32_t **out, size_t *n_out, hearth_error *err) {
    *out = NULL;
    *n_out = 0;
    if (len == 0) return HEARTH_OK;
    if (!text) return hearth_fail(err, HEARTH_E_ARG, "tokenizer_encode: text is NULL");
    if (len > TOK_MAX_TEXT)
        return hearth_fail(err, HEARTH_E_ARG, "a text of %zu bytes is too long to tokenize at once (at most %zu)", len,
                           TOK_MAX_TEXT);

    tok_fragment *frags = NULL;
    size_t n_frags = 0;
    hearth_status st = tok_partition(t, text, len, parse_special, protect, &frags, &n_frags, err);
    if (st) return st;

    tok_vec v = {0};
    bool prev_special = true; /* SPM: the first raw text gets the space prefix */
    for (size_t i = 0; i < n_frags && !st; i++) {
        const tok_fragment *f = &frags[i];
        if (f->token >= 0) {
            st = tok_vec_push(&v, f->token, err);
            prev_special = true;
        } else if (t->type == TOK_SPM) {
            st = spm_encode(t, text + f->off, f->len, t->add_space_prefix && prev_special, &v, err);
            prev_special = false;
        } else if (t->nfc && !nfc_is_quick_yes(text + f->off, f->len)) {
            char *norm;
            size_t nlen;
            if (!nfc_normalize(text + f->off, f->len, &norm, &nlen)) {
                st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory normalizing %zu bytes", f->len);
                break;
            }
            st = bpe_encode(t, norm, nlen, &v, err);
            free(norm);
        } else {
            st = bpe_encode(t, text + f->off, f->len, &v, err);
        }
    }
    free(frags);
    if (st) {
        free(v.v);
        return st;
    }
    *out = v.v;
    *n_out = v.n;
    return HEARTH_OK;
}

/* ---- queries ---- */

int32_t tokenizer_vocab_size(const hearth_tokenizer *t) { return t->n_vocab; }
int32_t tokenizer_bos(const hearth_tokenizer *t) { return t->bos; }
int32_t tokenizer_eos(const hearth_tokenizer *t) { return t->eos; }
bool tokenizer_add_bos(const hearth_tokenizer *t) { return t->add_bos && t->bos >= 0; }

bool tokenizer_is_eog(const hearth_tokenizer *t, int32_t id) {
    for (int32_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return true;
    return false;
}

bool tokenizer_is_control(const hearth_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab && (t->attr[id] & (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN));
}

const char *tokenizer_token_text(const hearth_tokenizer *t, int32_t id) {
    return (id >= 0 && id < t->n_vocab) ? tok_text(t, id) : "";
}

const char *tokenizer_model_name(const hearth_tokenizer *t) { return t->model_name; }
const char *tokenizer_pre_name(const hearth_tokenizer *t) { return t->pre_name; }
const char *tokenizer_warnings(const hearth_tokenizer *t) { return t->warning; }
