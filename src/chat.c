#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "grammar/grammar.h"
#include "grammar/token_mask.h"
#include "jinja/template.h"
#include "json_write.h"
#include "think.h"
#include "tokenizer/tokenizer.h"
#include "tool_calls.h"

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
    tool_format tool_format; /* how the template writes tool calls */
    unsigned next_call_id;   /* tool-call ids go on counting through the conversation */
    think_buf last_calls;    /* the last ended answer's tool calls (OpenAI JSON) */
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
                                  const char *extra, hearth_error *err) {
    if (c->n_msgs == c->cap_msgs) {
        size_t cap = c->cap_msgs ? c->cap_msgs * 2 : 8;
        hearth_chat_message *m = realloc(c->msgs, cap * sizeof *m);
        if (!m) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
        c->msgs = m;
        c->cap_msgs = cap;
    }
    char *r = dup_str(role), *t = dup_str(content), *k = reasoning ? dup_str(reasoning) : NULL;
    char *x = extra ? dup_str(extra) : NULL;
    if (!r || !t || (reasoning && !k) || (extra && !x)) {
        free(r);
        free(t);
        free(k);
        free(x);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    c->msgs[c->n_msgs++] = (hearth_chat_message){r, t, k, x};
    return HEARTH_OK;
}

static void drop_message(hearth_chat *c, size_t i) {
    free((char *)c->msgs[i].role);
    free((char *)c->msgs[i].content);
    free((char *)c->msgs[i].reasoning_content);
    free((char *)c->msgs[i].extra_json);
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
    if (!st) c->tool_format = tool_format_of_template(c->tmpl);
    if (!st && system && *system) st = push_message(c, "system", system, NULL, NULL, err);
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
    think_buf_free(&c->last_calls);
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
    while (len && json_is_space(text[len - 1])) len--;
    return len >= 7 && memcmp(text + len - 7, "<think>", 7) == 0;
}

/* Phi-4-mini's template reads the tools from the system message's "tools"
 * member (a string), not from `tools`: the messages with the tools there
 * (a system message made for them when there is none). */
static hearth_status phi4_tool_messages(const hearth_chat *c, const char *tools, size_t tools_len,
                                        hearth_chat_message **msgs, size_t *n, char **extra, hearth_error *err) {
    bool has_system = c->n_msgs && strcmp(c->msgs[0].role, "system") == 0;
    think_buf x = {0};
    *msgs = malloc((c->n_msgs + 1) * sizeof **msgs);
    if (!*msgs || !think_buf_add(&x, "{\"tools\":", sizeof "{\"tools\":" - 1) || !json_write_string(&x, tools, tools_len) ||
        !think_buf_add(&x, "}", sizeof "}" - 1)) {
        free(*msgs);
        *msgs = NULL;
        think_buf_free(&x);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    size_t k = 0;
    if (!has_system) (*msgs)[k++] = (hearth_chat_message){"system", "", NULL, NULL};
    memcpy(*msgs + k, c->msgs, c->n_msgs * sizeof **msgs);
    (*msgs)[0].extra_json = x.p;
    *n = c->n_msgs + k;
    *extra = x.p;
    return HEARTH_OK;
}

/* The prompt's tokens; *think_mode (may be NULL) says how its answer is
 * split (think.h). tools: the request's tool definitions (JSON), or NULL. */
static hearth_status render_tokens(hearth_chat *c, const json_value *vars, const char *tools, size_t tools_len,
                                   int32_t **out, int *n, int *think_mode, hearth_error *err) {
    hearth_template_input in = {
        .messages = c->msgs,
        .n_messages = c->n_msgs,
        .tools_json = tools,
        .tools_json_len = tools_len,
        .add_generation_prompt = true,
        .variables = vars,
        .bos_token = c->bos_text,
        .eos_token = c->eos_text,
        .year = c->year, .month = c->month, .day = c->day,
    };
    char *text = NULL, *phi4_extra = NULL;
    uint8_t *from_request = NULL;
    size_t len = 0;
    hearth_chat_message *phi4_msgs = NULL;
    hearth_status st = HEARTH_OK;
    if (tools && c->tool_format == TOOLS_PHI4) {
        st = phi4_tool_messages(c, tools, tools_len, &phi4_msgs, &in.n_messages, &phi4_extra, err);
        in.messages = phi4_msgs;
    }
    if (!st) st = hearth_template_render_marked(c->tmpl, c->tmpl_len, &in, &text, &len, &from_request, err);
    free(phi4_msgs);
    free(phi4_extra);
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
    return render_tokens(c, NULL, NULL, 0, out, n, NULL, err);
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
    int32_t last_token; /* what the last next() generated, or -1 (hearth_chat_last_token) */
    grammar *grammar;   /* the options' grammar, compiled, and where the answer is in it */
    grammar_matcher *matcher;
    char *tool_grammar; /* the grammar tool_choice required/named makes */
    size_t tool_grammar_len;
    think_buf answer_text; /* content from the reasoning splitter, before the tool-call splitter */
    size_t answer_fed;  /* of which went through it */
    tool_split tools;
    size_t calls_given; /* calls next() gave out */
    think_buf calls_delta;
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
    free(a->tool_grammar);
    think_buf_free(&a->answer_text);
    tool_split_free(&a->tools);
    think_buf_free(&a->calls_delta);
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
        hearth_status st = push_message(c, msgs[i].role, msgs[i].content, msgs[i].reasoning_content,
                                        msgs[i].extra_json, err);
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
    const char *gtext = a->tool_grammar ? a->tool_grammar : o->grammar;
    size_t glen = a->tool_grammar ? a->tool_grammar_len : o->grammar_len;
    if (gtext) {
        if (!c->trie) st = vocab_trie_build(&c->trie, c->tok, err);
        if (!st) st = grammar_parse(&a->grammar, gtext, glen, err);
        if (!st) st = grammar_matcher_create(&a->matcher, a->grammar, c->trie, err);
        if (!st) st = hearth_gen_set_grammar(a->gen, a->matcher, err);
        if (st) {
            free(tokens);
            return st;
        }
    }
    a->tokens = tokens;
    a->cap_tokens = a->n_prompt = a->n_tokens = n;
    a->last_token = -1;
    if (!append(a, "", 0)) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    /* The cache is rewritten from token `common` on: only that prefix stays valid. */
    c->n_cached = common;
    c->answer = a;
    return HEARTH_OK;
}

/* The tool-call splitter, and for tool_choice required/named the grammar of one call. */
static hearth_status tool_setup(hearth_chat *c, answer *a, const hearth_chat_options *o, hearth_error *err) {
    tool_split_init(&a->tools, c->tool_format);
    /* refused, not ignored: the calls of a format hearth does not know could only come back as text */
    if (c->tool_format == TOOLS_NONE)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                           "this model's chat template writes tool calls in no format hearth knows (Hermes/Qwen, "
                           "Llama 3.1/3.2, Mistral, Phi-4-mini); ask without \"tools\" (or with tool_choice \"none\")");
    if (o->tool_choice != HEARTH_TOOLS_REQUIRED && o->tool_choice != HEARTH_TOOLS_NAMED) return HEARTH_OK;
    if (o->grammar) return hearth_fail(err, HEARTH_E_ARG, "tool_choice required or a named function cannot go with a grammar");
    if (o->tool_choice == HEARTH_TOOLS_NAMED && !o->tool_name)
        return hearth_fail(err, HEARTH_E_ARG, "tool_choice names no function");
    json_value *tools;
    hearth_status st = json_parse(o->tools_json, o->tools_json_len, &tools, err);
    if (st) return hearth_prefix(err, "tools: ");
    st = tool_calls_grammar(c->tool_format, tools, o->tool_choice == HEARTH_TOOLS_NAMED ? o->tool_name : NULL,
                            &a->tool_grammar, &a->tool_grammar_len, err);
    json_free(tools);
    return st;
}

static int answer_limit(const hearth_chat_options *o) { return o->max_tokens > 0 ? o->max_tokens : 512; }

hearth_status hearth_chat_begin(hearth_chat *c, const char *user_text, const hearth_chat_options *o,
                                hearth_error *err) {
    if (c->answer) return hearth_fail(err, HEARTH_E_ARG, "an answer is being generated; end it first");
    if (user_text) {
        hearth_status st = push_message(c, "user", user_text, NULL, NULL, err);
        if (st) return st;
    } else if (!c->n_msgs) {
        return hearth_fail(err, HEARTH_E_ARG, "the conversation has no messages to answer");
    }
    int max_tokens = answer_limit(o);
    int n_ctx = hearth_engine_ctx(c->e);
    int reserve = max_tokens < n_ctx / 4 ? max_tokens : n_ctx / 4;

    answer *a = calloc(1, sizeof *a);
    hearth_status st = a ? copy_stops(a, o, err) : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    const bool tools_on = o->tools_json && o->tool_choice != HEARTH_TOOLS_NONE;
    if (!st && tools_on) st = tool_setup(c, a, o, err);
    int32_t *tokens = NULL;
    int n = 0, think_mode = THINK_OFF;
    while (!st) {
        st = render_tokens(c, o->template_vars, tools_on ? o->tools_json : NULL, o->tools_json_len, &tokens, &n,
                           &think_mode, err);
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
    a->last_token = -1;
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
    if (!st && token >= 0) a->last_token = token;
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
    size_t calls_before = a->tools.n_calls;
    if (!think_split_push(&a->split, a->decoded.p + a->emitted, n_new, final, &a->reasoning, &a->answer_text) ||
        !tool_split_push(&a->tools, a->answer_text.p ? a->answer_text.p + a->answer_fed : "",
                         a->answer_text.len - a->answer_fed, final, &a->content)) {
        a->failed = HEARTH_E_NOMEM;
        a->finished = true;
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    a->answer_fed = a->answer_text.len;
    a->calls_given = calls_before;
    a->emitted += n_new;
    *text = a->content.p + a->content_given;
    *len = a->content.len - a->content_given;
    a->reasoning_shown = a->reasoning.len;
    a->content_given = a->content.len;
    a->finished = final;
    *done = final;
    return HEARTH_OK;
}

const char *hearth_chat_next_tool_calls(hearth_chat *c, size_t *len) {
    answer *a = c->answer;
    *len = 2;
    if (!a || a->calls_given >= a->tools.n_calls) return "[]";
    a->calls_delta.len = 0;
    if (!tool_calls_delta_json(a->tools.calls + a->calls_given, a->tools.n_calls - a->calls_given,
                               c->next_call_id + (unsigned)a->calls_given, a->calls_given, &a->calls_delta))
        return "[]";
    *len = a->calls_delta.len;
    return a->calls_delta.p;
}

const char *hearth_chat_tool_calls(const hearth_chat *c) { return c->last_calls.p ? c->last_calls.p : "[]"; }

const char *hearth_chat_next_reasoning(const hearth_chat *c, size_t *len) {
    const answer *a = c->answer;
    *len = a && a->reasoning.p ? a->reasoning_shown - a->reasoning_given : 0;
    return *len ? a->reasoning.p + a->reasoning_given : "";
}

bool hearth_chat_last_token(const hearth_chat *c, int32_t *token, const float **logits) {
    const answer *a = c->answer;
    *token = a ? a->last_token : -1;
    *logits = *token >= 0 ? hearth_gen_logits(a->gen) : NULL;
    return *token >= 0;
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
    if (!think_buf_add(&a->content, "", sizeof "" - 1) || !think_buf_add(&a->reasoning, "", sizeof "" - 1)) {
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
    stats->grammar_ms = gs->grammar_ms;
    stats->stop = a->interrupted ? "interrupted" : a->stopped ? "stop" : gs->stopped_by_eog ? "eog"
                : gs->stopped_by_ctx ? "context" : gs->stopped_by_grammar ? "grammar" : "length";
    /* The reasoning travels with the message only where there was some:
     * templates test for its presence (Qwen3: "is string"). */
    const char *kept_reasoning = a->reasoning.len ? a->reasoning.p : NULL;
    /* Tool calls: the message carries them for the template, the host gets them as OpenAI's list. */
    think_buf extra = {0};
    c->last_calls.len = 0;
    size_t n_calls = a->tools.n_calls;
    bool ok = tool_calls_openai_json(a->tools.calls, n_calls, c->next_call_id, &c->last_calls);
    if (ok && n_calls) {
        ok = think_buf_add(&extra, "{\"tool_calls\":", sizeof "{\"tool_calls\":" - 1) &&
             tool_calls_template_json(a->tools.calls, n_calls, c->next_call_id, &extra) && think_buf_add(&extra, "}", sizeof "}" - 1);
        /* only whitespace around the calls: no content */
        size_t k = 0;
        while (k < a->content.len && json_is_space(a->content.p[k])) k++;
        if (k == a->content.len) a->content.len = 0, a->content.p[0] = 0;
    }
    c->next_call_id += (unsigned)n_calls;
    stats->tool_calls = (int)n_calls;
    if (!ok) st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    if (!st && !a->raw) st = push_message(c, "assistant", a->content.p, kept_reasoning, extra.p, err);
    think_buf_free(&extra);
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
