/* Shared internals of the tokenizer (tokenizer*.c only). */
#ifndef HEARTH_TOKENIZER_INTERNAL_H
#define HEARTH_TOKENIZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

/* Token attributes, as llama.cpp's llama_token_attr. */
enum {
    TOK_ATTR_UNKNOWN = 1 << 0,
    TOK_ATTR_UNUSED = 1 << 1,
    TOK_ATTR_NORMAL = 1 << 2,
    TOK_ATTR_CONTROL = 1 << 3,
    TOK_ATTR_USER_DEFINED = 1 << 4,
    TOK_ATTR_BYTE = 1 << 5,
    TOK_ATTR_LSTRIP = 1 << 7,
    TOK_ATTR_RSTRIP = 1 << 8,
};

typedef enum { TOK_SPM, TOK_BPE } tok_type;

/* Open-addressing hash table of int32 indices (-1 = empty slot); the keys
 * live elsewhere, the owner compares them. */
typedef struct {
    int32_t *slots;
    size_t mask;
} tok_index;

/* Trie of the special token texts, for finding which occur in a text. */
typedef struct {
    /* transition table: open addressing on (node << 8 | byte) */
    uint64_t *keys; /* 0 = empty; else ((node << 8 | byte) + 1) */
    int32_t *child;
    size_t mask;
    int32_t *token; /* per node: special token ending here, or -1 */
    size_t n_nodes;
} tok_trie;

struct hearth_tokenizer {
    tok_type type;
    char model_name[8];
    char *pre_name; /* tokenizer.ggml.pre as given ("" when absent) */
    pretok_info pre;

    int32_t n_vocab;
    char *text;      /* all token texts, each NUL-terminated */
    size_t *tok_off; /* offset of token i in text */
    uint32_t *tok_len;
    float *scores;
    uint16_t *attr;
    size_t max_token_len;
    tok_index by_text;

    /* BPE merges: "left right" strings in mtext */
    char *mtext;
    size_t *m_off;
    uint32_t *m_split; /* length of left */
    uint32_t *m_len;   /* length of the whole merge string */
    int32_t n_merges;
    tok_index by_pair;

    int32_t byte_tokens[256]; /* SPM byte fallback: id for each byte, -1 if none */

    /* special tokens (control, user-defined, unknown), longest first */
    int32_t *specials;
    int32_t n_specials;
    tok_trie trie;

    int32_t bos, eos, eot, eom, unk;
    int32_t *eog;
    int32_t n_eog;
    bool add_bos, add_space_prefix;
    bool nfc; /* NFC-normalize raw text before pre-tokenizing (HF Qwen2 normalizer) */
    size_t max_piece_len;

    char warning[512];
};

/* Longest text tokenizer_encode takes in one call. */
#define TOK_MAX_TEXT ((size_t)1 << 28)

/* malloc of n elements, NULL when n * size overflows */
static inline void *tok_alloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    if (n == 0 || size == 0) return malloc(1);
    return malloc(n * size);
}

/* growable token output */
typedef struct {
    int32_t *v;
    size_t n, cap;
} tok_vec;

hearth_status tok_vec_push(tok_vec *v, int32_t id, hearth_error *err);

uint64_t tok_hash_bytes(const void *p, size_t n, uint64_t h);
#define TOK_HASH_SEED 0xcbf29ce484222325ull

/* tokenizer_index.c: build the indexes (duplicate token texts are an error;
 * a repeated merge keeps its first rank). */
hearth_status tok_index_tokens(hearth_tokenizer *t, hearth_error *err);
hearth_status tok_index_merges(hearth_tokenizer *t, hearth_error *err);
/* Token id with exactly this text, or -1. */
int32_t tok_lookup(const hearth_tokenizer *t, const char *s, size_t n);
/* Rank of the merge (left, right), or -1. */
int32_t tok_merge_rank(const hearth_tokenizer *t, const char *l, size_t ln, const char *r, size_t rn);

static inline const char *tok_text(const hearth_tokenizer *t, int32_t id) { return t->text + t->tok_off[id]; }

/* tokenizer_piece.c: longest piece of any token (show_special) */
size_t tok_compute_max_piece_len(const hearth_tokenizer *t);

/* tokenizer_special.c */
hearth_status tok_trie_build(hearth_tokenizer *t, hearth_error *err);
void tok_trie_free(tok_trie *trie);

/* A piece of the input after special tokens are split out: a token, or raw
 * text [off, off+len) of the input. */
typedef struct {
    int32_t token; /* -1 for raw text */
    size_t off, len;
} tok_fragment;

hearth_status tok_partition(const hearth_tokenizer *t, const char *text, size_t len, bool parse_special,
                            const uint8_t *protect, tok_fragment **frags, size_t *n_frags, hearth_error *err);

/* tokenizer_spm.c / tokenizer_bpe.c: tokenize one raw fragment, appending to out */
hearth_status spm_encode(const hearth_tokenizer *t, const char *text, size_t len, bool prefix_space,
                         tok_vec *out, hearth_error *err);
hearth_status bpe_encode(const hearth_tokenizer *t, const char *text, size_t len, tok_vec *out,
                         hearth_error *err);

#endif
