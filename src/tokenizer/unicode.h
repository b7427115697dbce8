/* Unicode helpers for the tokenizers: general categories (tables generated
 * from the Unicode Character Database into unicode_tables.c), UTF-8 decoding
 * the way llama.cpp does it, GPT-2 byte-level mapping, and a streaming UTF-8
 * decoder for output. Pure functions over constant tables: no state. */
#ifndef HEARTH_UNICODE_H
#define HEARTH_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNICODE_MAX_CPT 0x110000u
#define UNICODE_REPLACEMENT 0xFFFDu

/* General categories; the order is fixed by tools/gen_unicode_tables.mjs. */
enum unicode_category {
    UCAT_Cn, UCAT_Lu, UCAT_Ll, UCAT_Lt, UCAT_Lm, UCAT_Lo, UCAT_Mn, UCAT_Mc, UCAT_Me, UCAT_Nd,
    UCAT_Nl, UCAT_No, UCAT_Pc, UCAT_Pd, UCAT_Ps, UCAT_Pe, UCAT_Pi, UCAT_Pf, UCAT_Po, UCAT_Sm,
    UCAT_Sc, UCAT_Sk, UCAT_So, UCAT_Zs, UCAT_Zl, UCAT_Zp, UCAT_Cc, UCAT_Cf, UCAT_Cs, UCAT_Co,
    UCAT_COUNT
};

/* Category classes as bit flags (same values as llama.cpp's unicode_cpt_flags). */
enum {
    UFLAG_UNDEFINED = 0x0001,  /* Cn: unassigned */
    UFLAG_NUMBER = 0x0002,     /* \p{N} */
    UFLAG_LETTER = 0x0004,     /* \p{L} */
    UFLAG_SEPARATOR = 0x0008,  /* \p{Z} */
    UFLAG_MARK = 0x0010,       /* \p{M} */
    UFLAG_PUNCT = 0x0020,      /* \p{P} */
    UFLAG_SYMBOL = 0x0040,     /* \p{S} */
    UFLAG_CONTROL = 0x0080,    /* \p{C} except Cn */
    UFLAG_WHITESPACE = 0x0100, /* \s: the White_Space property */
};

/* Generated tables (unicode_tables.c). */
extern const char unicode_tables_version[];
extern const uint32_t unicode_category_ranges[];
extern const size_t unicode_category_ranges_count;
extern const uint32_t unicode_whitespace[];
extern const size_t unicode_whitespace_count;
extern const uint32_t unicode_lowercase[][2];
extern const size_t unicode_lowercase_count;

/* UCAT_Cn for unassigned code points and for cpt >= UNICODE_MAX_CPT. */
enum unicode_category unicode_category(uint32_t cpt);
/* Class flags of a code point; 0 (no class at all) for cpt >= UNICODE_MAX_CPT. */
unsigned unicode_flags(uint32_t cpt);
bool unicode_is_whitespace(uint32_t cpt);
/* Simple lowercase mapping; the code point itself when it has none. */
uint32_t unicode_tolower(uint32_t cpt);

/* ---- UTF-8 ---- */

/* Length of a UTF-8 sequence from its first byte alone, as llama.cpp reads
 * it (continuation bytes and F8..FF count as 1). The SentencePiece tokenizer
 * splits text into symbols this way. */
size_t unicode_len_utf8(uint8_t lead);

/* Decodes one code point at s[*pos] (requires *pos < len) the way llama.cpp
 * does: sequences are checked for their continuation bytes only, so overlong
 * forms and surrogates decode to their value; a byte that does not start a
 * complete sequence decodes to U+FFFD and advances by one byte. Values above
 * U+10FFFF (F4 90.. to F7) also give U+FFFD (llama.cpp throws there). */
uint32_t unicode_decode_lax(const uint8_t *s, size_t len, size_t *pos);

/* Encodes cpt (U+FFFD for cpt > U+10FFFF; surrogates are encoded as is) into
 * out, returns 1..4. */
size_t unicode_encode(uint32_t cpt, uint8_t out[4]);

/* ---- GPT-2 byte-level mapping ---- */

/* The code point that byte b stands for in byte-level BPE vocabularies. */
uint32_t unicode_byte_to_cpt(uint8_t b);
/* The byte a byte-level code point stands for, or -1 when cpt is not one. */
int unicode_cpt_to_byte(uint32_t cpt);

/* ---- streaming UTF-8 output ----
 * Detokenized pieces can end in the middle of a character. A utf8_stream
 * holds back an incomplete sequence until the next piece completes it, so the
 * text it emits is always valid UTF-8. Invalid input follows the WHATWG
 * decoder (what TextDecoder does in the browser and Node): each maximal
 * invalid subsequence becomes one U+FFFD ("\xEF\xBF\xBD"), and a sequence
 * still incomplete at utf8_stream_flush also becomes one U+FFFD. */
typedef struct {
    uint8_t pending[4];
    size_t n;
} utf8_stream;

/* Output never exceeds this for len input bytes (plus what was pending). */
#define UTF8_STREAM_OUT_MAX(len) (3 * ((size_t)(len) + 4))

void utf8_stream_init(utf8_stream *s);
/* Appends bytes; writes the complete characters to out and returns how many
 * bytes it wrote. Output beyond cap is dropped: pass cap >=
 * UTF8_STREAM_OUT_MAX(len) to never lose any. */
size_t utf8_stream_push(utf8_stream *s, const void *bytes, size_t len, char *out, size_t cap);
/* Ends the stream: emits U+FFFD for an incomplete tail; resets s. */
size_t utf8_stream_flush(utf8_stream *s, char *out, size_t cap);

#endif
