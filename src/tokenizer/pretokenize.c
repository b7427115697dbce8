#include "tokenizer/pretokenize.h"

#include <string.h>

#include "tokenizer/unicode.h"

/* ---- names ---- */

typedef struct {
    const char *name;
    pretok_kind kind;
    bool ignore_merges, add_bos, no_bos;
} pretok_name;

/* llama.cpp (llama-vocab.cpp) maps these names to the regexes implemented
 * here; names of pre-tokenizers not implemented are left out and fall back
 * to the default. "gpt2" is accepted as a synonym of llama.cpp's "gpt-2". */
static const pretok_name names[] = {
    {"default", PRETOK_DEFAULT, false, false, false},
    {"llama3", PRETOK_LLAMA3, true, true, false},
    {"llama-v3", PRETOK_LLAMA3, true, true, false},
    {"llama-bpe", PRETOK_LLAMA3, true, true, false},
    {"falcon3", PRETOK_LLAMA3, true, true, false},
    {"falcon-h1", PRETOK_LLAMA3, true, true, false},
    {"pixtral", PRETOK_LLAMA3, true, true, false},
    {"midm-2.0", PRETOK_LLAMA3, true, true, false},
    {"lfm2", PRETOK_LLAMA3, true, true, false},
    {"jina-v5-nano", PRETOK_LLAMA3, true, true, false},
    {"dbrx", PRETOK_LLAMA3, false, false, false},
    {"smaug-bpe", PRETOK_LLAMA3, false, false, false},
    {"glm4", PRETOK_LLAMA3, false, false, true},
    {"chatglm-bpe", PRETOK_LLAMA3, false, false, true},
    {"qwen2", PRETOK_QWEN2, false, false, false},
    {"deepseek-r1-qwen", PRETOK_QWEN2, false, false, false},
    {"kormo", PRETOK_QWEN2, false, false, false},
    {"f2llmv2", PRETOK_QWEN2, false, false, false},
    {"megrez", PRETOK_QWEN2, false, false, false},
    {"stablelm2", PRETOK_QWEN2, false, false, false},
    {"hunyuan", PRETOK_QWEN2, false, false, false},
    {"solar-open", PRETOK_QWEN2, false, false, false},
    {"grok-2", PRETOK_QWEN2, false, false, false},
    {"qwen35", PRETOK_QWEN35, false, false, false},
    {"gpt2", PRETOK_GPT2, false, false, false},
    {"gpt-2", PRETOK_GPT2, false, false, false},
    {"phi-2", PRETOK_GPT2, false, false, false},
    {"jina-es", PRETOK_GPT2, false, false, false},
    {"jina-de", PRETOK_GPT2, false, false, false},
    {"gigachat", PRETOK_GPT2, false, false, false},
    {"jina-v2-es", PRETOK_GPT2, false, false, false},
    {"jina-v2-de", PRETOK_GPT2, false, false, false},
    {"a.x-4.0", PRETOK_GPT2, false, false, false},
    {"mellum", PRETOK_GPT2, false, false, false},
    {"modern-bert", PRETOK_GPT2, false, false, false},
    {"exaone4", PRETOK_GPT2, false, false, false},
    {"mpt", PRETOK_GPT2, false, false, false},
    {"olmo", PRETOK_GPT2, false, false, false},
    {"jais", PRETOK_GPT2, false, false, false},
    {"trillion", PRETOK_GPT2, false, false, false},
    {"granite-docling", PRETOK_GPT2, false, false, false},
    {"jina-v1-en", PRETOK_GPT2, false, false, false},
    {"jina-v2-code", PRETOK_GPT2, false, false, false},
    {"roberta-bpe", PRETOK_GPT2, false, false, false},
    {"starcoder", PRETOK_SMOLLM, false, false, false},
    {"refact", PRETOK_SMOLLM, false, false, false},
    {"command-r", PRETOK_SMOLLM, false, false, false},
    {"smollm", PRETOK_SMOLLM, false, false, false},
    {"codeshell", PRETOK_SMOLLM, false, false, false},
    {"exaone", PRETOK_SMOLLM, false, false, false},
    {"minerva-7b", PRETOK_SMOLLM, false, false, false},
    {"mellum2", PRETOK_SMOLLM, false, false, false},
    {"falcon", PRETOK_FALCON, false, false, false},
};

