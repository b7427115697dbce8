/* Tokenizer unit tests: Unicode tables and UTF-8 helpers, the streaming
 * detokenizer, stories260K (ids from llama.cpp), small hand-made SPM and BPE
 * vocabularies (merge order, special-token splitting, pre-tokenizers, EOG),
 * metadata that must be refused with a message, and random and degenerate
 * inputs that must not crash or go quadratic. The comparison with llama.cpp
 * on real vocabularies is tests/e2e/tokenize.test.mjs. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "model/gguf.h"
#include "tokenizer/normalize.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "test_io.h"

#define STORIES "../shared/models/stories260K.gguf"

/* ---- helpers ---- */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The result of an encode as "1 2 3" in out (or "ERROR: ..."); frees ids. */
static const char *ids_text(hearth_status st, int32_t *ids, size_t n, const hearth_error *err, char *out, size_t cap) {
    if (st) {
        snprintf(out, cap, "ERROR: %s", err->message);
        return out;
    }
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && o + 16 < cap; i++) o += (size_t)snprintf(out + o, cap - o, i ? " %d" : "%d", ids[i]);
    free(ids);
    return out;
}

/* Encodes text; returns the ids as "1 2 3" in a static buffer (or "ERROR: ..."). */
static const char *enc(const hearth_tokenizer *t, const char *text, size_t len, bool special) {
    static char out[4096];
    int32_t *ids = NULL;
    size_t n = 0;
    hearth_error err;
    hearth_status st = tokenizer_encode(t, text, len, special, &ids, &n, &err);
    return ids_text(st, ids, n, &err, out, sizeof out);
}

static const char *encs(const hearth_tokenizer *t, const char *text, bool special) {
    return enc(t, text, strlen(text), special);
}

/* Encodes text with parse_special where marks (one '1' or '0' per byte of text: '1' = from a request) allow. */
static const char *encp(const hearth_tokenizer *t, const char *text, const char *marks) {
    static char out[4096];
    uint8_t protect[256];
    size_t len = strlen(text);
    for (size_t i = 0; i < len && i < sizeof protect; i++) protect[i] = marks[i] == '1';
    int32_t *ids = NULL;
    size_t n = 0;
    hearth_error err;
    if (len > sizeof protect || strlen(marks) != len) return "ERROR: marks do not match the text";
    hearth_status st = tokenizer_encode_protected(t, text, len, true, protect, &ids, &n, &err);
    return ids_text(st, ids, n, &err, out, sizeof out);
}

/* Concatenated pieces of the ids of text (show_special), malloc'ed; *n its length. */
static char *roundtrip(const hearth_tokenizer *t, const char *text, size_t len, size_t *n) {
    int32_t *ids;
    size_t n_ids;
    hearth_error err;
    *n = 0;
    if (tokenizer_encode(t, text, len, false, &ids, &n_ids, &err)) return NULL;
    size_t cap = tokenizer_max_piece_len(t) * n_ids + 1;
    char *out = malloc(cap);
    for (size_t i = 0; i < n_ids; i++) *n += tokenizer_piece(t, ids[i], true, out + *n, cap - *n);
    free(ids);
    return out;
}

/* ---- a GGUF image builder for hand-made vocabularies ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
    uint64_t n_kv;
} gb;

static void put(gb *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void u32(gb *b, uint32_t v) { put(b, &v, 4); }
static void u64(gb *b, uint64_t v) { put(b, &v, 8); }
static void sstr(gb *b, const char *s) {
    u64(b, strlen(s));
    put(b, s, strlen(s));
}
static gb gb_begin(void) {
    gb b = {0};
    put(&b, "GGUF", 4);
    u32(&b, 3);
    u64(&b, 0); /* tensors */
    u64(&b, 0); /* kv, patched by gb_open */
    return b;
}
static void key(gb *b, const char *k, uint32_t type) {
    sstr(b, k);
    u32(b, type);
    b->n_kv++;
}
static void kv_str(gb *b, const char *k, const char *v) {
    key(b, k, GGUF_TYPE_STRING);
    sstr(b, v);
}
static void kv_u32(gb *b, const char *k, uint32_t v) {
    key(b, k, GGUF_TYPE_UINT32);
    u32(b, v);
}
static void kv_bool(gb *b, const char *k, bool v) {
    key(b, k, GGUF_TYPE_BOOL);
    uint8_t x = v;
    put(b, &x, 1);
}
static void kv_strs(gb *b, const char *k, const char *const *v, size_t n) {
    key(b, k, GGUF_TYPE_ARRAY);
    u32(b, GGUF_TYPE_STRING);
    u64(b, n);
    for (size_t i = 0; i < n; i++) sstr(b, v[i]);
}
static void kv_f32s(gb *b, const char *k, const float *v, size_t n) {
    key(b, k, GGUF_TYPE_ARRAY);
    u32(b, GGUF_TYPE_FLOAT32);
    u64(b, n);
    put(b, v, 4 * n);
}
static void kv_i32s(gb *b, const char *k, const int32_t *v, size_t n) {
    key(b, k, GGUF_TYPE_ARRAY);
    u32(b, GGUF_TYPE_INT32);
    u64(b, n);
    put(b, v, 4 * n);
}
/* Parses the image and loads a tokenizer from it; frees the image. */
static hearth_status gb_load(gb *b, hearth_tokenizer **t, hearth_error *err) {
    memcpy(b->p + 16, &b->n_kv, 8);
    gguf_file *g;
    hearth_status st = gguf_open_memory(&g, b->p, b->n, "test.gguf", err);
    free(b->p);
    *t = NULL;
    if (st) return st;
    st = tokenizer_load(t, g, err);
    gguf_free(g);
    return st;
}

/* ---- vocabularies ---- */

enum { T_NORMAL = 1, T_UNKNOWN = 2, T_CONTROL = 3, T_USER = 4, T_UNUSED = 5, T_BYTE = 6 };

typedef struct {
    const char *text;
    float score;
    int32_t type;
} tokdef;

