#define _POSIX_C_SOURCE 200809L
/* Driver for tests/e2e/tokenize_hf.test.mjs and bench/tokenize_bench.mjs:
 *   tokenize_hf_driver --model F --text-file F [--special] [--unescape] [--bench]
 * For every line of the file (without its "\n"), prints one line
 *   IDS<TAB>HEX<TAB>STREAM
 * IDS: the ids, comma-separated; HEX: tokenizer_decode(ids, show_special) in
 * hex; STREAM: "1" when a tokenizer_decoder fed one id at a time gives the
 * same bytes as the whole decode, with and without show_special, else "0".
 * --unescape turns \n \t \r \\ in each line into the characters first.
 * --bench only tokenizes (all lines, then the whole file as one text) and
 * prints {"lines_s":S,"whole_s":S,"bytes":N,"tokens":N}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/gguf.h"
#include "tokenizer/tokenizer.h"
#include "test_io.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* streaming decode of ids equals the whole decode */
static int stream_ok(const hearth_tokenizer *t, const int32_t *ids, size_t n, int show) {
    char *whole;
    size_t wlen;
    hearth_error err;
    if (tokenizer_decode(t, ids, n, show, &whole, &wlen, &err)) return 0;
    size_t cap = UTF8_STREAM_OUT_MAX(tokenizer_max_piece_len(t));
    char *buf = malloc(cap);
    char *got = malloc(3 * wlen + 16);
    size_t glen = 0;
    tokenizer_decoder d;
    tokenizer_decoder_init(&d, t, show);
    for (size_t i = 0; i < n; i++) {
        size_t w = tokenizer_decoder_push(&d, ids[i], buf, cap);
        if (glen + w > 3 * wlen + 16) break;
        memcpy(got + glen, buf, w);
        glen += w;
    }
    size_t w = tokenizer_decoder_flush(&d, buf, cap);
    int ok = glen + w == wlen && !memcmp(got, whole, glen) && !memcmp(buf, whole + glen, w);
    free(buf);
    free(got);
    free(whole);
    return ok;
}

int main(int argc, char **argv) {
    const char *model = NULL, *text_file = NULL;
    int special = 0, bench = 0, unesc = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--text-file") && i + 1 < argc) text_file = argv[++i];
        else if (!strcmp(argv[i], "--special")) special = 1;
        else if (!strcmp(argv[i], "--bench")) bench = 1;
        else if (!strcmp(argv[i], "--unescape")) unesc = 1;
        else model = NULL, text_file = NULL, i = argc;
    }
    if (!model || !text_file) {
        fprintf(stderr, "usage: %s --model F --text-file F [--special] [--bench]\n", argv[0]);
        return 2;
    }
    size_t mlen, tlen;
    char *mdata = read_file(model, &mlen), *s = read_file(text_file, &tlen);
    if (!mdata || !s) {
        fprintf(stderr, "cannot read %s\n", mdata ? text_file : model);
        return 1;
    }
    hearth_error err;
    gguf_file *g;
    hearth_tokenizer *t;
    if (gguf_open_memory(&g, mdata, mlen, model, &err) || tokenizer_load(&t, g, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    gguf_free(g);
    free(mdata);
    double t0 = now();
    size_t total = 0;
    for (size_t start = 0; start < tlen;) {
        const char *nl = memchr(s + start, '\n', tlen - start);
        size_t end = nl ? (size_t)(nl - s) : tlen;
        int32_t *ids;
        size_t n;
        size_t len = unesc ? unescape(s + start, end - start) : end - start;
        if (tokenizer_encode(t, s + start, len, special, &ids, &n, &err)) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        total += n;
        if (!bench) {
            for (size_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", (int)ids[i]);
            putchar('\t');
            char *dec;
            size_t dlen;
            if (tokenizer_decode(t, ids, n, true, &dec, &dlen, &err)) return 1;
            for (size_t i = 0; i < dlen; i++) printf("%02x", (unsigned char)dec[i]);
            free(dec);
            printf("\t%d\n", stream_ok(t, ids, n, 1) && stream_ok(t, ids, n, 0));
        }
        free(ids);
        start = end + 1;
    }
    double t1 = now();
    if (bench) {
        int32_t *ids;
        size_t n;
        if (tokenizer_encode(t, s, tlen, special, &ids, &n, &err)) return 1;
        double t2 = now();
        free(ids);
        printf("{\"lines_s\":%.6f,\"whole_s\":%.6f,\"bytes\":%zu,\"tokens\":%zu,\"whole_tokens\":%zu}\n", t1 - t0, t2 - t1,
               tlen, total, n);
    }
    tokenizer_free(t);
    free(s);
    return 0;
}
