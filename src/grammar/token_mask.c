#include "grammar/token_mask.h"

#include <stdlib.h>
#include <string.h>

#include "grammar/matcher.h"
#include "grammar/state_table.h"

/* A subtree with at least SET_MIN tokens keeps the set of bytes below it,
 * so the walk can allow it whole when those bytes loop (state_table.h). */
enum { NONE = UINT32_MAX, CACHE_SLOTS = 32, SET_MIN = 4 };

typedef struct {
    uint32_t first_child, next_sibling, first_token;
    uint32_t tok_lo, tok_hi; /* the subtree's tokens: order[tok_lo..tok_hi) (its own first) */
    uint32_t below;          /* index of its byte set in byte_sets, or NONE */
    uint8_t byte;
    bool well_formed;        /* every token of the subtree is UTF-8 (its last character may be cut short) */
    uint16_t height;         /* the most bytes below it */
} trie_node;

struct vocab_trie {
    trie_node *nodes;
    uint32_t n_nodes, cap_nodes;
    uint32_t *token_next; /* tokens ending at the same node */
    uint8_t *kind;        /* per token: TEXT, EOG or NEVER */
    int n_vocab;
    int max_len;
    uint8_t **piece;      /* each token's bytes, for accept() */
    uint16_t *piece_len;
    uint32_t *order;      /* the tokens in depth-first order of the trie */
    uint32_t (*byte_sets)[8];
    /* per subtree with a byte set: its tokens again, fewest characters first,
     * from by_chars[set_lo[k]] (NONE: not kept), and the characters down to
     * and including the subtree's own byte */
    uint32_t *set_lo, *by_chars;
    uint16_t *set_chars;
    uint16_t *chars;      /* per token: its characters (a character cut short counts) */
};

enum { TOKEN_TEXT, TOKEN_EOG, TOKEN_NEVER };

static uint32_t add_node(vocab_trie *v, uint8_t byte) {
    if (v->n_nodes == v->cap_nodes) {
        uint32_t cap = v->cap_nodes ? v->cap_nodes * 2 : 1024;
        trie_node *n = realloc(v->nodes, cap * sizeof *n);
        if (!n) return NONE;
        v->nodes = n;
        v->cap_nodes = cap;
    }
    v->nodes[v->n_nodes] = (trie_node){NONE, NONE, NONE, 0, 0, NONE, byte, true, 0};
    return v->n_nodes++;
}

/* Whether bytes are UTF-8 whose last character may be cut short. */
static bool utf8_prefix_ok(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t b = s[i];
        size_t len = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
        if (!len) return false;
        /* the second byte's range rules out overlong forms, surrogates and code points past U+10FFFF */
        uint8_t lo = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80, hi = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
        for (size_t k = 1; k < len && i + k < n; k++) {
            uint8_t c = s[i + k];
            if (k == 1 ? (c < lo || c > hi) : (c & 0xC0) != 0x80) return false;
        }
        i += len;
    }
    return true;
}

/* Each subtree's tokens with a byte set, fewest characters first (a
 * counting sort per subtree), so that a bounded string's count allows a
 * prefix of them (walk). Every token is in as many lists as it has such
 * subtrees above it: a few times the vocabulary; past a bound, none kept. */
static void sort_by_chars(vocab_trie *v) {
    size_t total = 0;
    for (uint32_t i = 0; i < v->n_nodes; i++)
        if (v->nodes[i].below != NONE) total += v->nodes[i].tok_hi - v->nodes[i].tok_lo;
    uint32_t *count = calloc((size_t)v->max_len + 2, sizeof *count);
    if (total < (1u << 25)) v->by_chars = malloc((total ? total : 1) * sizeof *v->by_chars);
    bool keep = count && v->by_chars;
    size_t at = 0;
    for (uint32_t i = 0; i < v->n_nodes; i++) {
        const trie_node *n = &v->nodes[i];
        if (n->below == NONE) continue;
        v->set_lo[n->below] = keep ? (uint32_t)at : NONE;
        if (!keep) continue;
        int most = 0;
        for (uint32_t k = n->tok_lo; k < n->tok_hi; k++) {
            int c = v->chars[v->order[k]];
            count[c]++;
            if (c > most) most = c;
        }
        /* count[c] becomes where tokens of c characters start */
        for (int c = 0, sum = 0; c <= most; c++) {
            int here = (int)count[c];
            count[c] = (uint32_t)sum;
            sum += here;
        }
        for (uint32_t k = n->tok_lo; k < n->tok_hi; k++) {
            uint32_t t = v->order[k];
            v->by_chars[at + count[v->chars[t]]++] = t;
        }
        memset(count, 0, ((size_t)most + 1) * sizeof *count);
        at += n->tok_hi - n->tok_lo;
    }
    free(count); /* without the lists (no memory) the walk only descends further */
}

