/* The priority queue both subword tokenizers merge with: candidate pairs of
 * adjacent symbols, best first (higher priority, then the leftmost). */
#ifndef HEARTH_MERGE_HEAP_H
#define HEARTH_MERGE_HEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double priority;    /* SentencePiece: the merged token's score; BPE: minus the merge rank */
    int32_t left, right;/* symbol indices */
    uint32_t size;      /* bytes of the merged pair, to detect stale entries */
} merge_candidate;

typedef struct {
    merge_candidate *v;
    size_t n, cap;      /* the caller sizes v for every push it can make */
} merge_heap;

void merge_heap_push(merge_heap *h, merge_candidate c);
merge_candidate merge_heap_pop(merge_heap *h); /* h->n must be > 0 */

#endif
