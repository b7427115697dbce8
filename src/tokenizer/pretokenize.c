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
    {"gpt-4o", PRETOK_GPT4O, false, false, false},
    {"llama4", PRETOK_GPT4O, false, false, false},
    {"kanana2", PRETOK_GPT4O, false, false, false},
    {"talkie", PRETOK_GPT4O, false, false, false},
    {"minimax-m2", PRETOK_GPT4O, false, false, false},
    {"deepseek-llm", PRETOK_DEEPSEEK_LLM, false, false, false},
    {"deepseek-coder", PRETOK_DEEPSEEK_CODER, false, false, false},
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
    case PRETOK_GPT4O: return "gpt4o";
    case PRETOK_DEEPSEEK_LLM: return "deepseek-llm";
    case PRETOK_DEEPSEEK_CODER: return "deepseek-coder";
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

/* Case classes of the gpt-4o regex, added to the flags of PRETOK_GPT4O text
 * (above the UFLAG_ bits): [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and
 * [\p{Ll}\p{Lm}\p{Lo}\p{M}]. */
#define PT_UPPER 0x1000u
#define PT_LOWER 0x2000u

static unsigned case_flags(uint32_t cpt) {
    switch (unicode_category(cpt)) {
    case UCAT_Lu: case UCAT_Lt: return PT_UPPER;
    case UCAT_Ll: return PT_LOWER;
    case UCAT_Lm: case UCAT_Lo: case UCAT_Mn: case UCAT_Mc: case UCAT_Me: return PT_UPPER | PT_LOWER;
    default: return 0;
    }
}

/* Length of 's|'t|'re|'ve|'m|'ll|'d at pos (ASCII case-insensitive with
 * icase, as (?i:...)), 0 when there is none. */
static size_t contraction_len(const pass *p, size_t pos, bool icase) {
    if (cpt_at(p, pos) != '\'') return 0;
    uint32_t next = cpt_at(p, pos + 1), next2 = cpt_at(p, pos + 2);
    if (icase) next = unicode_tolower(next), next2 = unicode_tolower(next2);
    if (next == 's' || next == 't' || next == 'm' || next == 'd') return 2;
    if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
        return 3;
    return 0;
}

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

/* \s*[\r\n]+|\s+(?!\S)|\s+ at pos, else the code point alone: adds the
 * word and returns where the next one starts. */
static size_t newline_tail(pass *p, size_t pos) {
    size_t n_ws = 0, last_rn = 0;
    while (IS_WS(flags_at(p, pos + n_ws))) {
        uint32_t c2 = cpt_at(p, pos + n_ws);
        if (c2 == '\r' || c2 == '\n') last_rn = pos + n_ws + 1;
        n_ws++;
    }
    /* \s*[\r\n]+ */
    if (last_rn > 0) {
        add_word(p, last_rn);
        return last_rn;
    }
    return whitespace_tail(p, pos, n_ws);
}

/*  ?[^\s\p{L}\p{N}]+ then [\r\n]* (or [\r\n/]* with slash) at pos, where
 * not_punct names the classes excluded besides \s and \p{N}: adds the word
 * and returns where the next one starts, or pos when it does not match. */
static size_t punct_word(pass *p, size_t pos, unsigned not_punct, bool slash) {
    unsigned flags2 = cpt_at(p, pos) == ' ' ? flags_at(p, pos + 1) : flags_at(p, pos);
    if ((flags2 & not_punct) || !flags2) return pos;
    size_t end = pos + (cpt_at(p, pos) == ' ');
    while (!(flags2 & not_punct) && flags2) flags2 = flags_at(p, ++end);
    for (uint32_t c2 = cpt_at(p, end); c2 == '\r' || c2 == '\n' || (slash && c2 == '/');) c2 = cpt_at(p, ++end);
    add_word(p, end);
    return end;
}

