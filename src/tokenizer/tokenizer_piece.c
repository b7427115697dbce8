/* Token -> output bytes (llama.cpp's token_to_piece). */
#include <stdio.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

typedef struct {
    char *buf;
    size_t cap, n, total;
} sink;

static void put(sink *k, const void *p, size_t n) {
    const char *s = p;
    for (size_t i = 0; i < n; i++) {
        if (k->n < k->cap) k->buf[k->n++] = s[i];
    }
    k->total += n;
}

static uint8_t hexval(char c) {
    if (c >= '0' && c <= '9') return (uint8_t)(c - '0');
    if (c >= 'a' && c <= 'f') return (uint8_t)(c - 'a' + 10);
    return (uint8_t)(c - 'A' + 10);
}

static void piece(const hearth_tokenizer *t, int32_t id, bool show_special, sink *k) {
    if (id < 0 || id >= t->n_vocab) return;
    uint16_t a = t->attr[id];
    const char *s = tok_text(t, id);
    size_t n = t->tok_len[id];
    if (a & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL)) {
        if (show_special) put(k, s, n);
        return;
    }
    if (a & TOK_ATTR_USER_DEFINED) {
        put(k, s, n);
        return;
    }
    if (a & TOK_ATTR_NORMAL) {
        if (t->type == TOK_SPM) {
            for (size_t i = 0; i < n; i++) {
                if (i + 3 <= n && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
                    put(k, " ", 1);
                    i += 2;
                } else {
                    put(k, s + i, 1);
                }
            }
            return;
        }
        /* byte-level: each character stands for one byte; llama.cpp writes
         * any other character as [UNK_BYTE_0x<its UTF-8 in hex><token text>] */
        for (size_t pos = 0; pos < n;) {
            uint32_t cpt = unicode_decode_lax((const uint8_t *)s, n, &pos);
            int b = unicode_cpt_to_byte(cpt);
            if (b >= 0) {
                uint8_t c = (uint8_t)b;
                put(k, &c, 1);
                continue;
            }
            uint8_t u[4];
            size_t m = unicode_encode(cpt, u);
            put(k, "[UNK_BYTE_0x", 12);
            for (size_t j = 0; j < m; j++) {
                char hx[3];
                snprintf(hx, sizeof hx, "%02x", u[j]);
                put(k, hx, 2);
            }
            put(k, s, n);
            put(k, "]", 1);
        }
        return;
    }
    if (a & TOK_ATTR_BYTE) { /* validated at load: <0xNN> */
        uint8_t c = (uint8_t)(hexval(s[3]) << 4 | hexval(s[4]));
        put(k, &c, 1);
    }
    /* unused and undefined tokens have no text */
}

size_t tokenizer_piece(const hearth_tokenizer *t, int32_t id, bool show_special, char *buf, size_t cap) {
    sink k = {buf, buf ? cap : 0, 0, 0};
    piece(t, id, show_special, &k);
    return k.n;
}

size_t tokenizer_max_piece_len(const hearth_tokenizer *t) { return t->max_piece_len; }

size_t tok_compute_max_piece_len(const hearth_tokenizer *t) {
    size_t max = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        sink k = {NULL, 0, 0, 0};
        piece(t, id, true, &k);
        if (k.total > max) max = k.total;
    }
    return max;
}

/* ---- detokenization ---- */

void tokenizer_decoder_init(tokenizer_decoder *d, const hearth_tokenizer *t, bool show_special) {
    d->t = t;
    utf8_stream_init(&d->u);
    d->show_special = show_special;
    d->strip_space = t->type == TOK_SPM && t->add_space_prefix;
    d->started = false;
}

void tokenizer_decoder_continue(tokenizer_decoder *d) { d->started = true; }

size_t tokenizer_decoder_push(tokenizer_decoder *d, int32_t id, char *out, size_t cap) {
    char buf[512];
    char *p = buf;
    size_t need = d->t->max_piece_len;
    if (need > sizeof buf) {
        p = malloc(need);
        if (!p) return 0;
    }
    size_t n = tokenizer_piece(d->t, id, d->show_special, p, need > sizeof buf ? need : sizeof buf);
    const char *s = p;
    if (n && !d->started) {
        d->started = true;
        if (d->strip_space && s[0] == ' ') s++, n--;
    }
    size_t w = utf8_stream_push(&d->u, s, n, out, cap);
    if (p != buf) free(p);
    return w;
}

size_t tokenizer_decoder_flush(tokenizer_decoder *d, char *out, size_t cap) {
    d->started = false;
    return utf8_stream_flush(&d->u, out, cap);
}

hearth_status tokenizer_decode(const hearth_tokenizer *t, const int32_t *ids, size_t n, bool show_special,
                               char **out, size_t *len, hearth_error *err) {
    sink k = {NULL, 0, 0, 0};
    for (size_t i = 0; i < n; i++) piece(t, ids[i], show_special, &k);
    char *buf = malloc(k.total + 1);
    if (!buf) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory decoding %zu tokens", n);
    k = (sink){buf, k.total, 0, 0};
    for (size_t i = 0; i < n; i++) piece(t, ids[i], show_special, &k);
    size_t skip = t->type == TOK_SPM && t->add_space_prefix && k.n && buf[0] == ' ';
    memmove(buf, buf + skip, k.n - skip);
    buf[k.n - skip] = 0;
    *out = buf;
    *len = k.n - skip;
    return HEARTH_OK;
}