/* SPM: <unk> <s> </s>, 256 byte tokens (ids 3..258), then extra tokens from 259. */
static gb spm_image(const tokdef *extra, size_t n_extra, const char *name) {
    size_t n = 3 + 256 + n_extra;
    const char **texts = malloc(n * sizeof *texts);
    float *scores = malloc(n * sizeof *scores);
    int32_t *types = malloc(n * sizeof *types);
    static char bytes[256][8];
    texts[0] = "<unk>", texts[1] = "<s>", texts[2] = "</s>";
    types[0] = T_UNKNOWN, types[1] = T_CONTROL, types[2] = T_CONTROL;
    for (int i = 0; i < 256; i++) {
        snprintf(bytes[i], sizeof bytes[i], "<0x%02X>", i);
        texts[3 + i] = bytes[i];
        types[3 + i] = T_BYTE;
    }
    for (size_t i = 0; i < 259; i++) scores[i] = 0;
    for (size_t i = 0; i < n_extra; i++) {
        texts[259 + i] = extra[i].text;
        scores[259 + i] = extra[i].score;
        types[259 + i] = extra[i].type;
    }
    gb b = gb_begin();
    kv_str(&b, "general.architecture", "llama");
    if (name) kv_str(&b, "general.name", name);
    kv_str(&b, "tokenizer.ggml.model", "llama");
    kv_strs(&b, "tokenizer.ggml.tokens", texts, n);
    kv_f32s(&b, "tokenizer.ggml.scores", scores, n);
    kv_i32s(&b, "tokenizer.ggml.token_type", types, n);
    free(texts);
    free(scores);
    free(types);
    return b;
}

/* BPE: ids 0..255 are the byte-level characters of bytes 0..255, then extra tokens. */
static gb bpe_image(const char *pre, const tokdef *extra, size_t n_extra, const char *const *merges, size_t n_merges) {
    size_t n = 256 + n_extra;
    const char **texts = malloc(n * sizeof *texts);
    int32_t *types = malloc(n * sizeof *types);
    static char chars[256][4];
    for (int i = 0; i < 256; i++) {
        uint8_t u[4];
        size_t k = unicode_encode(unicode_byte_to_cpt((uint8_t)i), u);
        memcpy(chars[i], u, k);
        chars[i][k] = 0;
        texts[i] = chars[i];
        types[i] = T_NORMAL;
    }
    for (size_t i = 0; i < n_extra; i++) {
        texts[256 + i] = extra[i].text;
        types[256 + i] = extra[i].type;
    }
    gb b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "gpt2");
    if (pre) kv_str(&b, "tokenizer.ggml.pre", pre);
    kv_strs(&b, "tokenizer.ggml.tokens", texts, n);
    kv_i32s(&b, "tokenizer.ggml.token_type", types, n);
    kv_strs(&b, "tokenizer.ggml.merges", merges, n_merges);
    free(texts);
    free(types);
    return b;
}

static const tokdef bpe_extra[] = {
    {"he", 0, T_NORMAL},     {"ll", 0, T_NORMAL},    {"hell", 0, T_NORMAL}, {"hello", 0, T_NORMAL},
    {"\xc4\xa0w", 0, T_NORMAL}, {"or", 0, T_NORMAL}, {"\xc4\xa0wor", 0, T_NORMAL}, {"\xc4\xa0worl", 0, T_NORMAL},
    {"\xc4\xa0world", 0, T_NORMAL}, {"xyz", 0, T_NORMAL}, {"<|im_end|>", 0, T_NORMAL}, {"<think>", 0, T_USER},
    {"aa", 0, T_NORMAL}, {"aaaa", 0, T_NORMAL}, {"12", 0, T_NORMAL}, {"123", 0, T_NORMAL},
    {"</s>", 0, T_NORMAL},
};
/* ids: he 256, ll 257, hell 258, hello 259, Ġw 260, or 261, Ġwor 262, Ġworl 263, Ġworld 264,
 * xyz 265, <|im_end|> 266, <think> 267, aa 268, aaaa 269, 12 270, 123 271, </s> 272 */
static const char *const bpe_merges[] = {
    "h e", "l l", "he ll", "hell o", "\xc4\xa0 w", "o r", "\xc4\xa0w or", "\xc4\xa0wor l", "\xc4\xa0worl d",
    "a a", "aa aa", "1 2", "12 3",
};

static hearth_tokenizer *bpe_vocab(const char *pre) {
    gb b = bpe_image(pre, bpe_extra, sizeof bpe_extra / sizeof bpe_extra[0], bpe_merges,
                     sizeof bpe_merges / sizeof bpe_merges[0]);
    hearth_tokenizer *t;
    hearth_error err;
    if (gb_load(&b, &t, &err)) {
        printf("# bpe vocab: %s\n", err.message);
        return NULL;
    }
    return t;
}

/* ---- tests ---- */

