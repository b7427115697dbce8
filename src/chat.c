#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "grammar/grammar.h"
#include "grammar/token_mask.h"
#include "jinja/template.h"
#include "think.h"
#include "tokenizer/tokenizer.h"

/* Used when a model has no tokenizer.chat_template. */
static const char CHATML[] =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
    "'\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

struct hearth_chat {
    hearth_engine *e;
    const hearth_tokenizer *tok;
    char *tmpl;
    size_t tmpl_len;
    const char *bos_text, *eos_text;
    char warning[256];
    unsigned features; /* HEARTH_CHAT_* */

    hearth_chat_message *msgs; /* role and content strings are owned */
    size_t n_msgs, cap_msgs;

    int year, month, day;

    int32_t *cached; /* the tokens whose keys and values are in the KV cache */
    int n_cached;

    struct answer *answer; /* the answer being generated, between begin and end */
    vocab_trie *trie;      /* the vocabulary for grammars, built on first use */
};

struct answer;
static void answer_free(struct answer *a);

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static hearth_status push_message(hearth_chat *c, const char *role, const char *content, const char *reasoning,
                                  hearth_error *err) {
    if (c->n_msgs == c->cap_msgs) {
        size_t cap = c->cap_msgs ? c->cap_msgs * 2 : 8;
        hearth_chat_message *m = realloc(c->msgs, cap * sizeof *m);
        if (!m) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
        c->msgs = m;
        c->cap_msgs = cap;
    }
    char *r = dup_str(role), *t = dup_str(content), *k = reasoning ? dup_str(reasoning) : NULL;
    if (!r || !t || (reasoning && !k)) {
        free(r);
        free(t);
        free(k);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    c->msgs[c->n_msgs++] = (hearth_chat_message){r, t, k};
    return HEARTH_OK;
}

static void drop_message(hearth_chat *c, size_t i) {
    free((char *)c->msgs[i].role);
    free((char *)c->msgs[i].content);
    free((char *)c->msgs[i].reasoning_content);
    memmove(c->msgs + i, c->msgs + i + 1, (c->n_msgs - i - 1) * sizeof *c->msgs);
    c->n_msgs--;
}

hearth_status hearth_chat_create(hearth_chat **out, hearth_engine *e, const char *system, hearth_error *err) {
    *out = NULL;
    hearth_chat *c = calloc(1, sizeof *c);
    if (!c) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    c->e = e;
    c->tok = hearth_engine_tokenizer(e);
    gguf_str t;
    if (gguf_get_str(hearth_engine_gguf(e), "tokenizer.chat_template", &t) && t.len > 0) {
        c->tmpl = malloc(t.len + 1);
        if (c->tmpl) {
            memcpy(c->tmpl, t.data, t.len);
            c->tmpl[t.len] = 0;
            c->tmpl_len = t.len;
        }
    } else {
        c->tmpl = dup_str(CHATML);
        c->tmpl_len = sizeof CHATML - 1;
        snprintf(c->warning, sizeof c->warning, "%s has no chat template; using ChatML",
                 gguf_name(hearth_engine_gguf(e)));
    }
    int32_t bos = tokenizer_bos(c->tok), eos = tokenizer_eos(c->tok);
    c->bos_text = bos >= 0 ? tokenizer_token_text(c->tok, bos) : "";
    c->eos_text = eos >= 0 ? tokenizer_token_text(c->tok, eos) : "";
    hearth_status st = c->tmpl ? HEARTH_OK : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    if (!st && (strstr(c->tmpl, "<think>") || strstr(c->tmpl, "</think>"))) c->features |= HEARTH_CHAT_REASONING;
    if (!st && strstr(c->tmpl, "enable_thinking")) c->features |= HEARTH_CHAT_ENABLE_THINKING;
    if (!st && system && *system) st = push_message(c, "system", system, NULL, err);
    if (st) {
        hearth_chat_free(c);
        return st;
    }
    *out = c;
    return HEARTH_OK;
}

void hearth_chat_free(hearth_chat *c) {
    if (!c) return;
    answer_free(c->answer);
    vocab_trie_free(c->trie);
    while (c->n_msgs) drop_message(c, c->n_msgs - 1);
    free(c->msgs);
    free(c->tmpl);
    free(c->cached);
    free(c);
}

void hearth_chat_reset(hearth_chat *c) {
    size_t keep = c->n_msgs && strcmp(c->msgs[0].role, "system") == 0 ? 1 : 0;
    while (c->n_msgs > keep) drop_message(c, c->n_msgs - 1);
}

const char *hearth_chat_warning(const hearth_chat *c) { return c->warning; }
unsigned hearth_chat_features(const hearth_chat *c) { return c->features; }

void hearth_chat_set_date(hearth_chat *c, int year, int month, int day) {
    c->year = year;
    c->month = month;
    c->day = day;
}

/* Whether the prompt ends inside a think block: "<think>" and whitespace. */
static bool ends_in_think(const char *text, size_t len) {
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == '\t'))
        len--;
    return len >= 7 && memcmp(text + len - 7, "<think>", 7) == 0;
}

