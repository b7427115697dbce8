#include "tokenizer/unicode.h"

#include <string.h>

/* ---- categories ---- */

enum unicode_category unicode_category(uint32_t cpt) {
    if (cpt >= UNICODE_MAX_CPT) return UCAT_Cn;
    /* last range whose first code point is <= cpt; entry 0 starts at 0 */
    size_t lo = 0, hi = unicode_category_ranges_count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((unicode_category_ranges[mid] >> 8) <= cpt) lo = mid;
        else hi = mid;
    }
    return (enum unicode_category)(unicode_category_ranges[lo] & 0xFF);
}

static const uint16_t category_flags[UCAT_COUNT] = {
    [UCAT_Cn] = UFLAG_UNDEFINED,
    [UCAT_Lu] = UFLAG_LETTER, [UCAT_Ll] = UFLAG_LETTER, [UCAT_Lt] = UFLAG_LETTER,
    [UCAT_Lm] = UFLAG_LETTER, [UCAT_Lo] = UFLAG_LETTER,
    [UCAT_Mn] = UFLAG_MARK, [UCAT_Mc] = UFLAG_MARK, [UCAT_Me] = UFLAG_MARK,
    [UCAT_Nd] = UFLAG_NUMBER, [UCAT_Nl] = UFLAG_NUMBER, [UCAT_No] = UFLAG_NUMBER,
    [UCAT_Pc] = UFLAG_PUNCT, [UCAT_Pd] = UFLAG_PUNCT, [UCAT_Ps] = UFLAG_PUNCT,
    [UCAT_Pe] = UFLAG_PUNCT, [UCAT_Pi] = UFLAG_PUNCT, [UCAT_Pf] = UFLAG_PUNCT,
    [UCAT_Po] = UFLAG_PUNCT,
    [UCAT_Sm] = UFLAG_SYMBOL, [UCAT_Sc] = UFLAG_SYMBOL, [UCAT_Sk] = UFLAG_SYMBOL,
    [UCAT_So] = UFLAG_SYMBOL,
    [UCAT_Zs] = UFLAG_SEPARATOR, [UCAT_Zl] = UFLAG_SEPARATOR, [UCAT_Zp] = UFLAG_SEPARATOR,
    [UCAT_Cc] = UFLAG_CONTROL, [UCAT_Cf] = UFLAG_CONTROL, [UCAT_Cs] = UFLAG_CONTROL,
    [UCAT_Co] = UFLAG_CONTROL,
};

bool unicode_is_whitespace(uint32_t cpt) {
    size_t lo = 0, hi = unicode_whitespace_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (unicode_whitespace[mid] == cpt) return true;
        if (unicode_whitespace[mid] < cpt) lo = mid + 1;
        else hi = mid;
    }
    return false;
}

unsigned unicode_flags(uint32_t cpt) {
    if (cpt >= UNICODE_MAX_CPT) return 0;
    unsigned f = category_flags[unicode_category(cpt)];
    if ((cpt <= 0x20 || cpt >= 0x85) && unicode_is_whitespace(cpt)) f |= UFLAG_WHITESPACE;
    return f;
}

uint32_t unicode_tolower(uint32_t cpt) {
    size_t lo = 0, hi = unicode_lowercase_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (unicode_lowercase[mid][0] == cpt) return unicode_lowercase[mid][1];
        if (unicode_lowercase[mid][0] < cpt) lo = mid + 1;
        else hi = mid;
    }
    return cpt;
}

/* ---- UTF-8 ---- */

size_t unicode_len_utf8(uint8_t lead) {
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[lead >> 4];
}

static bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