static void test_unicode(void) {
    CHECK("category of A", unicode_category('A') == UCAT_Lu, "%d", unicode_category('A'));
    CHECK("category of e-acute", unicode_category(0xE9) == UCAT_Ll, "%d", unicode_category(0xE9));
    CHECK("category of Arabic-Indic 3", unicode_category(0x663) == UCAT_Nd, "%d", unicode_category(0x663));
    CHECK("category of a CJK ideograph", unicode_category(0x4E2D) == UCAT_Lo, "%s", "");
    CHECK("CJK extension I (Unicode 15.1, as llama.cpp) is a letter", unicode_flags(0x2EBF0) == UFLAG_LETTER, "%x",
          unicode_flags(0x2EBF0));
    CHECK("combining grave is a mark", unicode_flags(0x300) == UFLAG_MARK, "%s", "");
    CHECK("space is separator and white space", unicode_flags(' ') == (UFLAG_SEPARATOR | UFLAG_WHITESPACE), "%x",
          unicode_flags(' '));
    CHECK("tab is control and white space", unicode_flags('\t') == (UFLAG_CONTROL | UFLAG_WHITESPACE), "%s", "");
    CHECK("ideographic space is white space", unicode_flags(0x3000) & UFLAG_WHITESPACE, "%s", "");
    CHECK("U+10FFFF is unassigned", unicode_flags(0x10FFFF) == UFLAG_UNDEFINED, "%s", "");
    CHECK("beyond U+10FFFF has no class", unicode_flags(0x110000) == 0 && unicode_flags(0xFFFFFFFF) == 0, "%s", "");
    CHECK("tolower", unicode_tolower('Q') == 'q' && unicode_tolower(0x3A3) == 0x3C3 && unicode_tolower('q') == 'q', "%s", "");
    bool ok = true;
    for (int b = 0; b < 256; b++) ok &= unicode_cpt_to_byte(unicode_byte_to_cpt((uint8_t)b)) == b;
    CHECK("byte-level mapping round-trips all 256 bytes", ok, "%s", "");
    CHECK("byte-level mapping: space is U+0120, 0xAD is U+0143",
          unicode_byte_to_cpt(' ') == 0x120 && unicode_byte_to_cpt(0xAD) == 0x143 && unicode_cpt_to_byte(0x144) == -1, "%s", "");

    /* lax decoding, as llama.cpp */
    struct {
        const char *in;
        size_t len;
        uint32_t cpts[4];
        size_t n;
    } cases[] = {
        {"a\xc3\xa9", 3, {'a', 0xE9}, 2},
        {"\xc0\x80", 2, {0}, 1},                          /* overlong decodes */
        {"\xed\xa0\x80", 3, {0xD800}, 1},                 /* surrogate decodes */
        {"\xf4\x90\x80\x80", 4, {0xFFFD}, 1},             /* > U+10FFFF */
        {"\xe2\x82x", 3, {0xFFFD, 0xFFFD, 'x'}, 3},       /* truncated */
        {"\x80\xff", 2, {0xFFFD, 0xFFFD}, 2},
        {"\xf0\x9f\x99\x82", 4, {0x1F642}, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint32_t got[8];
        size_t n = 0;
        for (size_t pos = 0; pos < cases[c].len && n < 8;)
            got[n++] = unicode_decode_lax((const uint8_t *)cases[c].in, cases[c].len, &pos);
        bool same = n == cases[c].n && memcmp(got, cases[c].cpts, n * 4) == 0;
        char name[64];
        snprintf(name, sizeof name, "lax UTF-8 decoding, case %zu", c);
        CHECK(name, same, "got %zu code points, first %x", n, n ? got[0] : 0);
    }
}

/* Pushes the pieces through a stream, returns the concatenated output. */
static const char *stream(const char *const *pieces, size_t n, size_t cap) {
    static char out[256];
    utf8_stream s;
    utf8_stream_init(&s);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t room = sizeof out - o < cap ? sizeof out - o : cap;
        o += utf8_stream_push(&s, pieces[i], strlen(pieces[i]), out + o, room);
    }
    o += utf8_stream_flush(&s, out + o, sizeof out - o);
    out[o] = 0;
    return out;
}