/* llama.cpp's unicode_regex_split_custom_gpt2 */
static void split_gpt2(pass *p) {
    for (size_t pos = p->ini; pos < p->end;) {
        uint32_t cpt = cpt_at(p, pos);
        unsigned flags = flags_at(p, pos);

        /* 's|'t|'re|'ve|'m|'ll|'d */
        size_t clen = contraction_len(p, pos, false);
        if (clen) {
            pos += add_word(p, pos + clen);
            continue;
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
        size_t clen = contraction_len(p, pos, true);
        if (clen) {
            pos += add_word(p, pos + clen);
            continue;
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
        size_t next = punct_word(p, pos, not_punct, false);
        pos = next > pos ? next : newline_tail(p, pos);
    }
}

/* [U]*[W]+ at q (the gpt-4o regex, PRETOK_GPT4O's comment), backtracking as
 * a regex does: its end, or q when it does not match. */
static size_t upper_lower(const pass *p, size_t q) {
    size_t e = q;
    while (flags_at(p, e) & PT_UPPER) e++;
    if (flags_at(p, e) & PT_LOWER) {
        while (flags_at(p, e) & PT_LOWER) e++;
        return e;
    }
    /* give back upper code points until one of them is also lower */
    for (; e > q; e--)
        if (flags_at(p, e - 1) & PT_LOWER) return e;
    return q;
}

/* [U]+[W]* at q: its end, or q when it does not match. */
static size_t upper_then_lower(const pass *p, size_t q) {
    size_t e = q;
    while (flags_at(p, e) & PT_UPPER) e++;
    if (e == q) return q;
    while (flags_at(p, e) & PT_LOWER) e++;
    return e;
}

/* Hugging Face's gpt-4o (o200k) regex; llama.cpp runs it through std::regex
 * on its category-collapsed text, where marks are no letters and every
 * non-ASCII letter is both upper and lower case, so it differs from HF on
 * such text. hearth follows HF. */
static void split_gpt4o(pass *p) {
    for (size_t pos = p->ini; pos < p->end;) {
        uint32_t cpt = cpt_at(p, pos);
        unsigned flags = flags_at(p, pos);

        /* [^\r\n\p{L}\p{N}]?U*W+C? | [^\r\n\p{L}\p{N}]?U+W*C?, the optional
         * leading code point taken first in each alternative */
        bool lead = cpt != '\r' && cpt != '\n' && !(flags & (UFLAG_LETTER | UFLAG_NUMBER));
        size_t (*const alts[2])(const pass *, size_t) = {upper_lower, upper_then_lower};
        size_t end = pos;
        for (size_t a = 0; a < 2 && end == pos; a++) {
            if (lead && (end = alts[a](p, pos + 1)) == pos + 1) end = pos;
            if (end == pos) end = alts[a](p, pos);
        }
        if (end > pos) {
            end += contraction_len(p, end, true);
            pos += add_word(p, end);
            continue;
        }

        /* \p{N}{1,3} */
        if (IS_N(flags)) {
            while (end < pos + 3 && IS_N(flags_at(p, end))) end++;
            pos += add_word(p, end);
            continue;
        }

        /*  ?[^\s\p{L}\p{N}]+[\r\n/]* */
        size_t next = punct_word(p, pos, UFLAG_WHITESPACE | UFLAG_NUMBER | UFLAG_LETTER, true);
        pos = next > pos ? next : newline_tail(p, pos);
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
    RX_NEWLINE,      /* [\r\n] */
    RX_DS_LETTERS,   /* \s?[A-Za-zµÀ-ÖØ-ö...]+ (deepseek-llm's letters) */
    RX_DS_PUNCT,     /* \s?[!-/:-~！-／：-～‘-‟　-。]+ */
    RX_TRAILING_WS,  /* \s+$ */
    RX_CJK,          /* [一-龥ࠀ-一가-퟿]+ */
    RX_WS_LETTERS,   /* \s?\p{L}+ */
    RX_WS_PUNCT,     /* \s?\p{P}+ */
} rx_kind;

/* The letters of deepseek-llm's second regex, as [first, last] ranges. */
static const uint32_t ds_letters[][2] = {
    {0x41, 0x5A}, {0x61, 0x7A}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA},
    {0x1BC, 0x1BF}, {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x377}, {0x37B, 0x37D},
    {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5},
    {0x3F7, 0x481}, {0x48A, 0x52F}, {0x531, 0x556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5},
    {0x13F8, 0x13FD}, {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77},
    {0x1D79, 0x1D9A}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D},
    {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D},
    {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC},
    {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC},
    {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D},
    {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134},
    {0x2139, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184},
    {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D},
    {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF},
    {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F},
    {0x104B0, 0x104D3}, {0x104D8, 0x104FB}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2},
    {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

static bool in_ranges(uint32_t c, const uint32_t (*r)[2], size_t n) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < r[mid][0]) hi = mid;
        else if (c > r[mid][1]) lo = mid + 1;
        else return true;
    }
    return false;
}

/* The classes of the deepseek regexes that name code points. llama.cpp runs
 * them through std::wregex on text whose non-ASCII white space is turned
 * into U+000B, so no white space is ever in them. */
