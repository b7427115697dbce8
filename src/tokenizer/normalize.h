/* Unicode NFC normalization (canonical decomposition, canonical ordering,
 * canonical composition; UAX #15), from tables generated out of the Unicode
 * Character Database (normalize_tables.c, tools/gen_unicode_tables.mjs).
 * Used for tokenizers whose Hugging Face normalizer is NFC (Qwen2/2.5/3). */
#ifndef HEARTH_NORMALIZE_H
#define HEARTH_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const uint32_t nfc_ccc_ranges[][3];
extern const size_t nfc_ccc_ranges_count;
extern const uint32_t nfc_decomp[][3];
extern const size_t nfc_decomp_count;
extern const uint32_t nfc_decomp_pool[];
extern const uint32_t nfc_compose[][3];
extern const size_t nfc_compose_count;
extern const uint32_t nfc_maybe_ranges[][2];
extern const size_t nfc_maybe_ranges_count;

/* Canonical combining class of a code point (0 for starters). */
unsigned nfc_ccc(uint32_t cpt);
/* The primary composite of a + b, or 0 when there is none (Hangul included). */
uint32_t nfc_compose_pair(uint32_t a, uint32_t b);

/* True when len bytes of text are certainly NFC already (quick check: no
 * code point that NFC could touch). Invalid UTF-8 bytes count as starters. */
bool nfc_is_quick_yes(const char *text, size_t len);

/* NFC of len bytes of text into a malloc'ed buffer (*out, *out_len; NUL
 * terminated, not counted). Maximal valid UTF-8 stretches are normalized;
 * bytes that are not valid UTF-8 are copied unchanged and block composition
 * across them. NFC never lengthens UTF-8 by more than 3x. Returns false when
 * out of memory. */
bool nfc_normalize(const char *text, size_t len, char **out, size_t *out_len);

#endif