static void test_utf8_stream(void) {
    const char *split_e[] = {"caf\xc3", "\xa9!"};
    CHECK("stream: a character split over two pieces", !strcmp(stream(split_e, 2, 64), "caf\xc3\xa9!"), "%s", "");
    const char *emoji[] = {"\xf0", "\x9f", "\x99", "\x82", ""};
    CHECK("stream: 4-byte character one byte at a time", !strcmp(stream(emoji, 5, 64), "\xf0\x9f\x99\x82"), "%s", "");
    utf8_stream s;
    utf8_stream_init(&s);
    char buf[64];
    CHECK("stream: an incomplete character is held back", utf8_stream_push(&s, "ab\xe2\x82", 4, buf, 64) == 2, "%s", "");
    CHECK("stream: and completed by the next piece",
          utf8_stream_push(&s, "\xac", 1, buf, 64) == 3 && !memcmp(buf, "\xe2\x82\xac", 3), "%s", "");
    const char *bad[] = {"\xff", "A"};
    CHECK("stream: an invalid byte becomes U+FFFD", !strcmp(stream(bad, 2, 64), "\xef\xbf\xbd" "A"), "%s", "");
    const char *cut[] = {"\xe2\x82", "A"};
    CHECK("stream: a broken sequence becomes one U+FFFD", !strcmp(stream(cut, 2, 64), "\xef\xbf\xbd" "A"), "%s", "");
    const char *tail[] = {"ok\xf0\x9f\x98"};
    CHECK("stream: an incomplete tail becomes U+FFFD at flush", !strcmp(stream(tail, 1, 64), "ok\xef\xbf\xbd"), "%s", "");
    const char *sur[] = {"\xed\xa0\x80"};
    CHECK("stream: a surrogate is three invalid bytes",
          !strcmp(stream(sur, 1, 64), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"), "%s", stream(sur, 1, 64));
    const char *over[] = {"\xc0\xaf"};
    CHECK("stream: an overlong form is invalid", !strcmp(stream(over, 1, 64), "\xef\xbf\xbd\xef\xbf\xbd"), "%s", "");
    const char *lots[] = {"\xff\xff\xff\xff\xff\xff"};
    CHECK("stream: output never passes cap", strlen(stream(lots, 1, 5)) <= 5, "%s", "");
    CHECK("stream: bound holds", UTF8_STREAM_OUT_MAX(6) >= 18, "%s", "");
}

static void test_stories(void) {
    size_t len;
    char *data = read_file(STORIES, &len);
    if (!data) {
        printf("not ok - stories260K: cannot read %s\n", STORIES);
        check_failures++;
        return;
    }
    gguf_file *g;
    hearth_tokenizer *t = NULL;
    hearth_error err;
    hearth_status st = gguf_open_memory(&g, data, len, "stories260K.gguf", &err);
    free(data);
    if (!st) {
        st = tokenizer_load(&t, g, &err);
        gguf_free(g);
    }
    CHECK("stories260K: loads", !st, "%s", err.message);
    if (st) return;
    CHECK("stories260K: SPM, 512 tokens", !strcmp(tokenizer_model_name(t), "llama") && tokenizer_vocab_size(t) == 512,
          "%s %d", tokenizer_model_name(t), tokenizer_vocab_size(t));
    CHECK("stories260K: BOS 1, EOS 2, adds BOS",
          tokenizer_bos(t) == 1 && tokenizer_eos(t) == 2 && tokenizer_add_bos(t), "%s", "");
    CHECK("stories260K: EOS ends generation, BOS does not", tokenizer_is_eog(t, 2) && !tokenizer_is_eog(t, 1), "%s", "");
    /* ids from llama.cpp */
    const char *got = encs(t, "Once upon a time, there was a little girl named Lily.", false);
    CHECK("stories260K: encode a sentence", !strcmp(got, "403 407 261 378 432 383 286 261 376 298 315 421 395 317 426"),
          "%s", got);
    got = encs(t, "", false);
    CHECK("stories260K: empty text gives no tokens", !strcmp(got, ""), "%s", got);
    int32_t *ids = (int32_t *)1;
    size_t n = 7;
    CHECK("stories260K: empty text gives NULL", !tokenizer_encode(t, "", 0, false, &ids, &n, &err) && !ids && n == 0, "%s", "");
    got = encs(t, "<s>hi</s>", true);
    CHECK("stories260K: <s> and </s> with parse_special", !strcmp(got, "1 270 417 2"), "%s", got);
    got = encs(t, "<s>", false);
    CHECK("stories260K: <s> is text without parse_special", strcmp(got, "1") != 0, "%s", got);

    char piece[64];
    CHECK("stories260K: control tokens are hidden", tokenizer_piece(t, 1, false, piece, sizeof piece) == 0, "%s", "");
    size_t pn = tokenizer_piece(t, 1, true, piece, sizeof piece);
    CHECK("stories260K: ... unless shown", pn == 3 && !memcmp(piece, "<s>", 3), "%s", "");
    pn = tokenizer_piece(t, 3 + 'A', false, piece, sizeof piece);
    CHECK("stories260K: byte token <0x41> is A", pn == 1 && piece[0] == 'A', "%zu", pn);
    pn = tokenizer_piece(t, 403, false, piece, sizeof piece);
    CHECK("stories260K: U+2581 becomes a space", pn >= 1 && piece[0] == ' ', "%.*s", (int)pn, piece);
    CHECK("stories260K: truncation is safe", tokenizer_piece(t, 403, false, piece, 1) == 1, "%s", "");
    CHECK("stories260K: bad ids give nothing", tokenizer_piece(t, -1, true, piece, sizeof piece) == 0 &&
          tokenizer_piece(t, 512, true, piece, sizeof piece) == 0 && !tokenizer_is_eog(t, -1), "%s", "");

    /* byte fallback makes SPM lossless: pieces give back " " + text, for valid
     * UTF-8 and for any bytes without spaces (an invalid lead byte before a
     * space swallows part of its U+2581, which then comes back as bytes) */
    unsigned seed = 12345;
    bool ok = true;
    for (int iter = 0; iter < 300 && ok; iter++) {
        char text[200];
        size_t tl = (size_t)(iter % 60) + 1;
        for (size_t i = 0; i < tl; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) & 0xFF;
            static const char *const pool[] = {"a", "b", " ", "\n", ".", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x99\x82"};
            if (iter % 3 == 0) text[i] = r == ' ' ? 'x' : (char)r;
            else if (iter % 3 == 1) {
                const char *c = pool[r % 8];
                if (i + strlen(c) > tl) c = "a";
                memcpy(text + i, c, strlen(c));
                i += strlen(c) - 1;
            } else text[i] = (char)(r % 95 + 32);
        }
        size_t rn;
        char *rt = roundtrip(t, text, tl, &rn);
        ok = rt && rn == tl + 1 && rt[0] == ' ' && !memcmp(rt + 1, text, tl);
        if (!ok) printf("# round trip failed at iteration %d\n", iter);
        free(rt);
    }
    CHECK("stories260K: random bytes round-trip through encode and pieces", ok, "%s", "");

    /* long runs: must not be quadratic (not timed strictly) */
    size_t big = 200000;
    char *run = malloc(big);
    memset(run, 'a', big);
    double t0 = now_ms();
    int32_t *rid;
    size_t rn;
    st = tokenizer_encode(t, run, big, false, &rid, &rn, &err);
    double dt = now_ms() - t0;
    CHECK("stories260K: 200000 x 'a' tokenizes", !st && rn > 0, "%s", "");
    printf("# stories260K: 200000 x 'a' in %.1f ms, %zu tokens\n", dt, rn);
    if (!st) free(rid);
    for (size_t i = 0; i < big; i++) run[i] = " \n"[i % 2];
    st = tokenizer_encode(t, run, big, true, &rid, &rn, &err);
    CHECK("stories260K: 200000 alternating spaces and newlines", !st && rn > 0, "%s", "");
    if (!st) free(rid);
    free(run);
    tokenizer_free(t);
}

static void test_spm_small(void) {
    /* ids from 259 */
    static const tokdef extra[] = {
        {"\xe2\x96\x81", -3, T_NORMAL},       /* 259 ▁ */
        {"a", -1, T_NORMAL},                  /* 260 */
        {"b", -1, T_NORMAL},                  /* 261 */
        {"\xe2\x96\x81" "a", -1, T_NORMAL},   /* 262 ▁a */
        {"aa", -1, T_NORMAL},                 /* 263 */
        {"\xe2\x96\x81" "ab", -0.5f, T_NORMAL}, /* 264 ▁ab */
        {"ab", -2, T_NORMAL},                 /* 265 */
        {"xy", 0, T_USER},                    /* 266 */
        {"yzw", 0, T_USER},                   /* 267 */
        {"<c>", 0, T_CONTROL},                /* 268 */
        {"<|end|>", 0, T_NORMAL},             /* 269: EOG by its text */
        {"<|user|>", 0, T_CONTROL},           /* 270 */
        {"<unused3>", 0, T_UNUSED},           /* 271 */
        {"<|endoftext|>", 0, T_CONTROL},      /* 272: llama.cpp's phi3 rules need it */
    };
    size_t n_extra = sizeof extra / sizeof extra[0];
    gb b = spm_image(extra, n_extra, NULL);
    hearth_tokenizer *t;
    hearth_error err;
    hearth_status st = gb_load(&b, &t, &err);
    CHECK("spm: hand-made vocabulary loads", !st, "%s", err.message);
    if (st) return;
    const char *got = encs(t, "ab", false);
    CHECK("spm: best-scoring pair first, then its merge (▁a, then ▁ab)", !strcmp(got, "264"), "%s", got);
    got = encs(t, "aaa", false);
    CHECK("spm: equal scores merge leftmost first", !strcmp(got, "262 263"), "%s", got);
    got = encs(t, "q", false);
    CHECK("spm: unknown characters fall back to bytes", !strcmp(got, "259 116"), "%s", got);
    got = encs(t, "\xc3\xa9", false);
    CHECK("spm: a multi-byte character falls back to its bytes", !strcmp(got, "259 198 172"), "%s", got);
    got = encs(t, "xyzw", false);
    CHECK("spm: longer special tokens are split out first, as llama.cpp (x + yzw)", !strcmp(got, "259 123 267"), "%s", got);
    got = encs(t, "xy<c>", false);
    CHECK("spm: user-defined tokens split without parse_special, control tokens not",
          !strcmp(got, "266 259 63 102 65"), "%s", got);
    got = encs(t, "xy<c>a", true);
    CHECK("spm: control tokens with parse_special; text after a special gets the space prefix",
          !strcmp(got, "266 268 262"), "%s", got);
    CHECK("spm: <|end|> is found by its text: ends generation, becomes control",
          tokenizer_is_eog(t, 269) && tokenizer_is_control(t, 269), "%s", "");
    char piece[32];
    CHECK("spm: user-defined pieces are their text", tokenizer_piece(t, 266, false, piece, sizeof piece) == 2, "%s", "");
    CHECK("spm: unused tokens have no text", tokenizer_piece(t, 271, true, piece, sizeof piece) == 0, "%s", "");
    tokenizer_free(t);

    /* Phi-3 (by general.name): special tokens eat the white space after them */
    b = spm_image(extra, n_extra, "Phi-3 Mini");
    st = gb_load(&b, &t, &err);
    CHECK("spm: phi3 vocabulary loads", !st, "%s", err.message);
    if (st) return;
    got = encs(t, "<|user|>  a", true);
    CHECK("spm: phi3 special tokens strip spaces on their right", !strcmp(got, "270 262"), "%s", got);
    tokenizer_free(t);

    /* gemma3 style: no space prefix */
    b = spm_image(extra, n_extra, NULL);
    kv_bool(&b, "tokenizer.ggml.add_space_prefix", false);
    kv_bool(&b, "tokenizer.ggml.add_bos_token", false);
    st = gb_load(&b, &t, &err);
    CHECK("spm: no-prefix vocabulary loads", !st, "%s", err.message);
    if (st) return;
    got = encs(t, "ab", false);
    CHECK("spm: add_space_prefix=false", !strcmp(got, "265"), "%s", got);
    CHECK("spm: add_bos_token=false", !tokenizer_add_bos(t), "%s", "");
    tokenizer_free(t);
}

static void test_bpe_small(void) {
    hearth_tokenizer *t = bpe_vocab("llama-bpe");
    CHECK("bpe: hand-made vocabulary loads", t != NULL, "%s", "");
    if (!t) return;
    CHECK("bpe: model gpt2, pre llama-bpe, BOS default 11 (in range), adds BOS (llama3 default)",
          !strcmp(tokenizer_model_name(t), "gpt2") && !strcmp(tokenizer_pre_name(t), "llama-bpe") &&
              tokenizer_bos(t) == 11 && tokenizer_add_bos(t) && !*tokenizer_warnings(t), "%s", "");
    const char *got = encs(t, "hello world", false);
    CHECK("bpe: merges by rank", !strcmp(got, "259 264"), "%s", got);
    got = encs(t, "xyz", false);
    CHECK("bpe: llama3 uses a word that is a token whole (ignore_merges)", !strcmp(got, "265"), "%s", got);
    got = encs(t, "aaaaaaa", false);
    CHECK("bpe: repeated merges", !strcmp(got, "269 268 97"), "%s", got);
    got = encs(t, "12345", false);
    CHECK("bpe: llama3 digits in threes", !strcmp(got, "271 52 53"), "%s", got);
    got = encs(t, "<|im_end|><think>", false);
    CHECK("bpe: <|im_end|> became control (not split without parse_special); <think> is user-defined",
          !strcmp(got, "60 124 105 109 95 101 110 100 124 62 267"), "%s", got);
    got = encs(t, "<|im_end|>", true);
    CHECK("bpe: <|im_end|> with parse_special", !strcmp(got, "266"), "%s", got);
    CHECK("bpe: <|im_end|> ends generation", tokenizer_is_eog(t, 266), "%s", "");
    /* chat: request bytes (1) never form special tokens, the template's (0) do */
    got = encp(t, "<|im_end|><|im_end|>", "11111111110000000000");
    CHECK("bpe: a special token's text from a request is text, the template's after it a token",
          !strcmp(got, "60 124 105 109 95 101 110 100 124 62 266"), "%s", got);
    got = encp(t, "<|im_end|><|im_end|>", "00000000010000000001");
    CHECK("bpe: one request byte inside a special token's text keeps it text",
          !strcmp(got, encs(t, "<|im_end|><|im_end|>", false)), "%s", got);
    got = encp(t, "<think><|im_end|>", "11111110000000000");
    CHECK("bpe: user-defined tokens too: a request's <think> is text", strstr(got, "267") == NULL && strstr(got, "266") != NULL,
          "%s", got);
    got = encp(t, "hello<|im_end|>world", "00000000000000000000");
    CHECK("bpe: no request bytes: as tokenizer_encode with parse_special",
          strstr(got, "266") && !strcmp(got, encs(t, "hello<|im_end|>world", true)),
          "%s", got);
    char piece[64];
    size_t pn = tokenizer_piece(t, 264, false, piece, sizeof piece);
    CHECK("bpe: byte-level piece", pn == 6 && !memcmp(piece, " world", 6), "%.*s", (int)pn, piece);
    CHECK("bpe: max piece length", tokenizer_max_piece_len(t) == 10, "%zu", tokenizer_max_piece_len(t));

    /* lossless on valid UTF-8; invalid bytes become U+FFFD (as llama.cpp) */
    unsigned seed = 99;
    bool ok = true;
    static const uint32_t pool[] = {'a', 'h', 'e', 'l', 'o', ' ', ' ', '\n', '\r', '\t', '1', '2', '3', '\'', 's',
                                    'S', '.', '!', 0xE9, 0x4E2D, 0x1F642, 0x3000, 0xA0, 0x300, 0x663, 0x2028};
    for (int iter = 0; iter < 400 && ok; iter++) {
        char text[400];
        size_t tl = 0;
        int n = iter % 50 + 1;
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            uint8_t u[4];
            size_t k = unicode_encode(pool[(seed >> 16) % (sizeof pool / sizeof pool[0])], u);
            memcpy(text + tl, u, k);
            tl += k;
        }
        size_t rn;
        char *rt = roundtrip(t, text, tl, &rn);
        ok = rt && rn == tl && !memcmp(rt, text, tl);
        if (!ok) printf("# bpe round trip failed at iteration %d\n", iter);
        free(rt);
    }
    CHECK("bpe: random UTF-8 round-trips through encode and pieces", ok, "%s", "");
    size_t rn;
    char *rt = roundtrip(t, "a\xff" "b\xc3", 4, &rn);
    CHECK("bpe: invalid bytes become U+FFFD", rt && rn == 8 && !memcmp(rt, "a\xef\xbf\xbd" "b\xef\xbf\xbd", 8), "%s", "");
    free(rt);

    size_t big = 300000;
    char *run = malloc(big);
    memset(run, 'a', big);
    double t0 = now_ms();
    int32_t *ids;
    size_t n;
    hearth_error err;
    hearth_status st = tokenizer_encode(t, run, big, false, &ids, &n, &err);
    CHECK("bpe: a 300000-letter word", !st && n == big / 4, "%zu", n);
    if (!st) free(ids);
    printf("# bpe: 300000 x 'a' in %.1f ms\n", now_ms() - t0);
    for (size_t i = 0; i < big; i++) run[i] = " \n\t"[i % 3];
    st = tokenizer_encode(t, run, big, false, &ids, &n, &err);
    CHECK("bpe: 300000 white space characters", !st && n > 0, "%s", "");
    if (!st) free(ids);
    free(run);
    tokenizer_free(t);

    /* other pre-tokenizers */
    t = bpe_vocab("qwen2");
    if (t) {
        got = encs(t, "123 xyz", false);
        CHECK("bpe: qwen2 single digits, no whole-word tokens", !strcmp(got, "49 50 51 32 120 121 122"), "%s", got);
        CHECK("bpe: qwen2 does not add BOS", !tokenizer_add_bos(t), "%s", "");
        tokenizer_free(t);
    }
    t = bpe_vocab("gpt2");
    CHECK("bpe: gpt2 is accepted for llama.cpp's gpt-2", t != NULL, "%s", "");
    tokenizer_free(t);
    t = bpe_vocab("gpt-2");
    if (t) {
        got = encs(t, "it'S 12345", false);
        CHECK("bpe: gpt2 contractions are case-sensitive, digits run", !strcmp(got, "105 116 39 83 32 271 52 53"),
              "%s", got);
        tokenizer_free(t);
    }
    t = bpe_vocab("no-such-pre");
    CHECK("bpe: unknown pre-tokenizer loads with a warning", t && strstr(tokenizer_warnings(t), "no-such-pre"), "%s", "");
    tokenizer_free(t);
    t = bpe_vocab(NULL);
    CHECK("bpe: missing pre-tokenizer loads with a warning", t && strstr(tokenizer_warnings(t), "missing"), "%s", "");
    if (t) {
        got = encs(t, "a+=b!!", false);
        CHECK("bpe: default pre-tokenizer splits punctuation runs", !strcmp(got, "97 43 61 98 33 33"), "%s", got);
    }
    tokenizer_free(t);
}

/* The words pre-tokenizer name splits text into, joined by '|' (static buffer). */
static const char *words(const char *name, const char *text) {
    static char out[1024];
    enum { MAX = 256 };
    uint32_t cpts[MAX];
    uint16_t flags[MAX];
    size_t lens[MAX], work[MAX], n = 0, len = strlen(text);
    pretok_info info;
    if (!pretok_lookup(name, strlen(name), &info)) return "unknown name";
    for (size_t pos = 0; pos < len && n < MAX;) cpts[n++] = unicode_decode_lax((const uint8_t *)text, len, &pos);
    size_t nw = pretokenize(info.kind, cpts, n, flags, lens, work), o = 0, c = 0;
    for (size_t w = 0; w < nw; w++) {
        if (w && o + 1 < sizeof out) out[o++] = '|';
        for (size_t k = 0; k < lens[w]; k++, c++) {
            uint8_t u[4];
            size_t m = unicode_encode(cpts[c], u);
            if (o + m < sizeof out) memcpy(out + o, u, m), o += m;
        }
    }
    out[o] = 0;
    return out;
}

static void test_pretokenize(void) {
    static const struct {
        const char *pre, *text, *want, *what;
    } cases[] = {
        {"gpt-4o", "Hello World's camelCaseWord HTMLParser don'T", "Hello| World's| camel|Case|Word| HTMLParser| don'T",
         "words split where the case goes from lower to upper; contractions (any case) stay on the word"},
        {"gpt-4o", "\xd0\xa1\xd0\xbe\xd0\x93\xd0\x99\xd1\x83", "\xd0\xa1\xd0\xbe|\xd0\x93\xd0\x99\xd1\x83",
         "non-ASCII case changes split as in Hugging Face (llama.cpp keeps one word)"},
        {"gpt-4o", "e\xcc\x81tude caf\xc3\xa9", "e\xcc\x81tude| caf\xc3\xa9", "combining marks stay with their letters"},
        {"gpt-4o", "x = 1234567", "x| =| |123|456|7", "digits in threes, a space before punctuation"},
        {"gpt-4o", "a.\n/b  \n\n x", "a|.\n/|b|  \n\n| x",
         "punctuation takes newlines and slashes; white space up to the last newline"},
        {"llama4", "Ab", "Ab", "llama4 is gpt-4o"},
        {"deepseek-llm", "Hello, \xe4\xb8\x96\xe7\x95\x8c! 123 \xce\xb1\xce\xb2\xce\xb3 \xd0\x94\xd0\x96",
         "Hello|,| |\xe4\xb8\x96\xe7\x95\x8c|!| |123| \xce\xb1\xce\xb2\xce\xb3| \xd0\x94\xd0\x96",
         "letters of its table, punctuation, CJK runs and number runs split in turn"},
        {"deepseek-llm", "h\xc3\xa9llo\r\nx  ", "h|\xc3\xa9|llo|\r|\n|x|  ",
         "its punctuation class [!-/:-~...] holds the ASCII letters, so the punctuation pass splits the other "
         "letters out of words; newlines alone; trailing white space"},
        {"deepseek-llm", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7  x", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7| | x",
         "\\s+$ splits the white space a word ends with off (Arabic is in none of its classes)"},
        {"deepseek-coder", "Hello, \xe4\xb8\x96\xe7\x95\x8c! 123 \xce\xb1\xce\xb2\xce\xb3 \xd0\x94\xd0\x96",
         "Hello|,| |\xe4\xb8\x96\xe7\x95\x8c|!| |1|2|3| \xce\xb1\xce\xb2\xce\xb3| \xd0\x94\xd0\x96",
         "letters, punctuation, CJK runs, single digits"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = words(cases[i].pre, cases[i].text);
        char name[200];
        snprintf(name, sizeof name, "pretokenize %s: %s", cases[i].pre, cases[i].what);
        CHECK(name, !strcmp(got, cases[i].want), "got \"%s\"", got);
    }
}

static void expect_refused(const char *name, gb b, hearth_status code, const char *needle) {
    hearth_tokenizer *t;
    hearth_error err = {0};
    hearth_status st = gb_load(&b, &t, &err);
    CHECK(name, st == code && strstr(err.message, needle) && !t, "status %d, message \"%s\"", st, err.message);
    tokenizer_free(t);
}

static void test_refused(void) {
    const char *toks[] = {"a", "b", "a"};
    gb b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "llama");
    expect_refused("refused: no token list", b, HEARTH_E_FORMAT, "tokenizer.ggml.tokens");

    b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "bert");
    kv_strs(&b, "tokenizer.ggml.tokens", toks, 2);
    expect_refused("refused: unsupported model", b, HEARTH_E_UNSUPPORTED, "bert");

    b = gb_begin();
    expect_refused("refused: no tokenizer at all", b, HEARTH_E_FORMAT, "tokenizer.ggml.model");

    b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "llama");
    kv_strs(&b, "tokenizer.ggml.tokens", toks, 3);
    expect_refused("refused: duplicate token text", b, HEARTH_E_FORMAT, "same text");

    b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "llama");
    kv_u32(&b, "tokenizer.ggml.tokens", 5);
    expect_refused("refused: tokens not an array", b, HEARTH_E_FORMAT, "tokenizer.ggml.tokens");

    b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "llama");
    kv_strs(&b, "tokenizer.ggml.tokens", toks, 2);
    float sc[1] = {0};
    kv_f32s(&b, "tokenizer.ggml.scores", sc, 1);
    expect_refused("refused: too few scores", b, HEARTH_E_FORMAT, "scores");

    b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "llama");
    kv_strs(&b, "tokenizer.ggml.tokens", toks, 2);
    kv_strs(&b, "tokenizer.ggml.token_type", toks, 2);
    expect_refused("refused: token types of the wrong type", b, HEARTH_E_FORMAT, "token_type");

    const char *bytes[] = {"<0x4G>", "b"};
    int32_t types[] = {T_BYTE, T_NORMAL};
    b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "llama");
    kv_strs(&b, "tokenizer.ggml.tokens", bytes, 2);
    kv_i32s(&b, "tokenizer.ggml.token_type", types, 2);
    expect_refused("refused: malformed byte token", b, HEARTH_E_FORMAT, "<0xNN>");

    const char *merges[] = {"a b", "ab"};
    b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "gpt2");
    kv_str(&b, "tokenizer.ggml.pre", "gpt2");
    kv_strs(&b, "tokenizer.ggml.tokens", toks, 2);
    kv_strs(&b, "tokenizer.ggml.merges", merges, 2);
    expect_refused("refused: merge without a space", b, HEARTH_E_FORMAT, "merge 1");

    b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "gpt2");
    kv_strs(&b, "tokenizer.ggml.tokens", toks, 2);
    expect_refused("refused: BPE without merges", b, HEARTH_E_FORMAT, "merges");

    /* accepted with a warning: special ids out of range keep their default */
    b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "llama");
    kv_strs(&b, "tokenizer.ggml.tokens", toks, 2);
    kv_u32(&b, "tokenizer.ggml.bos_token_id", 1000);
    kv_u32(&b, "tokenizer.ggml.eos_token_id", 0);
    hearth_tokenizer *t;
    hearth_error err;
    hearth_status st = gb_load(&b, &t, &err);
    CHECK("special ids out of range are ignored with a warning",
          !st && tokenizer_bos(t) == 1 && tokenizer_eos(t) == 0 && strstr(tokenizer_warnings(t), "bos_token_id"),
          "%s", st ? err.message : "");
    if (!st) {
        const char *got = encs(t, "ab", false);
        CHECK("a vocabulary without byte tokens still tokenizes", strlen(got) > 0 && strncmp(got, "ERROR", 5), "%s", got);
        tokenizer_free(t);
    }

    const char *empty[] = {"", "x"};
    b = gb_begin();
    kv_str(&b, "tokenizer.ggml.model", "llama");
    kv_strs(&b, "tokenizer.ggml.tokens", empty, 2);
    st = gb_load(&b, &t, &err);
    CHECK("empty token texts are renamed as llama.cpp does",
          !st && !strcmp(tokenizer_token_text(t, 0), "[EMPTY_0]"), "%s", st ? err.message : "");
    if (!st) tokenizer_free(t);
}