/* The prompt's tokens; *think_mode (may be NULL) says how its answer is split (think.h). */
static hearth_status render_tokens(hearth_chat *c, const json_value *vars, int32_t **out, int *n, int *think_mode,
                                   hearth_error *err) {
    hearth_template_input in = {
        .messages = c->msgs,
        .n_messages = c->n_msgs,
        .add_generation_prompt = true,
        .variables = vars,
        .bos_token = c->bos_text,
        .eos_token = c->eos_text,
        .year = c->year, .month = c->month, .day = c->day,
    };
    char *text = NULL;
    uint8_t *from_request = NULL;
    size_t len = 0;
    hearth_status st = hearth_template_render_marked(c->tmpl, c->tmpl_len, &in, &text, &len, &from_request, err);
    if (st) return hearth_prefix(err, "chat template: ");
    if (think_mode)
        *think_mode = !(c->features & HEARTH_CHAT_REASONING) ? THINK_OFF : ends_in_think(text, len) ? THINK_OPEN
                                                                                                     : THINK_AUTO;
    /* Only the template's own bytes may form special tokens: what the
     * request wrote (and what the template made of it) is plain text. */
    int32_t *ids = NULL;
    size_t n_ids = 0;
    st = tokenizer_encode_protected(c->tok, text, len, true, from_request, &ids, &n_ids, err);
    free(from_request);
    free(text);
    if (st) return st;
    int32_t bos = tokenizer_bos(c->tok);
    bool add_bos = tokenizer_add_bos(c->tok) && bos >= 0 && !(n_ids && ids[0] == bos);
    int32_t *all = malloc((n_ids + 1) * sizeof *all);
    if (!all || n_ids + 1 > (size_t)1 << 30) {
        free(ids);
        free(all);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    size_t k = 0;
    if (add_bos) all[k++] = bos;
    if (n_ids) memcpy(all + k, ids, n_ids * sizeof *ids);
    free(ids);
    *out = all;
    *n = (int)(k + n_ids);
    return HEARTH_OK;
}

hearth_status hearth_chat_prompt_tokens(hearth_chat *c, int32_t **out, int *n, hearth_error *err) {
    return render_tokens(c, NULL, out, n, NULL, err);
}

/* ---- one answer, token by token ---- */

typedef struct answer {
    hearth_gen *gen;
    char **stop;        /* copies of the options' stop strings */
    int n_stop;
    think_buf decoded;  /* decoded text so far */
    size_t emitted;     /* of which went through the splitter */
    think_split split;  /* sorts what was emitted into reasoning and content */
    think_buf reasoning, content;
    size_t reasoning_given, reasoning_shown; /* the last next()'s reasoning: [given, shown) */
    size_t content_given; /* of which next() gave out */
    int32_t *tokens;    /* the prompt, then the generated tokens */
    int n_prompt, n_tokens, cap_tokens;
    int dropped_messages;
    bool raw;           /* a raw completion: not part of the conversation */
    bool stopped, interrupted, finished;
    bool waiting;       /* the last next() left the backend's step in flight */
    grammar *grammar;   /* the options' grammar, compiled, and where the answer is in it */
    grammar_matcher *matcher;
    hearth_status failed; /* a failure inside next(), reported again by end() */
} answer;

static void answer_free(struct answer *a) {
    if (!a) return;
    hearth_gen_free(a->gen);
    for (int i = 0; i < a->n_stop; i++) free(a->stop[i]);
    free(a->stop);
    think_buf_free(&a->decoded);
    free(a->tokens);
    think_split_free(&a->split);
    think_buf_free(&a->reasoning);
    think_buf_free(&a->content);
    grammar_matcher_free(a->matcher);
    grammar_free(a->grammar);
    free(a);
}

static bool append(answer *a, const char *s, size_t n) { return think_buf_add(&a->decoded, s, n); }

/* Decoded text: a NUL byte (a byte token can make one) becomes U+FFFD, so
 * the answer stays a C string: stop strings, the stored message and a host
 * that sends it back all see the same text. */
static bool append_text(answer *a, const char *s, size_t n) {
    static const char replacement[] = "\xef\xbf\xbd";
    for (size_t i = 0; i < n;) {
        const char *nul = memchr(s + i, 0, n - i);
        size_t run = nul ? (size_t)(nul - (s + i)) : n - i;
        if (!append(a, s + i, run)) return false;
        i += run;
        if (nul) {
            if (!append(a, replacement, 3)) return false;
            i++;
        }
    }
    return true;
}

/* How much of the answer can be shown: all but a tail that a stop string
 * may still start with; on a stop string, cuts the answer before it. */
static size_t releasable(answer *a, bool final) {
    size_t safe = a->decoded.len;
    for (int i = 0; i < a->n_stop; i++) {
        const char *s = a->stop[i];
        size_t sl = strlen(s);
        const char *from = a->decoded.p + (a->emitted > sl ? a->emitted - sl : 0);
        const char *hit = strstr(from, s);
        if (hit) {
            a->decoded.len = (size_t)(hit - a->decoded.p);
            a->decoded.p[a->decoded.len] = 0;
            a->stopped = true;
            if (safe > a->decoded.len) safe = a->decoded.len;
            continue;
        }
        if (final) continue;
        for (size_t k = sl - 1; k > 0; k--)
            if (k <= a->decoded.len && memcmp(a->decoded.p + a->decoded.len - k, s, k) == 0) {
                if (a->decoded.len - k < safe) safe = a->decoded.len - k;
                break;
            }
    }
    return safe;
}

/* Drops the oldest turn after the system message: a user message and the
 * assistant answer that follows it. */
static bool drop_oldest_turn(hearth_chat *c) {
    size_t first = c->n_msgs && strcmp(c->msgs[0].role, "system") == 0 ? 1 : 0;
    if (c->n_msgs - first < 2) return false; /* only the new message is left */
    drop_message(c, first);
    if (c->n_msgs - first >= 2 && strcmp(c->msgs[first].role, "assistant") == 0) drop_message(c, first);
    return true;
}

hearth_status hearth_chat_set_messages(hearth_chat *c, const hearth_chat_message *msgs, size_t n,
                                       hearth_error *err) {
    if (c->answer) return hearth_fail(err, HEARTH_E_ARG, "an answer is being generated; end it first");
    while (c->n_msgs) drop_message(c, c->n_msgs - 1);
    for (size_t i = 0; i < n; i++) {
        if (!msgs[i].role || !msgs[i].content)
            return hearth_fail(err, HEARTH_E_ARG, "message %zu has no role or no content", i + 1);
        hearth_status st = push_message(c, msgs[i].role, msgs[i].content, msgs[i].reasoning_content, err);
        if (st) return st;
    }
    return HEARTH_OK;
}

static hearth_status copy_stops(answer *a, const hearth_chat_options *o, hearth_error *err) {
    if (o->n_stop <= 0) return HEARTH_OK;
    a->stop = calloc((size_t)o->n_stop, sizeof *a->stop);
    if (!a->stop) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    for (int i = 0; i < o->n_stop; i++) {
        if (!o->stop[i] || !o->stop[i][0]) continue; /* an empty stop string stops nothing */
        if (!(a->stop[a->n_stop++] = dup_str(o->stop[i]))) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    return HEARTH_OK;
}

/* Starts generating after the prompt tokens (taken over), reusing the KV
 * cache for their common prefix with what it holds. */
static hearth_status start_answer(hearth_chat *c, answer *a, int32_t *tokens, int n, int max_tokens,
                                  const hearth_chat_options *o, hearth_error *err) {
    int common = 0;
    while (common < n && common < c->n_cached && tokens[common] == c->cached[common]) common++;
    hearth_status st = hearth_gen_begin(&a->gen, c->e, tokens, n, common, max_tokens, &o->sampling, err);
    if (st) {
        free(tokens);
        return st;
    }
    if (!a->raw) hearth_gen_answer_text(a->gen);
    if (o->grammar) {
        if (!c->trie) st = vocab_trie_build(&c->trie, c->tok, err);
        if (!st) st = grammar_parse(&a->grammar, o->grammar, o->grammar_len, err);
        if (!st) st = grammar_matcher_create(&a->matcher, a->grammar, c->trie, err);
        if (!st) st = hearth_gen_set_grammar(a->gen, a->matcher, err);
        if (st) {
            free(tokens);
            return st;
        }
    }
    a->tokens = tokens;
    a->cap_tokens = a->n_prompt = a->n_tokens = n;
    if (!append(a, "", 0)) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    /* The cache is rewritten from token `common` on: only that prefix stays valid. */
    c->n_cached = common;
    c->answer = a;
    return HEARTH_OK;
}

static int answer_limit(const hearth_chat_options *o) { return o->max_tokens > 0 ? o->max_tokens : 512; }

hearth_status hearth_chat_begin(hearth_chat *c, const char *user_text, const hearth_chat_options *o,
                                hearth_error *err) {
    if (c->answer) return hearth_fail(err, HEARTH_E_ARG, "an answer is being generated; end it first");
    if (user_text) {
        hearth_status st = push_message(c, "user", user_text, NULL, err);
        if (st) return st;
    } else if (!c->n_msgs) {
        return hearth_fail(err, HEARTH_E_ARG, "the conversation has no messages to answer");
    }
    int max_tokens = answer_limit(o);
    int n_ctx = hearth_engine_ctx(c->e);
    int reserve = max_tokens < n_ctx / 4 ? max_tokens : n_ctx / 4;

    answer *a = calloc(1, sizeof *a);
    hearth_status st = a ? copy_stops(a, o, err) : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    int32_t *tokens = NULL;
    int n = 0, think_mode = THINK_OFF;
    while (!st) {
        st = render_tokens(c, o->template_vars, &tokens, &n, &think_mode, err);
        if (st || n + reserve <= n_ctx) break;
        free(tokens);
        tokens = NULL;
        if (!drop_oldest_turn(c)) {
            st = hearth_fail(err, HEARTH_E_CONTEXT,
                             "the conversation needs %d tokens with the template, more than the context of %d "
                             "leaves (%d kept for the answer); shorten it or raise --ctx",
                             n, n_ctx, reserve);
            break;
        }
        a->dropped_messages++;
        c->n_cached = 0; /* the conversation's start changed */
    }
    if (!st) {
        think_split_init(&a->split, think_mode);
        st = start_answer(c, a, tokens, n, max_tokens, o, err);
    }
    if (st) {
        answer_free(a);
        /* The user message did not get an answer: take it back. */
        if (user_text && c->n_msgs && strcmp(c->msgs[c->n_msgs - 1].role, "user") == 0)
            drop_message(c, c->n_msgs - 1);
    }
    return st;
}

hearth_status hearth_chat_begin_raw(hearth_chat *c, const char *prompt, size_t len, const hearth_chat_options *o,
                                    hearth_error *err) {
    if (c->answer) return hearth_fail(err, HEARTH_E_ARG, "an answer is being generated; end it first");
    answer *a = calloc(1, sizeof *a);
    hearth_status st = a ? copy_stops(a, o, err) : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    int32_t *tokens = NULL;
    int n = 0;
    if (!st) st = hearth_engine_prompt_tokens(c->e, prompt, len, &tokens, &n, err);
    if (!st) {
        a->raw = true;
        think_split_init(&a->split, THINK_OFF);
        st = start_answer(c, a, tokens, n, answer_limit(o), o, err);
    }
    if (st) answer_free(a);
    return st;
}

static hearth_status push_token(answer *a, int32_t token, hearth_error *err) {
    if (a->n_tokens == a->cap_tokens) {
        int cap = a->cap_tokens * 2;
        int32_t *t = realloc(a->tokens, (size_t)cap * sizeof *t);
        if (!t) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
        a->tokens = t;
        a->cap_tokens = cap;
    }
    a->tokens[a->n_tokens++] = token;
    return HEARTH_OK;
}

hearth_status hearth_chat_next(hearth_chat *c, const char **text, size_t *len, bool *done, hearth_error *err) {
    answer *a = c->answer;
    *text = "";
    *len = 0;
    *done = true;
    if (!a) return hearth_fail(err, HEARTH_E_ARG, "no answer is being generated");
    if (a->failed) return hearth_fail(err, a->failed, "the answer failed already");
    a->reasoning_given = a->reasoning_shown; /* nothing new until the splitter gives it */
    if (a->finished) return HEARTH_OK;
    int32_t token = -1;
    const bool run = !a->stopped && !a->interrupted;
    hearth_status st = run ? hearth_gen_next(a->gen, &token, err) : HEARTH_OK;
    a->waiting = !st && token == HEARTH_STEP_PENDING;
    if (a->waiting) {
        *done = false;
        return HEARTH_OK;
    }
    if (!st && token >= 0) st = push_token(a, token, err);
    /* the token's text, or at the end what the decoder held back */
    size_t n = 0;
    const char *piece = hearth_gen_text(a->gen, &n);
    if (!st && run && !append_text(a, piece, n))
        st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    if (st) {
        a->failed = st;
        a->finished = true;
        return st;
    }
    bool final = token < 0 || a->stopped || a->interrupted;
    size_t safe = releasable(a, final);
    if (a->stopped) final = true;
    if (final) safe = a->decoded.len;
    size_t n_new = safe > a->emitted ? safe - a->emitted : 0;
    if (!think_split_push(&a->split, a->decoded.p + a->emitted, n_new, final, &a->reasoning, &a->content)) {
        a->failed = HEARTH_E_NOMEM;
        a->finished = true;
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    a->emitted += n_new;
    *text = a->content.p + a->content_given;
    *len = a->content.len - a->content_given;
    a->reasoning_shown = a->reasoning.len;
    a->content_given = a->content.len;
    a->finished = final;
    *done = final;
    return HEARTH_OK;
}

const char *hearth_chat_next_reasoning(const hearth_chat *c, size_t *len) {
    const answer *a = c->answer;
    *len = a && a->reasoning.p ? a->reasoning_shown - a->reasoning_given : 0;
    return *len ? a->reasoning.p + a->reasoning_given : "";
}

bool hearth_chat_waiting(const hearth_chat *c) { return c->answer && c->answer->waiting && !c->answer->finished; }

void hearth_chat_interrupt(hearth_chat *c) {
    if (!c->answer || c->answer->finished) return;
    c->answer->interrupted = true;
    hearth_gen_stop(c->answer->gen);
}

hearth_status hearth_chat_end(hearth_chat *c, char **answer_text, char **reasoning, hearth_chat_stats *stats,
                              hearth_error *err) {
    memset(stats, 0, sizeof *stats);
    if (answer_text) *answer_text = NULL;
    if (reasoning) *reasoning = NULL;
    answer *a = c->answer;
    if (!a) return hearth_fail(err, HEARTH_E_ARG, "no answer is being generated");
    c->answer = NULL;
    const hearth_gen_stats *gs = hearth_gen_stats_of(a->gen);
    /* What the KV cache holds now: the prompt and the evaluated answer tokens. */
    free(c->cached);
    c->cached = NULL;
    c->n_cached = 0;
    if (!a->failed && gs->cache_tokens > 0) {
        c->cached = a->tokens;
        c->n_cached = gs->cache_tokens < a->n_tokens ? gs->cache_tokens : a->n_tokens;
        a->tokens = NULL;
    }
    hearth_status st = a->failed;
    if (st) {
        hearth_fail(err, st, "the answer failed");
        answer_free(a);
        return st;
    }
    /* An answer cut off before its end keeps only what was shown: what the
     * splitter still holds is dropped. */
    if (!think_buf_add(&a->content, "", 0) || !think_buf_add(&a->reasoning, "", 0)) {
        answer_free(a);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    stats->prompt_tokens = a->n_prompt;
    stats->reused_tokens = gs->reused_tokens;
    stats->evaluated_tokens = a->n_prompt - gs->reused_tokens;
    stats->gen_tokens = gs->gen_tokens;
    stats->dropped_messages = a->dropped_messages;
    stats->prefill_ms = gs->prefill_ms;
    stats->decode_ms = gs->decode_ms;
    stats->ttft_ms = gs->ttft_ms;
    stats->stop = a->interrupted ? "interrupted" : a->stopped ? "stop" : gs->stopped_by_eog ? "eog"
                : gs->stopped_by_ctx ? "context" : gs->stopped_by_grammar ? "grammar" : "length";
    /* The reasoning travels with the message only where there was some:
     * templates test for its presence (Qwen3: "is string"). */
    const char *kept_reasoning = a->reasoning.len ? a->reasoning.p : NULL;
    if (!a->raw) st = push_message(c, "assistant", a->content.p, kept_reasoning, err);
    if (!st && answer_text) *answer_text = a->content.p, a->content = (think_buf){0};
    if (!st && reasoning) *reasoning = a->reasoning.p, a->reasoning = (think_buf){0};
    answer_free(a);
    return st;
}

hearth_status hearth_chat_send(hearth_chat *c, const char *user_text, const hearth_chat_options *o,
                               hearth_chat_text_fn on_text, hearth_chat_text_fn on_reasoning, void *user,
                               char **answer_text, char **reasoning, hearth_chat_stats *stats, hearth_error *err) {
    memset(stats, 0, sizeof *stats);
    if (answer_text) *answer_text = NULL;
    if (reasoning) *reasoning = NULL;
    hearth_status st = hearth_chat_begin(c, user_text, o, err);
    if (st) return st;
    for (bool done = false; !done;) {
        const char *text;
        size_t len;
        st = hearth_chat_next(c, &text, &len, &done, err);
        if (st) break;
        size_t rlen;
        const char *r = hearth_chat_next_reasoning(c, &rlen);
        if (rlen && on_reasoning && !on_reasoning(user, r, rlen)) hearth_chat_interrupt(c);
        if (len && on_text && !on_text(user, text, len)) hearth_chat_interrupt(c);
    }
    if (st) {
        hearth_chat_stats ignored;
        hearth_error ignored_err;
        hearth_chat_end(c, NULL, NULL, &ignored, &ignored_err);
        /* The user message did not get an answer: take it back. */
        if (c->n_msgs && strcmp(c->msgs[c->n_msgs - 1].role, "user") == 0) drop_message(c, c->n_msgs - 1);
        return st;
    }
    return hearth_chat_end(c, answer_text, reasoning, stats, err);
}