bool pretok_lookup(const char *name, size_t len, pretok_info *info) {
    memset(info, 0, sizeof *info);
    info->kind = PRETOK_DEFAULT;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) == len && memcmp(names[i].name, name, len) == 0) {
            info->kind = names[i].kind;
            info->ignore_merges = names[i].ignore_merges;
            info->add_bos = names[i].add_bos;
            info->no_bos = names[i].no_bos;
            return true;
        }
    }
    return false;
}

const char *pretok_kind_name(pretok_kind kind) {
    switch (kind) {
    case PRETOK_DEFAULT: return "default";
    case PRETOK_GPT2: return "gpt2";
    case PRETOK_LLAMA3: return "llama3";
    case PRETOK_QWEN2: return "qwen2";
    case PRETOK_QWEN35: return "qwen35";
    case PRETOK_SMOLLM: return "smollm";
    case PRETOK_FALCON: return "falcon";
    }
    return "?";
}

/* ---- one pass: refine a list of chunks (lengths in code points) ---- */

#define OUT_OF_RANGE 0xFFFFFFFFu

typedef struct {
    const uint32_t *cpts;
    const uint16_t *flags;
    size_t ini, end;  /* current chunk [ini, end) */
    size_t prev_end;  /* end of the last word emitted */
    size_t *out;
    size_t n_out;
} pass;

static uint32_t cpt_at(const pass *p, size_t pos) {
    return (pos >= p->ini && pos < p->end) ? p->cpts[pos] : OUT_OF_RANGE;
}

static unsigned flags_at(const pass *p, size_t pos) {
    return (pos >= p->ini && pos < p->end) ? p->flags[pos] : 0;
}

/* Ends a word at end (no-op for an empty one); returns its length. */
static size_t add_word(pass *p, size_t end) {
    size_t len = end - p->prev_end;
    if (len > 0) p->out[p->n_out++] = len;
    p->prev_end = end;
    return len;
}

#define IS_WS(f) ((f) & UFLAG_WHITESPACE)
#define IS_L(f) ((f) & UFLAG_LETTER)
#define IS_N(f) ((f) & UFLAG_NUMBER)

/* llama.cpp's unicode_regex_split_custom_gpt2 */
/* The last alternatives both splitters share, at pos with n_ws whitespace
 * code points ahead: \s+(?!\S), then \s+, else the code point alone (no
 * match). Adds the word and returns where the next one starts. */
static size_t whitespace_tail(pass *p, size_t pos, size_t n_ws) {
    if (n_ws > 1 && cpt_at(p, pos + n_ws) != OUT_OF_RANGE) pos += n_ws - 1;
    else if (n_ws > 0) pos += n_ws;
    else pos++;
    add_word(p, pos);
    return pos;
}

static void split_gpt2(pass *p) {
    for (size_t pos = p->ini; pos < p->end;) {
        uint32_t cpt = cpt_at(p, pos);
        unsigned flags = flags_at(p, pos);

        /* 's|'t|'re|'ve|'m|'ll|'d */
        if (cpt == '\'' && pos + 1 < p->end) {
            uint32_t next = cpt_at(p, pos + 1);
            if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                pos += add_word(p, pos + 2);
                continue;
            }
            if (pos + 2 < p->end) {
                uint32_t next2 = cpt_at(p, pos + 2);
                if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') ||
                    (next == 'l' && next2 == 'l')) {
                    pos += add_word(p, pos + 3);
                    continue;
                }
            }
        }

        unsigned flags2 = cpt == ' ' ? flags_at(p, pos + 1) : flags;
        /*  ?\p{L}+ */
        if (IS_L(flags2)) {
            pos += (cpt == ' ');
            while (IS_L(flags2)) flags2 = flags_at(p, ++pos);
            add_word(p, pos);
            continue;
        }
        /*  ?\p{N}+ */
        if (IS_N(flags2)) {
            pos += (cpt == ' ');
            while (IS_N(flags2)) flags2 = flags_at(p, ++pos);
            add_word(p, pos);
            continue;
        }
        /*  ?[^\s\p{L}\p{N}]+ */
        if (!(flags2 & (UFLAG_WHITESPACE | UFLAG_LETTER | UFLAG_NUMBER)) && flags2) {
            pos += (cpt == ' ');
            while (!(flags2 & (UFLAG_WHITESPACE | UFLAG_LETTER | UFLAG_NUMBER)) && flags2)
                flags2 = flags_at(p, ++pos);
            add_word(p, pos);
            continue;
        }

        size_t n_ws = 0;
        while (IS_WS(flags_at(p, pos + n_ws))) n_ws++;
        pos = whitespace_tail(p, pos, n_ws);
    }
}