/* Truncated and bit-flipped vocabularies: refused or loaded, never a crash. */
static void test_corrupted(void) {
    gb b = bpe_image("llama-bpe", bpe_extra, sizeof bpe_extra / sizeof bpe_extra[0], bpe_merges,
                     sizeof bpe_merges / sizeof bpe_merges[0]);
    memcpy(b.p + 16, &b.n_kv, 8);
    unsigned seed = 7;
    int loaded = 0, refused = 0;
    for (int iter = 0; iter < 1000; iter++) {
        uint8_t *copy = malloc(b.n);
        memcpy(copy, b.p, b.n);
        size_t n = b.n;
        for (int k = 0; k < 1 + iter % 2; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = 24 + (seed >> 8) % (b.n - 24);
            copy[at] ^= (uint8_t)(1u << (seed % 8));
        }
        if (iter % 5 == 0) n = 24 + (seed >> 4) % (b.n - 24);
        gguf_file *g;
        hearth_tokenizer *t;
        hearth_error err;
        if (!gguf_open_memory(&g, copy, n, "x.gguf", &err)) {
            if (!tokenizer_load(&t, g, &err)) {
                loaded++;
                int32_t *ids;
                size_t nid;
                if (!tokenizer_encode(t, "hello world <|im_end|> 123", 26, iter % 2, &ids, &nid, &err)) free(ids);
                tokenizer_free(t);
            } else {
                refused++;
            }
            gguf_free(g);
        } else {
            refused++;
        }
        free(copy);
    }
    free(b.p);
    CHECK("corrupted vocabularies never crash", loaded + refused == 1000, "%s", "");
    printf("# corrupted: %d loaded, %d refused\n", loaded, refused);
}

