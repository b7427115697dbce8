/* Pre-tokenizers of byte-level BPE vocabularies: split text (as code points)
 * into words before merges run. Each pre-tokenizer is the regex of the
 * model's tokenizer.json, written as a hand-made matcher over Unicode
 * categories that reproduces llama.cpp's splitting exactly (its custom
 * gpt2/llama3/qwen2 matchers and, for the other regexes, what std::regex
 * does on its category-collapsed text), except gpt-4o, which follows
 * Hugging Face where llama.cpp's collapsed text loses marks and letter case
 * (docs/tokenizers.md). */
#ifndef HEARTH_PRETOKENIZE_H
#define HEARTH_PRETOKENIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    PRETOK_DEFAULT, /* llama.cpp's fallback: punctuation runs, gpt2, \p{N}+, [0-9]{3} */
    PRETOK_GPT2,    /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
    PRETOK_LLAMA3,  /* (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
    PRETOK_QWEN2,   /* as LLAMA3 with single digits: \p{N} */
    PRETOK_QWEN35,  /* as QWEN2 with [\p{L}\p{M}]+ for letters */
    PRETOK_SMOLLM,  /* \p{N} split first, then GPT2 (starcoder, smollm, command-r, ...) */
    PRETOK_FALCON,  /* [\p{P}\$\+<=>\^~\|`]+, then GPT2, then [0-9]{3} */
    PRETOK_GPT4O,   /* o200k: [^\r\n\p{L}\p{N}]?U*W+C?|[^\r\n\p{L}\p{N}]?U+W*C?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|
                     * \s*[\r\n]+|\s+(?!\S)|\s+ with U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], W = [\p{Ll}\p{Lm}\p{Lo}\p{M}],
                     * C = (?i:'s|'t|'re|'ve|'m|'ll|'d) */
    PRETOK_DEEPSEEK_LLM,   /* [\r\n], \s?[Latin Greek Cyrillic ... letters]+, \s?[!-/:-~ fullwidth ‘-‟ 　-。]+,
                            * \s+$, [CJK Hangul ...]+, \p{N}+ */
    PRETOK_DEEPSEEK_CODER, /* [\r\n], \s?\p{L}+, \s?\p{P}+, [CJK Hangul ...]+, \p{N} */
} pretok_kind;

/* What a tokenizer.ggml.pre name selects, following llama.cpp's list. */
typedef struct {
    pretok_kind kind;
    bool ignore_merges; /* a word that is a token is used whole (llama3) */
    bool add_bos;       /* llama.cpp's add_bos default for this pre-tokenizer */
    bool no_bos;        /* the vocabulary has no BOS token (chatglm) */
} pretok_info;

/* Looks up a pre-tokenizer name (len bytes). Returns false when unknown; *info
 * then holds the default pre-tokenizer. */
bool pretok_lookup(const char *name, size_t len, pretok_info *info);
const char *pretok_kind_name(pretok_kind kind);

/* Splits cpts[0..n) into words and returns their number (<= n); word i is
 * lens[i] code points long. flags, lens and work (scratch) must each hold n
 * entries. */
size_t pretokenize(pretok_kind kind, const uint32_t *cpts, size_t n, uint16_t *flags, size_t *lens,
                   size_t *work);

#endif
