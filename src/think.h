/* Reasoning models (Qwen3, DeepSeek-R1, Phi-4-reasoning) answer with
 * "<think>reasoning</think>answer". The splitter takes an answer's text as
 * it is decoded, in pieces of any size (a tag may arrive split across
 * tokens), and sorts it into the reasoning and the answer proper, holding
 * back only what may still turn out to be a tag. One block at the start
 * counts: a "<think>" later in the answer is text. The chat loop (chat.c)
 * runs every answer through it; this is the one place the tags are read. */
#ifndef HEARTH_THINK_H
#define HEARTH_THINK_H

#include <stdbool.h>
#include <stddef.h>

/* A growing string (the splitter's outputs, and the chat's decoded text). */
typedef struct {
    char *p; /* NUL-terminated once anything was added */
    size_t len, cap;
} think_buf;

typedef struct {
    int state;          /* see think.c */
    think_buf pending;  /* text not sorted yet */
    bool reasoned;      /* reasoning text was given out (leading whitespace is dropped) */
} think_split;

/* mode: THINK_OFF passes all text to the answer (a template without think
 * tags, raw completions); THINK_AUTO splits a "<think>" block the answer
 * starts with; THINK_OPEN: the prompt ended inside "<think>" (DeepSeek-R1's
 * generation prompt), so the answer starts in the reasoning. */
enum { THINK_OFF, THINK_AUTO, THINK_OPEN };
void think_split_init(think_split *s, int mode);
/* Sorts text (len bytes) into reasoning and content (appended to them);
 * final: nothing follows, so nothing is held back. Reasoning loses the
 * whitespace around it, the answer after "</think>" its leading whitespace.
 * An unterminated block (max_tokens) is all reasoning. false: out of memory. */
bool think_split_push(think_split *s, const char *text, size_t len, bool final, think_buf *reasoning,
                      think_buf *content);
void think_split_free(think_split *s);

bool think_buf_add(think_buf *b, const char *s, size_t n);
void think_buf_free(think_buf *b);

#endif