/* Depth first: each node's tokens then its children's make one range of
 * order[]; on the way back up, the bytes below each node (kept for the
 * large subtrees). An explicit stack: pieces can be long. */
static bool number_subtrees(vocab_trie *v) {
    uint32_t (*sets)[8] = calloc(v->n_nodes, sizeof *sets);
    uint16_t *node_chars = calloc(v->n_nodes, sizeof *node_chars);
    uint32_t *stack = malloc(((size_t)v->max_len + 2) * sizeof *stack);
    uint32_t *cur = malloc(((size_t)v->max_len + 2) * sizeof *cur);
    v->order = malloc(((size_t)v->n_vocab + 1) * sizeof *v->order);
    bool ok = sets && node_chars && stack && cur && v->order;
    uint32_t pos = 0, n_sets = 0, depth = 0;
    if (ok) {
        stack[0] = 0;
        cur[0] = v->nodes[0].first_child;
        v->nodes[0].tok_lo = 0;
    }
    while (ok) {
        trie_node *top = &v->nodes[stack[depth]];
        uint32_t c = cur[depth];
        if (c != NONE) { /* enter child c */
            cur[depth] = v->nodes[c].next_sibling;
            trie_node *n = &v->nodes[c];
            n->tok_lo = pos;
            node_chars[c] = (uint16_t)(node_chars[stack[depth]] + ((n->byte & 0xC0) != 0x80));
            for (uint32_t t = n->first_token; t != NONE; t = v->token_next[t]) v->order[pos++] = t;
            stack[++depth] = c;
            cur[depth] = n->first_child;
            continue;
        }
        /* leave top: its range ends, its bytes join its parent's */
        top->tok_hi = pos;
        if (top->tok_hi - top->tok_lo >= SET_MIN) n_sets++;
        for (uint32_t t = top->first_token; t != NONE; t = v->token_next[t])
            top->well_formed = top->well_formed && utf8_prefix_ok(v->piece[t], v->piece_len[t]);
        if (depth == 0) break;
        trie_node *up = &v->nodes[stack[depth - 1]];
        up->well_formed = up->well_formed && top->well_formed;
        if (top->height + 1 > up->height) up->height = (uint16_t)(top->height + 1);
        uint32_t *mine = sets[stack[depth]], *parent = sets[stack[depth - 1]];
        for (int w = 0; w < 8; w++) parent[w] |= mine[w];
        parent[top->byte >> 5] |= 1u << (top->byte & 31);
        depth--;
    }
    if (ok) {
        v->byte_sets = malloc((n_sets ? n_sets : 1) * sizeof *v->byte_sets);
        v->set_lo = malloc((n_sets ? n_sets : 1) * sizeof *v->set_lo);
        v->set_chars = malloc((n_sets ? n_sets : 1) * sizeof *v->set_chars);
    }
    ok = ok && v->byte_sets && v->set_lo && v->set_chars;
    for (uint32_t i = 0, k = 0; ok && i < v->n_nodes; i++) {
        trie_node *n = &v->nodes[i];
        if (n->tok_hi - n->tok_lo < SET_MIN || n->first_child == NONE) continue;
        memcpy(v->byte_sets[k], sets[i], sizeof *sets);
        v->set_chars[k] = node_chars[i];
        n->below = k++;
    }
    if (ok) sort_by_chars(v);
    free(node_chars);
    free(sets);
    free(stack);
    free(cur);
    return ok;
}

