#define _GNU_SOURCE
/* libFuzzer target for the tokenizers: arbitrary bytes -> encode -> decode.
 * The vocabularies come from FUZZ_TOK_MODELS (GGUF paths separated by ':',
 * e.g. the vocabulary-only test models of llama2, llama3, qwen3, gemma3); the
 * first input byte picks one and whether special tokens are parsed, the rest
 * is the text. Checks, on every input:
 *   - encode succeeds and every id is in the vocabulary;
 *   - streaming decode (one id at a time) equals the whole decode made valid
 *     UTF-8 by a utf8_stream, and is valid UTF-8;
 *   - for valid UTF-8 text without U+2581 (SentencePiece's space mark) and
 *     without special-token parsing, decode(encode(text)) == text, or NFC(text)
 *     for tokenizers that normalize;
 *   - NFC is idempotent and keeps valid UTF-8 valid.
 * Seeds: tests/fuzz/tok_corpus. Run: make fuzz && FUZZ_TOK_MODELS=... build/fuzz_tok DIR tests/fuzz/tok_corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/gguf.h"
#include "tokenizer/normalize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_internal.h"
#include "../unit/test_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_TOKS 8
static hearth_tokenizer *toks[MAX_TOKS];
static int n_toks;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *env = getenv("FUZZ_TOK_MODELS");
    if (!env || !*env) {
        fprintf(stderr, "fuzz_tok: set FUZZ_TOK_MODELS to GGUF files separated by ':'\n");
        exit(2);
    }
    char *list = strdup(env);
    for (char *p = strtok(list, ":"); p && n_toks < MAX_TOKS; p = strtok(NULL, ":")) {
        size_t len;
        char *buf = read_file(p, &len);
        gguf_file *g;
        hearth_error err;
        if (!buf || gguf_open_memory(&g, buf, len, p, &err) || tokenizer_load(&toks[n_toks], g, &err)) {
            fprintf(stderr, "fuzz_tok: cannot load %s\n", p);
            exit(2);
        }
        gguf_free(g);
        free(buf);
        n_toks++;
    }
    free(list);
    if (!n_toks) exit(2);
    return 0;
}

static bool valid_utf8(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t b = s[i];
        size_t k;
        uint32_t c, min;
        if (b < 0x80) { i++; continue; }
        if (b >= 0xC2 && b <= 0xDF) k = 2, c = b & 0x1F, min = 0x80;
        else if (b >= 0xE0 && b <= 0xEF) k = 3, c = b & 0x0F, min = 0x800;
        else if (b >= 0xF0 && b <= 0xF4) k = 4, c = b & 0x07, min = 0x10000;
        else return false;
        if (n - i < k) return false;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return false;
            c = c << 6 | (s[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
        i += k;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const hearth_tokenizer *t = toks[(data[0] & 0x7F) % n_toks];
    bool special = data[0] & 0x80;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    int32_t *ids;
    size_t n;
    hearth_error err;
    if (tokenizer_encode(t, text, len, special, &ids, &n, &err) != HEARTH_OK) __builtin_trap();
    if (len && !n && !special) __builtin_trap(); /* text always gives tokens */
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= tokenizer_vocab_size(t)) __builtin_trap();

    for (int show = 0; show < 2; show++) {
        char *whole;
        size_t wlen;
        if (tokenizer_decode(t, ids, n, show, &whole, &wlen, &err) != HEARTH_OK) __builtin_trap();
        /* the whole decode through one utf8_stream */
        char *ref = malloc(UTF8_STREAM_OUT_MAX(wlen) + 16);
        utf8_stream u;
        utf8_stream_init(&u);
        size_t rlen = utf8_stream_push(&u, whole, wlen, ref, UTF8_STREAM_OUT_MAX(wlen));
        rlen += utf8_stream_flush(&u, ref + rlen, 16);
        /* one token at a time */
        size_t cap = UTF8_STREAM_OUT_MAX(tokenizer_max_piece_len(t));
        char *buf = malloc(cap);
        char *got = malloc(rlen + 1);
        size_t glen = 0;
        tokenizer_decoder d;
        tokenizer_decoder_init(&d, t, show);
        for (size_t i = 0; i <= n; i++) {
            size_t w = i < n ? tokenizer_decoder_push(&d, ids[i], buf, cap) : tokenizer_decoder_flush(&d, buf, cap);
            if (glen + w > rlen) __builtin_trap();
            memcpy(got + glen, buf, w);
            glen += w;
        }
        if (glen != rlen || memcmp(got, ref, rlen)) __builtin_trap();
        if (!valid_utf8((const uint8_t *)got, glen)) __builtin_trap();
        /* round trip */
        if (!show && !special && valid_utf8(data + 1, len) && !memmem(text, len, "\xe2\x96\x81", 3)) {
            if (t->nfc) {
                char *norm;
                size_t nlen;
                if (!nfc_normalize(text, len, &norm, &nlen)) __builtin_trap();
                if (nlen != wlen || memcmp(norm, whole, wlen)) __builtin_trap();
                free(norm);
            } else if (wlen != len || memcmp(text, whole, len)) {
                __builtin_trap();
            }
        }
        free(buf);
        free(got);
        free(ref);
        free(whole);
    }
    free(ids);

    /* NFC: idempotent, valid stays valid, quick check agrees */
    char *a, *b;
    size_t alen, blen;
    if (!nfc_normalize(text, len, &a, &alen)) __builtin_trap();
    if (valid_utf8(data + 1, len) && !valid_utf8((const uint8_t *)a, alen)) __builtin_trap();
    if (!nfc_normalize(a, alen, &b, &blen)) __builtin_trap();
    if (alen != blen || memcmp(a, b, alen)) __builtin_trap();
    if (nfc_is_quick_yes(text, len) && (alen != len || memcmp(a, text, len))) __builtin_trap();
    free(a);
    free(b);
    return 0;
}
