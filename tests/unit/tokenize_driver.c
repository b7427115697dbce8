/* Test driver for the tokenizer, used by tests/e2e/tokenize.test.mjs:
 *   tokenize_driver --model F (--text T | --text-file F) [--special] [--lines]
 * prints {"tokens":[...]} for the whole text, or with --lines one JSON array
 * per input line (the line without its "\n"; an empty line gives []);
 * --unescape turns \n \t \r \\ in each line into the characters first.
 *   tokenize_driver --model F --pieces ID,ID,...
 * prints, per id, its piece in hex without and with show_special. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/gguf.h"
#include "tokenizer/tokenizer.h"
#include "test_io.h"

static void print_hex(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) printf("%02x", (unsigned char)p[i]);
}

static int print_pieces(const hearth_tokenizer *t, const char *list) {
    size_t cap = tokenizer_max_piece_len(t) + 1;
    char *buf = malloc(cap);
    if (!buf) return 1;
    for (const char *p = list; *p;) {
        char *end;
        long id = strtol(p, &end, 10);
        if (end == p) break;
        printf("%ld ", id);
        print_hex(buf, tokenizer_piece(t, (int32_t)id, false, buf, cap));
        putchar(' ');
        print_hex(buf, tokenizer_piece(t, (int32_t)id, true, buf, cap));
        putchar('\n');
        p = *end == ',' ? end + 1 : end;
    }
    free(buf);
    return 0;
}

static int print_tokens(const hearth_tokenizer *t, const char *s, size_t n, int special) {
    int32_t *ids;
    size_t n_ids;
    hearth_error err;
    if (tokenizer_encode(t, s, n, special, &ids, &n_ids, &err)) {
        fprintf(stderr, "tokenize: %s\n", err.message);
        return 1;
    }
    putchar('[');
    for (size_t i = 0; i < n_ids; i++) printf(i ? ",%d" : "%d", (int)ids[i]);
    putchar(']');
    free(ids);
    return 0;
}

int main(int argc, char **argv) {
    const char *model = NULL, *text = NULL, *text_file = NULL, *pieces = NULL;
    int special = 0, lines = 0, unesc = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--text") && i + 1 < argc) text = argv[++i];
        else if (!strcmp(argv[i], "--text-file") && i + 1 < argc) text_file = argv[++i];
        else if (!strcmp(argv[i], "--special")) special = 1;
        else if (!strcmp(argv[i], "--pieces") && i + 1 < argc) pieces = argv[++i];
        else if (!strcmp(argv[i], "--lines")) lines = 1;
        else if (!strcmp(argv[i], "--unescape")) unesc = 1;
        else if (!strcmp(argv[i], "--json")) {}
        else {
            fprintf(stderr, "usage: %s --model F (--text T | --text-file F) [--special] [--lines [--unescape]]\n", argv[0]);
            return 2;
        }
    }
    if (!model || (!text && !text_file && !pieces)) {
        fprintf(stderr, "usage: %s --model F (--text T | --text-file F) [--special] [--lines [--unescape]]\n", argv[0]);
        return 2;
    }
    size_t mlen, tlen;
    char *mdata = read_file(model, &mlen);
    if (!mdata) {
        fprintf(stderr, "%s: cannot read\n", model);
        return 1;
    }
    char *tdata = NULL;
    if (text_file) {
        tdata = read_file(text_file, &tlen);
        if (!tdata) {
            fprintf(stderr, "%s: cannot read\n", text_file);
            return 1;
        }
    } else {
        tlen = text ? strlen(text) : 0;
    }
    const char *s = tdata ? tdata : text ? text : "";

    hearth_error err;
    gguf_file *g;
    hearth_tokenizer *t;
    if (gguf_open_memory(&g, mdata, mlen, model, &err) || tokenizer_load(&t, g, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    gguf_free(g);
    free(mdata);
    if (*tokenizer_warnings(t)) fprintf(stderr, "%s", tokenizer_warnings(t));

    int rc = 0;
    if (pieces) {
        rc = print_pieces(t, pieces);
    } else if (lines) {
        size_t start = 0;
        while (start < tlen && !rc) {
            const char *nl = memchr(s + start, '\n', tlen - start);
            size_t end = nl ? (size_t)(nl - s) : tlen;
            size_t n = end - start;
            if (unesc && tdata) n = unescape(tdata + start, n);
            rc = print_tokens(t, s + start, n, special);
            putchar('\n');
            start = end + 1;
        }
    } else {
        printf("{\"tokens\":");
        rc = print_tokens(t, s, tlen, special);
        printf("}\n");
    }
    tokenizer_free(t);
    free(tdata);
    return rc;
}
