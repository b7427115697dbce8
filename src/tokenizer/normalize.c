/* Unicode NFC (UAX #15) over UTF-8, for tokenizers with an NFC normalizer. */
#include "tokenizer/normalize.h"

#include <stdlib.h>
#include <string.h>

enum { S_BASE = 0xAC00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11A7, L_COUNT = 19, V_COUNT = 21, T_COUNT = 28,
       N_COUNT = V_COUNT * T_COUNT, S_COUNT = L_COUNT * N_COUNT };

/* A byte that is not valid UTF-8 travels through the code point buffer as
 * RAW | byte: a starter that composes with nothing. */
#define RAW 0x80000000u

unsigned nfc_ccc(uint32_t c) {
    size_t lo = 0, hi = nfc_ccc_ranges_count;
    if (c < 0x300) return 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < nfc_ccc_ranges[mid][0]) hi = mid;
        else if (c > nfc_ccc_ranges[mid][1]) lo = mid + 1;
        else return nfc_ccc_ranges[mid][2];
    }
    return 0;
}

static bool maybe(uint32_t c) {
    size_t lo = 0, hi = nfc_maybe_ranges_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < nfc_maybe_ranges[mid][0]) hi = mid;
        else if (c > nfc_maybe_ranges[mid][1]) lo = mid + 1;
        else return true;
    }
    return false;
}

uint32_t nfc_compose_pair(uint32_t a, uint32_t b) {
    if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT)
        return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
    if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 && b > T_BASE && b < T_BASE + T_COUNT)
        return a + (b - T_BASE);
    size_t lo = 0, hi = nfc_compose_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const uint32_t *p = nfc_compose[mid];
        if (a < p[0] || (a == p[0] && b < p[1])) hi = mid;
        else if (a > p[0] || b > p[1]) lo = mid + 1;
        else return p[2];
    }
    return 0;
}

/* Strict UTF-8: returns the code point and its length in *n, or RAW | byte
 * with *n = 1 for a byte that does not start a valid sequence (overlong
 * forms, surrogates and values above U+10FFFF are invalid). */
static uint32_t decode(const uint8_t *s, size_t len, size_t *n) {
    uint8_t b = s[0];
    *n = 1;
    if (b < 0x80) return b;
    size_t k;
    uint32_t c, min;
    if (b >= 0xC2 && b <= 0xDF) k = 2, c = b & 0x1F, min = 0x80;
    else if (b >= 0xE0 && b <= 0xEF) k = 3, c = b & 0x0F, min = 0x800;
    else if (b >= 0xF0 && b <= 0xF4) k = 4, c = b & 0x07, min = 0x10000;
    else return RAW | b;
    if (len < k) return RAW | b;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return RAW | b;
        c = c << 6 | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return RAW | b;
    *n = k;
    return c;
}

bool nfc_is_quick_yes(const char *text, size_t len) {
    const uint8_t *s = (const uint8_t *)text;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0xCC) { /* below U+0300 nothing changes (2-byte leads up to CB) */
            if (s[i] < 0x80 || (s[i] >= 0xC2 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80)) {
                i += s[i] < 0x80 ? 1 : 2;
                continue;
            }
        }
        size_t n;
        uint32_t c = decode(s + i, len - i, &n);
        if (!(c & RAW) && maybe(c)) return false;
        i += n;
    }
    return true;
}

typedef struct {
    uint32_t *v;
    size_t n, cap;
} cvec;

static bool push(cvec *v, uint32_t c) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 256;
        uint32_t *nv = realloc(v->v, cap * sizeof *nv);
        if (!nv) return false;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = c;
    return true;
}

static const uint32_t *full_decomp(uint32_t c, size_t *n) {
    size_t lo = 0, hi = nfc_decomp_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < nfc_decomp[mid][0]) hi = mid;
        else if (c > nfc_decomp[mid][0]) lo = mid + 1;
        else {
            *n = nfc_decomp[mid][2];
            return nfc_decomp_pool + nfc_decomp[mid][1];
        }
    }
    return NULL;
}

static unsigned ccc_of(uint32_t c) { return (c & RAW) ? 0 : nfc_ccc(c); }

bool nfc_normalize(const char *text, size_t len, char **out, size_t *out_len) {
    const uint8_t *s = (const uint8_t *)text;
    cvec v = {0};
    bool ok = true;
    /* 1. full canonical decomposition */
    for (size_t i = 0; i < len && ok;) {
        size_t n;
        uint32_t c = decode(s + i, len - i, &n);
        i += n;
        if (!(c & RAW) && c >= S_BASE && c < S_BASE + S_COUNT) {
            uint32_t si = c - S_BASE;
            ok = push(&v, L_BASE + si / N_COUNT) && push(&v, V_BASE + (si % N_COUNT) / T_COUNT);
            if (ok && si % T_COUNT) ok = push(&v, T_BASE + si % T_COUNT);
            continue;
        }
        size_t dn;
        const uint32_t *d = (c & RAW) || c < 0xC0 ? NULL : full_decomp(c, &dn);
        if (!d) {
            ok = push(&v, c);
            continue;
        }
        for (size_t k = 0; k < dn && ok; k++) ok = push(&v, d[k]);
    }
    if (!ok) {
        free(v.v);
        return false;
    }
    /* 2. canonical ordering: stable insertion sort of each run of non-starters */
    for (size_t i = 1; i < v.n; i++) {
        unsigned ci = ccc_of(v.v[i]);
        if (!ci) continue;
        uint32_t c = v.v[i];
        size_t j = i;
        while (j > 0) {
            unsigned cj = ccc_of(v.v[j - 1]);
            if (cj <= ci) break; /* a starter (0) or an equal/lower class stops it */
            v.v[j] = v.v[j - 1];
            j--;
        }
        v.v[j] = c;
    }
    /* 3. canonical composition, in place */
    size_t o = 0;
    long starter = -1;
    unsigned last = 0;
    for (size_t i = 0; i < v.n; i++) {
        uint32_t c = v.v[i];
        unsigned cc = ccc_of(c);
        if (starter >= 0 && !(c & RAW)) {
            bool blocked = (size_t)starter != o - 1 && (last == 0 || last >= cc);
            uint32_t comp = blocked ? 0 : nfc_compose_pair(v.v[starter], c);
            if (comp) {
                v.v[starter] = comp;
                continue;
            }
        }
        if (cc == 0) starter = (long)o;
        last = cc;
        v.v[o++] = c;
    }
    /* 4. encode */
    char *buf = malloc(4 * o + 1);
    if (!buf) {
        free(v.v);
        return false;
    }
    size_t n = 0;
    for (size_t i = 0; i < o; i++) {
        uint32_t c = v.v[i];
        if (c & RAW) buf[n++] = (char)(c & 0xFF);
        else if (c < 0x80) buf[n++] = (char)c;
        else if (c < 0x800) buf[n++] = (char)(0xC0 | c >> 6), buf[n++] = (char)(0x80 | (c & 0x3F));
        else if (c < 0x10000)
            buf[n++] = (char)(0xE0 | c >> 12), buf[n++] = (char)(0x80 | (c >> 6 & 0x3F)), buf[n++] = (char)(0x80 | (c & 0x3F));
        else
            buf[n++] = (char)(0xF0 | c >> 18), buf[n++] = (char)(0x80 | (c >> 12 & 0x3F)),
            buf[n++] = (char)(0x80 | (c >> 6 & 0x3F)), buf[n++] = (char)(0x80 | (c & 0x3F));
    }
    buf[n] = 0;
    free(v.v);
    *out = buf;
    *out_len = n;
    return true;
}
