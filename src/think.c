#include "think.h"

#include <stdlib.h>
#include <string.h>

enum {
    START,        /* before the first non-whitespace: is it "<think>"? */
    START_OPEN,   /* the same, inside a block the prompt opened */
    THINK,        /* inside the block: reasoning until "</think>" */
    ANSWER_START, /* after "</think>": whitespace is dropped */
    ANSWER,       /* everything is answer */
};

static const char OPEN[] = "<think>", CLOSE[] = "</think>";

bool think_buf_add(think_buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) return false;
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return true;
}

void think_buf_free(think_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

void think_split_init(think_split *s, int mode) {
    memset(s, 0, sizeof *s);
    s->state = mode == THINK_OFF ? ANSWER : mode == THINK_OPEN ? START_OPEN : START;
}

void think_split_free(think_split *s) { think_buf_free(&s->pending); }

static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Gives out reasoning text, without the whitespace it starts with. */
static bool reason(think_split *s, const char *p, size_t n, think_buf *reasoning) {
    if (!s->reasoned)
        while (n && is_space(*p)) p++, n--;
    if (!n) return true;
    s->reasoned = true;
    return think_buf_add(reasoning, p, n);
}

/* Removes the first n bytes of the pending text. */
static void consume(think_split *s, size_t n) {
    memmove(s->pending.p, s->pending.p + n, s->pending.len - n + 1);
    s->pending.len -= n;
}

bool think_split_push(think_split *s, const char *text, size_t len, bool final, think_buf *reasoning,
                      think_buf *content) {
    if (s->state == ANSWER) return think_buf_add(content, text, len) && (reasoning->p || think_buf_add(reasoning, "", 0));
    if (!think_buf_add(&s->pending, text, len) || !think_buf_add(content, "", 0) || !think_buf_add(reasoning, "", 0))
        return false;
    for (;;) {
        think_buf *b = &s->pending;
        switch (s->state) {
        case START:
        case START_OPEN: {
            size_t ws = 0;
            while (ws < b->len && is_space(b->p[ws])) ws++;
            size_t rest = b->len - ws, cmp = rest < sizeof OPEN - 1 ? rest : sizeof OPEN - 1;
            bool may_open = memcmp(b->p + ws, OPEN, cmp) == 0;
            if (may_open && rest >= sizeof OPEN - 1) { /* the block starts */
                consume(s, ws + sizeof OPEN - 1);
                s->state = THINK;
                continue;
            }
            if (may_open && !final) return true; /* whitespace or a part of "<think>" so far */
            if (s->state == START_OPEN) {
                s->state = THINK;
                continue;
            }
            s->state = ANSWER;
            bool ok = think_buf_add(content, b->p, b->len);
            consume(s, b->len);
            return ok;
        }
        case THINK: {
            const char *end = strstr(b->p, CLOSE);
            if (end) {
                size_t n = (size_t)(end - b->p), r = n;
                while (r && is_space(b->p[r - 1])) r--;
                if (!reason(s, b->p, r, reasoning)) return false;
                consume(s, n + sizeof CLOSE - 1);
                s->state = ANSWER_START;
                continue;
            }
            /* Hold back a tail that may begin "</think>", and the whitespace before it. */
            size_t keep = 0;
            if (!final) {
                for (size_t k = sizeof CLOSE - 2; k > 0 && !keep; k--)
                    if (k <= b->len && memcmp(b->p + b->len - k, CLOSE, k) == 0) keep = k;
            }
            size_t r = b->len - keep;
            while (r && is_space(b->p[r - 1])) r--;
            if (!reason(s, b->p, r, reasoning)) return false;
            consume(s, r);
            if (final) consume(s, b->len); /* trailing whitespace of an unterminated block */
            return true;
        }
        case ANSWER_START: {
            size_t ws = 0;
            while (ws < b->len && is_space(b->p[ws])) ws++;
            consume(s, ws);
            if (!b->len) return true;
            s->state = ANSWER;
            bool ok = think_buf_add(content, b->p, b->len);
            consume(s, b->len);
            return ok;
        }
        default:
            return think_buf_add(content, b->p, b->len);
        }
    }
}
