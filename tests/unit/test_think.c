/* The reasoning splitter (src/think.h): each case whole, then fed in every
 * two-piece split and a byte at a time, as tokens arrive (a tag split across
 * tokens); the result must not depend on where the pieces break. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "think.h"

typedef struct {
    const char *name;
    int mode;
    const char *text;
    const char *reasoning, *content;
} think_case;

static const think_case CASES[] = {
    {"Qwen3 block", THINK_AUTO, "<think>\nLet me see.\n</think>\n\nIt is 4.", "Let me see.", "It is 4."},
    {"no block", THINK_AUTO, "Hello <think> there", "", "Hello <think> there"},
    {"no block, leading whitespace kept", THINK_AUTO, "\n Hi", "", "\n Hi"},
    {"whitespace before the block", THINK_AUTO, "\n<think>a</think>b", "a", "b"},
    {"empty block (thinking off)", THINK_AUTO, "<think>\n\n</think>\n\nHi", "", "Hi"},
    {"unterminated block (max_tokens)", THINK_AUTO, "<think>\nstill thinking \n", "still thinking", ""},
    {"unterminated, a part of the closing tag", THINK_AUTO, "<think>abc</thin", "abc</thin", ""},
    {"only a part of the opening tag", THINK_AUTO, "<thi", "", "<thi"},
    {"a later block is answer text", THINK_AUTO, "<think>a</think>b <think>c</think>", "a", "b <think>c</think>"},
    {"inner whitespace kept", THINK_AUTO, "<think>a\n\n b</think>c\n", "a\n\n b", "c\n"},
    {"UTF-8", THINK_AUTO, "<think>é ✓ 日本</think> ü", "é ✓ 日本", "ü"},
    {"DeepSeek-R1: the prompt opened the block", THINK_OPEN, "Okay, 2+2.\n</think>\n\n4", "Okay, 2+2.", "4"},
    {"opened, the model repeats <think>", THINK_OPEN, "<think>\nr\n</think>a", "r", "a"},
    {"opened, unterminated", THINK_OPEN, "hmm", "hmm", ""},
    {"opened, only whitespace", THINK_OPEN, "\n\n", "", ""},
    {"off: tags are text", THINK_OFF, "<think>x</think>y", "", "<think>x</think>y"},
    {"a < that is no tag", THINK_AUTO, "<b>bold</b>", "", "<b>bold</b>"},
    {"</think> in pieces of the reasoning", THINK_AUTO, "<think>a</ b </th c</think>d", "a</ b </th c", "d"},
};

/* Feeds text in pieces that end at the offsets in cuts (ascending, < len). */
static bool run(const think_case *tc, const size_t *cuts, size_t n_cuts, char **r, char **c) {
    think_split s;
    think_buf rb = {0}, cb = {0};
    think_split_init(&s, tc->mode);
    size_t len = strlen(tc->text), from = 0;
    bool ok = true;
    for (size_t i = 0; i <= n_cuts && ok; i++) {
        size_t to = i < n_cuts ? cuts[i] : len;
        size_t r0 = rb.len, c0 = cb.len;
        ok = think_split_push(&s, tc->text + from, to - from, i == n_cuts, &rb, &cb);
        /* Nothing is given out twice or taken back. */
        ok = ok && rb.len >= r0 && cb.len >= c0;
        from = to;
    }
    think_split_free(&s);
    *r = rb.p;
    *c = cb.p;
    return ok && rb.p && cb.p;
}

int main(void) {
    for (size_t k = 0; k < sizeof CASES / sizeof *CASES; k++) {
        const think_case *tc = &CASES[k];
        size_t len = strlen(tc->text);
        char *r, *c, name[160];
        bool ok = run(tc, NULL, 0, &r, &c);
        snprintf(name, sizeof name, "%s: whole", tc->name);
        CHECK(name, ok && strcmp(r, tc->reasoning) == 0 && strcmp(c, tc->content) == 0,
              "reasoning \"%s\" content \"%s\"", r ? r : "(null)", c ? c : "(null)");
        free(r);
        free(c);
        int bad = 0;
        for (size_t cut = 1; cut < len; cut++) {
            ok = run(tc, &cut, 1, &r, &c);
            if (!ok || strcmp(r, tc->reasoning) || strcmp(c, tc->content)) {
                if (!bad++) printf("# split at %zu: reasoning \"%s\" content \"%s\"\n", cut, r ? r : "", c ? c : "");
            }
            free(r);
            free(c);
        }
        size_t *cuts = malloc((len ? len : 1) * sizeof *cuts);
        for (size_t i = 1; i < len; i++) cuts[i - 1] = i;
        ok = run(tc, cuts, len ? len - 1 : 0, &r, &c);
        bad += !ok || strcmp(r, tc->reasoning) || strcmp(c, tc->content);
        free(r);
        free(c);
        free(cuts);
        snprintf(name, sizeof name, "%s: in every two pieces and byte by byte", tc->name);
        CHECK(name, bad == 0, "%d splits differ", bad);
    }
    /* Streaming: a tag never reaches the answer, not even in part. */
    {
        think_split s;
        think_buf rb = {0}, cb = {0};
        think_split_init(&s, THINK_AUTO);
        const char *pieces[] = {"<", "th", "ink", ">\n", "x", "</", "think", ">", "\n", "A"};
        bool leaked = false;
        for (size_t i = 0; i < 10; i++) {
            think_split_push(&s, pieces[i], strlen(pieces[i]), false, &rb, &cb);
            leaked |= i < 9 && cb.len > 0;
            leaked |= rb.p && strchr(rb.p, '<') != NULL;
        }
        think_split_push(&s, "", 0, true, &rb, &cb);
        CHECK("streamed tags split across tokens never show", !leaked && strcmp(rb.p, "x") == 0 && strcmp(cb.p, "A") == 0,
              "reasoning \"%s\" content \"%s\"", rb.p, cb.p);
        think_split_free(&s);
        think_buf_free(&rb);
        think_buf_free(&cb);
    }
    CHECK_DONE();
}