/* NFC (normalize.c) and its use for the qwen2 pre-tokenizer (HF's Qwen normalizer). */
static void test_nfc(void) {
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"abc", "abc"},
        {"e\xcc\x81", "\xc3\xa9"},                           /* e + acute -> é */
        {"\xc3\xa9", "\xc3\xa9"},                             /* already composed */
        {"\xe2\x84\xab", "\xc3\x85"},                         /* ANGSTROM SIGN (singleton) -> Å */
        {"\xe2\x80\x80", "\xe2\x80\x82"},                     /* EN QUAD -> EN SPACE */
        {"a\xcc\xa3\xcc\x87", "\xe1\xba\xa1\xcc\x87"},           /* a + dot below + dot above -> ạ + dot above */
        {"a\xcc\x87\xcc\xa3", "\xe1\xba\xa1\xcc\x87"},           /* reordered first */
        {"\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xea\xb0\x81"}, /* conjoining jamo -> 각 */
        {"\xea\xb0\x80\xe1\x86\xa8", "\xea\xb0\x81"},             /* LV + T -> LVT */
        {"\xe0\xa5\x98", "\xe0\xa4\x95\xe0\xa4\xbc"},             /* U+0958 (excluded) stays decomposed */
        {"e\xff\xcc\x81", "e\xff\xcc\x81"},                     /* an invalid byte blocks composition */
        {"\xcc\x81", "\xcc\x81"},                                 /* a lone mark */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out;
        size_t n;
        bool ok = nfc_normalize(cases[i].in, strlen(cases[i].in), &out, &n);
        CHECK("nfc case", ok && n == strlen(cases[i].out) && !memcmp(out, cases[i].out, n), "case %zu", i);
        if (ok) free(out);
    }
    CHECK("nfc quick check", nfc_is_quick_yes("hello \xc3\xa9 \xe4\xb8\xad", 12) && !nfc_is_quick_yes("e\xcc\x81", 3),
          "%s", "");
    hearth_tokenizer *q = bpe_vocab("qwen2"), *l = bpe_vocab("llama-bpe");
    if (!q || !l) {
        CHECK("nfc: vocabularies load", false, "%s", "");
        return;
    }
    char *a = strdup(encs(q, "e\xcc\x81", false)), *b = strdup(encs(q, "\xc3\xa9", false));
    CHECK("qwen2 pre-tokenizer: text is NFC-normalized first (HF Qwen normalizer)", !strcmp(a, b), "%s / %s", a, b);
    free(a);
    free(b);
    a = strdup(encs(l, "e\xcc\x81", false));
    b = strdup(encs(l, "\xc3\xa9", false));
    CHECK("llama-bpe: no normalization", strcmp(a, b) != 0, "%s", a);
    free(a);
    free(b);
    /* Qwen's "</s>": a normal token stays ordinary text (HF), still EOG */
    const char *got = encs(l, "</s>", true);
    char piece[16];
    size_t pn = tokenizer_piece(l, 272, false, piece, sizeof piece);
    CHECK("bpe: a normal-typed </s> is not matched as special, shown, still ends generation",
          strcmp(got, "272") != 0 && !tokenizer_is_control(l, 272) && tokenizer_is_eog(l, 272) && pn == 4 &&
              !memcmp(piece, "</s>", 4), "%s", got);
    tokenizer_free(q);
    tokenizer_free(l);
}