/* llama.cpp's unicode_regex_split_custom_llama3 / _qwen2 / _qwen35:
 * max_digits is 3 for \p{N}{1,3}, 1 for \p{N}; letter is UFLAG_LETTER, or
 * UFLAG_LETTER|UFLAG_MARK for [\p{L}\p{M}]+ */
static void split_llama3(pass *p, size_t max_digits, unsigned letter) {
    const unsigned not_punct = UFLAG_WHITESPACE | UFLAG_NUMBER | letter;
    for (size_t pos = p->ini; pos < p->end;) {
        uint32_t cpt = cpt_at(p, pos);
        unsigned flags = flags_at(p, pos);

        /* (?i:'s|'t|'re|'ve|'m|'ll|'d) */
        if (cpt == '\'' && pos + 1 < p->end) {
            uint32_t next = unicode_tolower(cpt_at(p, pos + 1));
            if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                pos += add_word(p, pos + 2);
                continue;
            }
            if (pos + 2 < p->end) {
                uint32_t next2 = unicode_tolower(cpt_at(p, pos + 2));
                if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') ||
                    (next == 'l' && next2 == 'l')) {
                    pos += add_word(p, pos + 3);
                    continue;
                }
            }
        }

        /* [^\r\n\p{L}\p{N}]?\p{L}+ */
        if (!(cpt == '\r' || cpt == '\n' || IS_N(flags))) {
            if ((flags & letter) || (flags_at(p, pos + 1) & letter)) {
                pos++;
                while (flags_at(p, pos) & letter) pos++;
                add_word(p, pos);
                continue;
            }
        }

        /* \p{N}{1,max_digits} */
        if (IS_N(flags)) {
            size_t ini = pos;
            while (IS_N(flags_at(p, pos))) {
                if (++pos - ini >= max_digits) {
                    add_word(p, pos);
                    ini = pos;
                }
            }
            add_word(p, pos);
            continue;
        }

        /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
        unsigned flags2 = cpt == ' ' ? flags_at(p, pos + 1) : flags;
        if (!(flags2 & not_punct) && flags) {
            pos += (cpt == ' ');
            while (!(flags2 & not_punct) && flags2) flags2 = flags_at(p, ++pos);
            uint32_t c2 = cpt_at(p, pos);
            while (c2 == '\r' || c2 == '\n') c2 = cpt_at(p, ++pos);
            add_word(p, pos);
            continue;
        }

        size_t n_ws = 0, last_rn = 0;
        while (IS_WS(flags_at(p, pos + n_ws))) {
            uint32_t c2 = cpt_at(p, pos + n_ws);
            if (c2 == '\r' || c2 == '\n') last_rn = pos + n_ws + 1;
            n_ws++;
        }
        /* \s*[\r\n]+ */
        if (last_rn > 0) {
            pos = last_rn;
            add_word(p, pos);
            continue;
        }
        pos = whitespace_tail(p, pos, n_ws);
    }
}

/* The regexes llama.cpp runs through std::regex, as their matches: each
 * match and each gap between matches becomes a word. */
typedef enum {
    RX_EACH_NUMBER,  /* \p{N} */
    RX_NUMBER_RUNS,  /* \p{N}+ */
    RX_PUNCT_RUNS,   /* [\p{P}\$\+<=>\^~\|]+ */
    RX_PUNCT_RUNS_BT, /* [\p{P}\$\+<=>\^~\|`]+ */
    RX_DIGITS3,      /* [0-9][0-9][0-9] */
} rx_kind;

static bool rx_punct(uint32_t cpt, unsigned flags, bool backtick) {
    if (flags & UFLAG_PUNCT) return true;
    if (cpt >= 128) return false;
    return cpt == '$' || cpt == '+' || cpt == '<' || cpt == '=' || cpt == '>' || cpt == '^' ||
           cpt == '~' || cpt == '|' || (backtick && cpt == '`');
}

static bool is_digit(uint32_t c) { return c >= '0' && c <= '9'; }

