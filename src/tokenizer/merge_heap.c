#include "tokenizer/merge_heap.h"

#include <stdbool.h>

static bool before(const merge_candidate *a, const merge_candidate *b) {
    if (a->priority != b->priority) return a->priority > b->priority;
    return a->left < b->left;
}

void merge_heap_push(merge_heap *h, merge_candidate c) {
    if (h->n == h->cap) return; /* cannot happen: callers size the heap for every push */
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&c, &h->v[parent])) break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = c;
}

merge_candidate merge_heap_pop(merge_heap *h) {
    merge_candidate top = h->v[0];
    merge_candidate last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c])) c++;
        if (!before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}