/* tokenizer_decode and the streaming tokenizer_decoder (HF decode). */
static void test_decode(void) {
    size_t len;
    char *data = read_file(STORIES, &len);
    gguf_file *g;
    hearth_tokenizer *t;
    hearth_error err;
    if (!data || gguf_open_memory(&g, data, len, "stories260K.gguf", &err) || tokenizer_load(&t, g, &err)) {
        CHECK("decode: stories260K loads", false, "%s", "");
        free(data);
        return;
    }
    gguf_free(g);
    free(data);
    const char *texts[] = {"Hello world", " two  spaces", "caf\xc3\xa9 \xe4\xb8\xad\xf0\x9f\x99\x82", ""};
    for (size_t k = 0; k < 4; k++) {
        int32_t *ids;
        size_t n, dn;
        char *dec;
        if (tokenizer_encode(t, texts[k], strlen(texts[k]), false, &ids, &n, &err) ||
            tokenizer_decode(t, ids, n, false, &dec, &dn, &err)) {
            CHECK("decode: encode/decode", false, "%s", err.message);
            continue;
        }
        CHECK("decode: decode(encode(text)) == text (SPM leading space removed)", dn == strlen(texts[k]) && !memcmp(dec, texts[k], dn),
              "%s -> %.*s", texts[k], (int)dn, dec);
        char out[256], buf[UTF8_STREAM_OUT_MAX(64)];
        size_t on = 0;
        tokenizer_decoder d;
        tokenizer_decoder_init(&d, t, false);
        tokenizer_decoder_push(&d, 1, buf, sizeof buf); /* BOS: hidden */
        for (size_t i = 0; i < n; i++) {
            size_t w = tokenizer_decoder_push(&d, ids[i], buf, sizeof buf);
            memcpy(out + on, buf, w), on += w;
        }
        on += tokenizer_decoder_flush(&d, out + on, sizeof out - on);
        CHECK("decode: streaming one token at a time equals the whole decode", on == dn && !memcmp(out, dec, dn), "%s", texts[k]);
        free(dec);
        free(ids);
    }
    int32_t bos_hello[] = {1, 0};
    int32_t *ids;
    size_t n, dn;
    char *dec;
    tokenizer_encode(t, "Hi", 2, false, &ids, &n, &err);
    bos_hello[1] = ids[0];
    tokenizer_decode(t, bos_hello, 2, true, &dec, &dn, &err);
    CHECK("decode: shown special tokens keep the space after them (as HF)", dn > 3 && !memcmp(dec, "<s> ", 4), "%.*s", (int)dn, dec);
    free(dec);
    free(ids);
    tokenizer_free(t);
}

int main(void) {
    test_unicode();
    test_nfc();
    test_decode();
    test_utf8_stream();
    test_stories();
    test_spm_small();
    test_bpe_small();
    test_pretokenize();
    test_refused();
    test_corrupted();
    CHECK_DONE();
}