static bool rx_class(rx_kind kind, uint32_t c, unsigned flags) {
    if (IS_WS(flags)) return false;
    switch (kind) {
    case RX_DS_LETTERS: return in_ranges(c, ds_letters, sizeof ds_letters / sizeof ds_letters[0]);
    case RX_DS_PUNCT:
        return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x7E) || (c >= 0xFF01 && c <= 0xFF0F) ||
               (c >= 0xFF1A && c <= 0xFF5E) || (c >= 0x2018 && c <= 0x201F) || (c >= 0x3000 && c <= 0x3002);
    case RX_CJK: return (c >= 0x800 && c <= 0x9FA5) || (c >= 0xAC00 && c <= 0xD7FF);
    case RX_WS_LETTERS: return IS_L(flags);
    case RX_WS_PUNCT: return flags & UFLAG_PUNCT;
    default: return false;
    }
}

/* End of the run of rx_class code points from ms (ms when none). */
static size_t rx_run(const pass *p, rx_kind kind, size_t ms) {
    while (ms < p->end && rx_class(kind, p->cpts[ms], p->flags[ms])) ms++;
    return ms;
}

static bool rx_punct(uint32_t cpt, unsigned flags, bool backtick) {
    if (flags & UFLAG_PUNCT) return true;
    if (cpt >= 128) return false;
    return cpt == '$' || cpt == '+' || cpt == '<' || cpt == '=' || cpt == '>' || cpt == '^' ||
           cpt == '~' || cpt == '|' || (backtick && cpt == '`');
}

static bool is_digit(uint32_t c) { return c >= '0' && c <= '9'; }

static void split_rx(pass *p, rx_kind kind) {
    if (kind == RX_TRAILING_WS) {
        /* one match at most: the white space the chunk ends with */
        size_t ws = p->end;
        while (ws > p->ini && IS_WS(p->flags[ws - 1])) ws--;
        add_word(p, ws);
        add_word(p, p->end);
        return;
    }
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
            case RX_NEWLINE:
                if (c == '\r' || c == '\n') found = true, me = ms + 1;
                break;
            case RX_DS_LETTERS:
            case RX_DS_PUNCT:
            case RX_WS_LETTERS:
            case RX_WS_PUNCT:
                /* \s? first, then the class alone */
                if (IS_WS(f) && (me = rx_run(p, kind, ms + 1)) > ms + 1) found = true;
                else if ((me = rx_run(p, kind, ms)) > ms) found = true;
                break;
            case RX_CJK:
                if ((me = rx_run(p, kind, ms)) > ms) found = true;
                break;
            case RX_TRAILING_WS: break; /* above */
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

typedef enum { PASS_GPT2, PASS_LLAMA3, PASS_QWEN2, PASS_QWEN35, PASS_GPT4O, PASS_RX } pass_kind;

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
        case PASS_GPT4O: split_gpt4o(&p); break;
        case PASS_RX: split_rx(&p, def.rx); break;
        }
    }
    return p.n_out;
}

size_t pretokenize(pretok_kind kind, const uint32_t *cpts, size_t n, uint16_t *flags, size_t *lens,
                   size_t *work) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) flags[i] = (uint16_t)unicode_flags(cpts[i]);
    if (kind == PRETOK_GPT4O)
        for (size_t i = 0; i < n; i++) flags[i] |= (uint16_t)case_flags(cpts[i]);

    pass_def passes[6];
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
    case PRETOK_GPT4O: passes[n_passes++] = (pass_def){PASS_GPT4O, 0}; break;
    case PRETOK_DEEPSEEK_LLM:
        passes[n_passes++] = (pass_def){PASS_RX, RX_NEWLINE};
        passes[n_passes++] = (pass_def){PASS_RX, RX_DS_LETTERS};
        passes[n_passes++] = (pass_def){PASS_RX, RX_DS_PUNCT};
        passes[n_passes++] = (pass_def){PASS_RX, RX_TRAILING_WS};
        passes[n_passes++] = (pass_def){PASS_RX, RX_CJK};
        passes[n_passes++] = (pass_def){PASS_RX, RX_NUMBER_RUNS};
        break;
    case PRETOK_DEEPSEEK_CODER:
        passes[n_passes++] = (pass_def){PASS_RX, RX_NEWLINE};
        passes[n_passes++] = (pass_def){PASS_RX, RX_WS_LETTERS};
        passes[n_passes++] = (pass_def){PASS_RX, RX_WS_PUNCT};
        passes[n_passes++] = (pass_def){PASS_RX, RX_CJK};
        passes[n_passes++] = (pass_def){PASS_RX, RX_EACH_NUMBER};
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