hearth_status vocab_trie_build(vocab_trie **out, const hearth_tokenizer *t, hearth_error *err) {
    *out = NULL;
    vocab_trie *v = calloc(1, sizeof *v);
    int n = tokenizer_vocab_size(t);
    size_t cap = tokenizer_max_piece_len(t) + 1;
    char *buf = malloc(cap);
    if (v) {
        v->n_vocab = n;
        v->token_next = malloc((size_t)n * sizeof *v->token_next);
        v->kind = malloc((size_t)n);
        v->piece = calloc((size_t)n, sizeof *v->piece);
        v->piece_len = calloc((size_t)n, sizeof *v->piece_len);
        v->chars = calloc((size_t)n, sizeof *v->chars);
    }
    bool ok = v && buf && v->token_next && v->kind && v->piece && v->piece_len && v->chars && add_node(v, 0) == 0;
    for (int id = 0; ok && id < n; id++) {
        v->token_next[id] = NONE;
        if (tokenizer_is_eog(t, id)) {
            v->kind[id] = TOKEN_EOG;
            continue;
        }
        size_t len = tokenizer_is_control(t, id) ? 0 : tokenizer_piece(t, id, false, buf, cap);
        if (len == 0 || len > UINT16_MAX) {
            v->kind[id] = TOKEN_NEVER;
            continue;
        }
        v->kind[id] = TOKEN_TEXT;
        if (!(v->piece[id] = malloc(len))) {
            ok = false;
            break;
        }
        memcpy(v->piece[id], buf, len);
        v->piece_len[id] = (uint16_t)len;
        for (size_t i = 0; i < len; i++) v->chars[id] += ((uint8_t)buf[i] & 0xC0) != 0x80;
        if ((int)len > v->max_len) v->max_len = (int)len;
        uint32_t node = 0;
        for (size_t i = 0; ok && i < len; i++) {
            uint8_t b = (uint8_t)buf[i];
            uint32_t c = v->nodes[node].first_child;
            while (c != NONE && v->nodes[c].byte != b) c = v->nodes[c].next_sibling;
            if (c == NONE) {
                if ((c = add_node(v, b)) == NONE) {
                    ok = false;
                    break;
                }
                v->nodes[c].next_sibling = v->nodes[node].first_child;
                v->nodes[node].first_child = c;
            }
            node = c;
        }
        if (!ok) break;
        v->token_next[id] = v->nodes[node].first_token;
        v->nodes[node].first_token = (uint32_t)id;
    }
    free(buf);
    if (!ok || !number_subtrees(v)) {
        vocab_trie_free(v);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    *out = v;
    return HEARTH_OK;
}

void vocab_trie_free(vocab_trie *v) {
    if (!v) return;
    for (int i = 0; v->piece && i < v->n_vocab; i++) free(v->piece[i]);
    free(v->piece);
    free(v->piece_len);
    free(v->nodes);
    free(v->token_next);
    free(v->kind);
    free(v->order);
    free(v->byte_sets);
    free(v->set_lo);
    free(v->set_chars);
    free(v->by_chars);
    free(v->chars);
    free(v);
}

int vocab_trie_size(const vocab_trie *v) { return v->n_vocab; }

typedef struct {
    grammar_state key;
    uint32_t *mask;
    int count;
    uint64_t used; /* for least-recently-used replacement */
    bool valid;
} cache_slot;

struct grammar_matcher {
    const grammar *g;
    const vocab_trie *v;
    grammar_state state;
    grammar_state *path; /* scratch states for accept_text */
    uint32_t *path_id;   /* the states along the trie walk (state_table numbers), max_len + 1 */
    uint32_t *child;     /* the next child to try at each depth */
    uint32_t *child_slow; /* the same for the walk without the state table */
    state_table *table;
    grammar_scratch w;
    cache_slot cache[CACHE_SLOTS];
    uint64_t clock;
    size_t words;
};

hearth_status grammar_matcher_create(grammar_matcher **out, const grammar *g, const vocab_trie *trie,
                                     hearth_error *err) {
    *out = NULL;
    grammar_matcher *m = calloc(1, sizeof *m);
    if (!m) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    m->g = g;
    m->v = trie;
    m->words = ((size_t)trie->n_vocab + 31) / 32;
    m->path = calloc((size_t)trie->max_len + 2, sizeof *m->path);
    m->child = malloc(((size_t)trie->max_len + 2) * sizeof *m->child);
    m->path_id = malloc(((size_t)trie->max_len + 2) * sizeof *m->path_id);
    m->child_slow = malloc(((size_t)trie->max_len + 2) * sizeof *m->child_slow);
    m->table = state_table_create(g);
    hearth_status st = m->path && m->child && m->path_id && m->child_slow && m->table
                           ? grammar_state_start(g, &m->state, &m->w, err)
                           : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    if (st) {
        grammar_matcher_free(m);
        return st;
    }
    *out = m;
    return HEARTH_OK;
}

void grammar_matcher_free(grammar_matcher *m) {
    if (!m) return;
    grammar_state_free(&m->state);
    for (int d = 0; m->path && d < m->v->max_len + 2; d++) grammar_state_free(&m->path[d]);
    free(m->path);
    free(m->child);
    free(m->path_id);
    free(m->child_slow);
    state_table_free(m->table);
    grammar_scratch_free(&m->w);
    for (int i = 0; i < CACHE_SLOTS; i++) {
        grammar_state_free(&m->cache[i].key);
        free(m->cache[i].mask);
    }
    free(m);
}

static bool same_state(const grammar_state *a, const grammar_state *b) {
    return a->len == b->len && a->partial == b->partial && a->left == b->left && a->need == b->need &&
           (a->len == 0 || memcmp(a->data, b->data, a->len * sizeof *a->data) == 0);
}

static void allow(uint32_t *allowed, uint32_t id) { allowed[id >> 5] |= 1u << (id & 31); }

/* The tokens that end at node; how many. */
static int allow_own(const vocab_trie *v, const trie_node *node, uint32_t *allowed) {
    int count = 0;
    for (uint32_t t = node->first_token; t != NONE; t = v->token_next[t]) allow(allowed, t), count++;
    return count;
}

/* The tokens of node c's subtree that state `from` takes after node c's
 * byte, a real matcher step per trie edge: where the state table is full.
 * m->path holds the states by depth (accept_text uses it only between walks). */
static int walk_uncached(grammar_matcher *m, uint32_t c, const grammar_state *from, uint32_t *allowed) {
    const vocab_trie *v = m->v;
    int count = 0, depth = 0;
    if (!grammar_state_byte(m->g, from, v->nodes[c].byte, &m->path[0], &m->w)) return 0;
    count += allow_own(v, &v->nodes[c], allowed);
    m->child_slow[0] = v->nodes[c].first_child;
    while (depth >= 0) {
        uint32_t k = m->child_slow[depth];
        if (k == NONE) {
            depth--;
            continue;
        }
        const trie_node *node = &v->nodes[k];
        m->child_slow[depth] = node->next_sibling;
        if (!grammar_state_byte(m->g, &m->path[depth], node->byte, &m->path[depth + 1], &m->w)) continue;
        count += allow_own(v, node, allowed);
        if (node->first_child != NONE) m->child_slow[++depth] = node->first_child;
    }
    return count;
}

/* The walk itself: every token whose bytes the state takes. A subtree
 * whose bytes all lead back to the state reached at its top (a string's
 * plain characters) is allowed whole, without visiting it; one whose
 * characters step down a count (maxLength) by its tokens' characters. */
static int walk(grammar_matcher *m, uint32_t *allowed) {
    const vocab_trie *v = m->v;
    int count = 0;
    memset(allowed, 0, m->words * sizeof *allowed);
    state_table_trim(m->table);
    uint32_t start = state_table_intern(m->table, &m->state);
    int depth = 0;
    m->path_id[0] = start;
    m->child[0] = start >= STATE_FULL ? NONE : v->nodes[0].first_child;
    if (start == STATE_FULL) /* no table at all (out of memory): every subtree of the root without it */
        for (uint32_t c = v->nodes[0].first_child; c != NONE; c = v->nodes[c].next_sibling)
            count += walk_uncached(m, c, &m->state, allowed);
    while (depth >= 0) {
        uint32_t c = m->child[depth];
        if (c == NONE) {
            depth--;
            continue;
        }
        const trie_node *node = &v->nodes[c];
        m->child[depth] = node->next_sibling;
        uint32_t to = state_table_next(m->table, m->path_id[depth], node->byte);
        if (to == STATE_DEAD) continue;
        if (to == STATE_FULL) {
            count += walk_uncached(m, c, state_table_state(m->table, m->path_id[depth]), allowed);
            continue;
        }
        if (node->first_child != NONE && node->below != NONE && node->well_formed) {
            const uint32_t *set = v->byte_sets[node->below];
            int chars = state_table_loops(m->table, to, set) ? node->height
                                                             : state_table_chain(m->table, to, set, node->height);
            if (chars >= node->height) { /* every token below */
                for (uint32_t k = node->tok_lo; k < node->tok_hi; k++) allow(allowed, v->order[k]);
                count += (int)(node->tok_hi - node->tok_lo);
                continue;
            }
            uint32_t lo = v->set_lo[node->below];
            if (chars >= 0 && lo != NONE) { /* those of at most `chars` characters below the node */
                for (uint32_t k = lo, end = lo + (node->tok_hi - node->tok_lo); k < end; k++) {
                    uint32_t t = v->by_chars[k];
                    if (v->chars[t] - v->set_chars[node->below] > chars) break;
                    allow(allowed, t), count++;
                }
                continue;
            }
        }
        count += allow_own(v, node, allowed);
        if (node->first_child != NONE) {
            depth++;
            m->path_id[depth] = to;
            m->child[depth] = node->first_child;
        }
    }
    if (grammar_state_accepts(&m->state))
        for (int id = 0; id < v->n_vocab; id++)
            if (v->kind[id] == TOKEN_EOG) allow(allowed, (uint32_t)id), count++;
    return count;
}

int grammar_matcher_mask(grammar_matcher *m, uint32_t *allowed) {
    m->clock++;
    cache_slot *victim = &m->cache[0];
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_slot *s = &m->cache[i];
        if (s->valid && same_state(&s->key, &m->state)) {
            s->used = m->clock;
            memcpy(allowed, s->mask, m->words * sizeof *allowed);
            return s->count;
        }
        if (!s->valid || s->used < victim->used) victim = s;
    }
    int count = walk(m, allowed);
    /* Caching is an optimization: without memory, the walk's result stands. */
    if (!victim->mask) victim->mask = malloc(m->words * sizeof *victim->mask);
    if (victim->mask && grammar_state_copy(&victim->key, &m->state)) {
        memcpy(victim->mask, allowed, m->words * sizeof *allowed);
        victim->count = count;
        victim->used = m->clock;
        victim->valid = true;
    } else {
        victim->valid = false;
    }
    return count;
}

bool grammar_matcher_accept_text(grammar_matcher *m, const char *text, size_t len) {
    /* two states in turn, the current one kept until the whole text matched */
    grammar_state *a = &m->path[0], *b = &m->path[1];
    if (!grammar_state_copy(a, &m->state)) return false;
    for (size_t i = 0; i < len; i++) {
        if (!grammar_state_byte(m->g, a, (uint8_t)text[i], b, &m->w)) return false;
        grammar_state *t = a;
        a = b;
        b = t;
    }
    return grammar_state_copy(&m->state, a);
}

bool grammar_matcher_accept(grammar_matcher *m, int32_t token) {
    const vocab_trie *v = m->v;
    if (token < 0 || token >= v->n_vocab) return false;
    if (v->kind[token] == TOKEN_EOG) return grammar_state_accepts(&m->state);
    if (v->kind[token] != TOKEN_TEXT) return false;
    return grammar_matcher_accept_text(m, (const char *)v->piece[token], v->piece_len[token]);
}

bool grammar_matcher_complete(const grammar_matcher *m) { return grammar_state_accepts(&m->state); }

void grammar_matcher_limit_states(grammar_matcher *m, uint32_t max_states) { state_table_limit(m->table, max_states); }