static void split_rx(pass *p, rx_kind kind) {
    size_t pos = p->ini;
    while (pos < p->end) {
        /* find the next match [ms, me) at or after pos */
        size_t ms = pos, me = pos;
        bool found = false;
        for (; ms < p->end && !found; ms++) {
            uint32_t c = p->cpts[ms];
            unsigned f = p->flags[ms];
            switch (kind) {
            case RX_EACH_NUMBER:
                if (IS_N(f)) found = true, me = ms + 1;
                break;
            case RX_NUMBER_RUNS:
                if (IS_N(f)) {
                    found = true;
                    for (me = ms + 1; me < p->end && IS_N(p->flags[me]); me++) {}
                }
                break;
            case RX_PUNCT_RUNS:
            case RX_PUNCT_RUNS_BT: {
                bool bt = kind == RX_PUNCT_RUNS_BT;
                if (rx_punct(c, f, bt)) {
                    found = true;
                    for (me = ms + 1; me < p->end && rx_punct(p->cpts[me], p->flags[me], bt); me++) {}
                }
                break;
            }
            case RX_DIGITS3:
                if (ms + 3 <= p->end && is_digit(c) && is_digit(p->cpts[ms + 1]) && is_digit(p->cpts[ms + 2]))
                    found = true, me = ms + 3;
                break;
            }
            if (found) break;
        }
        if (!found) break;
        add_word(p, ms);
        add_word(p, me);
        pos = me;
    }
    add_word(p, p->end);
}

typedef enum { PASS_GPT2, PASS_LLAMA3, PASS_QWEN2, PASS_QWEN35, PASS_RX } pass_kind;

typedef struct {
    pass_kind kind;
    rx_kind rx;
} pass_def;

static size_t run_pass(pass_def def, const uint32_t *cpts, const uint16_t *flags, const size_t *in,
                       size_t n_in, size_t *out) {
    pass p = {.cpts = cpts, .flags = flags, .out = out, .n_out = 0};
    size_t start = 0;
    for (size_t i = 0; i < n_in; i++) {
        p.ini = start;
        p.end = start + in[i];
        p.prev_end = start;
        start = p.end;
        switch (def.kind) {
        case PASS_GPT2: split_gpt2(&p); break;
        case PASS_LLAMA3: split_llama3(&p, 3, UFLAG_LETTER); break;
        case PASS_QWEN2: split_llama3(&p, 1, UFLAG_LETTER); break;
        case PASS_QWEN35: split_llama3(&p, 1, UFLAG_LETTER | UFLAG_MARK); break;
        case PASS_RX: split_rx(&p, def.rx); break;
        }
    }
    return p.n_out;
}

size_t pretokenize(pretok_kind kind, const uint32_t *cpts, size_t n, uint16_t *flags, size_t *lens,
                   size_t *work) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) flags[i] = (uint16_t)unicode_flags(cpts[i]);

    pass_def passes[4];
    size_t n_passes = 0;
    switch (kind) {
    case PRETOK_GPT2: passes[n_passes++] = (pass_def){PASS_GPT2, 0}; break;
    case PRETOK_LLAMA3: passes[n_passes++] = (pass_def){PASS_LLAMA3, 0}; break;
    case PRETOK_QWEN2: passes[n_passes++] = (pass_def){PASS_QWEN2, 0}; break;
    case PRETOK_QWEN35: passes[n_passes++] = (pass_def){PASS_QWEN35, 0}; break;
    case PRETOK_SMOLLM:
        passes[n_passes++] = (pass_def){PASS_RX, RX_EACH_NUMBER};
        passes[n_passes++] = (pass_def){PASS_GPT2, 0};
        break;
    case PRETOK_FALCON:
        passes[n_passes++] = (pass_def){PASS_RX, RX_PUNCT_RUNS_BT};
        passes[n_passes++] = (pass_def){PASS_GPT2, 0};
        passes[n_passes++] = (pass_def){PASS_RX, RX_DIGITS3};
        break;
    case PRETOK_DEFAULT:
        passes[n_passes++] = (pass_def){PASS_RX, RX_PUNCT_RUNS};
        passes[n_passes++] = (pass_def){PASS_GPT2, 0};
        passes[n_passes++] = (pass_def){PASS_RX, RX_NUMBER_RUNS};
        passes[n_passes++] = (pass_def){PASS_RX, RX_DIGITS3};
        break;
    }

    /* ping-pong between lens and work so that the last pass writes lens */
    size_t *bufs[2] = {lens, work};
    size_t cur = n_passes % 2; /* buffer holding the input of the first pass */
    bufs[cur][0] = n;
    size_t count = 1;
    for (size_t i = 0; i < n_passes; i++) {
        count = run_pass(passes[i], cpts, flags, bufs[cur], count, bufs[cur ^ 1]);
        cur ^= 1;
    }
    return count;
}