uint32_t unicode_decode_lax(const uint8_t *s, size_t len, size_t *pos) {
    size_t i = *pos;
    uint8_t b0 = s[i];
    if (b0 < 0x80) {
        *pos = i + 1;
        return b0;
    }
    uint32_t cpt;
    size_t n;
    if (!(b0 & 0x40)) {
        n = 0;
    } else if (!(b0 & 0x20)) {
        n = 2;
    } else if (!(b0 & 0x10)) {
        n = 3;
    } else if (!(b0 & 0x08)) {
        n = 4;
    } else {
        n = 0;
    }
    if (n == 0 || len - i < n) goto invalid;
    for (size_t k = 1; k < n; k++)
        if (!is_cont(s[i + k])) goto invalid;
    switch (n) {
    case 2: cpt = ((uint32_t)(b0 & 0x1F) << 6) | (s[i + 1] & 0x3F); break;
    case 3:
        cpt = ((uint32_t)(b0 & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
        break;
    default:
        cpt = ((uint32_t)(b0 & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
              ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
        break;
    }
    *pos = i + n;
    return cpt < UNICODE_MAX_CPT ? cpt : UNICODE_REPLACEMENT;
invalid:
    *pos = i + 1;
    return UNICODE_REPLACEMENT;
}

size_t unicode_encode(uint32_t cpt, uint8_t out[4]) {
    if (cpt >= UNICODE_MAX_CPT) cpt = UNICODE_REPLACEMENT;
    if (cpt < 0x80) {
        out[0] = (uint8_t)cpt;
        return 1;
    }
    if (cpt < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cpt >> 6));
        out[1] = (uint8_t)(0x80 | (cpt & 0x3F));
        return 2;
    }
    if (cpt < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cpt >> 12));
        out[1] = (uint8_t)(0x80 | ((cpt >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cpt & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cpt >> 18));
    out[1] = (uint8_t)(0x80 | ((cpt >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cpt >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cpt & 0x3F));
    return 4;
}

/* ---- GPT-2 byte-level mapping ----
 * Printable bytes (! to ~, ¡ to ¬, ® to ÿ) stand for themselves; the other 68
 * bytes, in order, map to U+0100 and up: 0x00-0x20, 0x7F-0xA0, 0xAD. */

uint32_t unicode_byte_to_cpt(uint8_t b) {
    if (b <= 0x20) return 0x100 + b;
    if (b >= 0x7F && b <= 0xA0) return 0x100 + 33 + (b - 0x7F);
    if (b == 0xAD) return 0x100 + 33 + 34;
    return b;
}

int unicode_cpt_to_byte(uint32_t cpt) {
    if ((cpt >= 0x21 && cpt <= 0x7E) || (cpt >= 0xA1 && cpt <= 0xAC) || (cpt >= 0xAE && cpt <= 0xFF))
        return (int)cpt;
    if (cpt >= 0x100 && cpt < 0x100 + 33) return (int)(cpt - 0x100);
    if (cpt >= 0x100 + 33 && cpt < 0x100 + 33 + 34) return (int)(cpt - 0x100 - 33 + 0x7F);
    if (cpt == 0x100 + 33 + 34) return 0xAD;
    return -1;
}

/* ---- streaming output (WHATWG UTF-8 decoder) ---- */

void utf8_stream_init(utf8_stream *s) { memset(s, 0, sizeof *s); }

typedef struct {
    char *out;
    size_t cap, n;
} sink;

static void put(sink *k, const void *p, size_t n) {
    for (size_t i = 0; i < n && k->n < k->cap; i++) k->out[k->n++] = ((const char *)p)[i];
}

static void put_fffd(sink *k) { put(k, "\xEF\xBF\xBD", 3); }

/* Bytes a sequence starting with lead needs in total, 0 if lead cannot start one. */
static size_t seq_len(uint8_t lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0;
}

/* Whether b may follow the k-th byte (k >= 1) of a sequence starting with lead. */
static bool cont_ok(uint8_t lead, size_t k, uint8_t b) {
    uint8_t lo = 0x80, hi = 0xBF;
    if (k == 1) {
        if (lead == 0xE0) lo = 0xA0;
        else if (lead == 0xED) hi = 0x9F;
        else if (lead == 0xF0) lo = 0x90;
        else if (lead == 0xF4) hi = 0x8F;
    }
    return b >= lo && b <= hi;
}

size_t utf8_stream_push(utf8_stream *s, const void *bytes, size_t len, char *out, size_t cap) {
    sink k = {out, cap, 0};
    const uint8_t *in = bytes;
    size_t i = 0;
    while (i < len) {
        uint8_t b = in[i];
        if (s->n == 0) {
            size_t need = seq_len(b);
            if (need == 0) put_fffd(&k);
            else if (need == 1) put(&k, &b, 1);
            else s->pending[s->n++] = b;
            i++;
            continue;
        }
        if (!cont_ok(s->pending[0], s->n, b)) {
            /* the pending prefix is a maximal invalid subpart; b is looked at again */
            put_fffd(&k);
            s->n = 0;
            continue;
        }
        s->pending[s->n++] = b;
        i++;
        if (s->n == seq_len(s->pending[0])) {
            put(&k, s->pending, s->n);
            s->n = 0;
        }
    }
    return k.n;
}

size_t utf8_stream_flush(utf8_stream *s, char *out, size_t cap) {
    sink k = {out, cap, 0};
    if (s->n) put_fffd(&k);
    s->n = 0;
    return k.n;
}
