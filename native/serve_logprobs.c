/* Log-probabilities of the generated tokens, as OpenAI's chat API gives
 * them (logprobs: true, top_logprobs: N): the log-softmax of the logits each
 * token was sampled from, before temperature and truncation (the model's
 * own distribution, after the repetition penalty), and the N likeliest
 * tokens at that step. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>

#include "cli.h"
#include "serve.h"

enum { MAX_TOP = 20 };

/* piece: room for tokenizer_max_piece_len bytes */
static void token_json(FILE *f, const hearth_tokenizer *tok, int32_t id, double logprob, char *piece) {
    size_t n = tokenizer_piece(tok, id, true, piece, tokenizer_max_piece_len(tok));
    fputs("\"token\":", f);
    json_string(f, piece, n);
    /* (JSON has no -inf: a token the grammar masked out gets OpenAI's "very unlikely" value) */
    fprintf(f, ",\"logprob\":%.6g,\"bytes\":[", isfinite(logprob) ? logprob : -9999.0);
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%u", i ? "," : "", (unsigned char)piece[i]);
    fputs("]", f);
}

bool serve_logprob_entry(think_buf *out, const hearth_tokenizer *tok, const float *logits, int n_vocab, int32_t token,
                         int top) {
    int n = tokenizer_vocab_size(tok) < n_vocab ? tokenizer_vocab_size(tok) : n_vocab;
    if (top > MAX_TOP) top = MAX_TOP;
    if (token < 0 || token >= n) return think_buf_add(out, "", 0);
    /* log-sum-exp, and the `top` likeliest ids kept sorted by insertion (few beat the last one) */
    float max = logits[0];
    for (int i = 1; i < n; i++)
        if (logits[i] > max) max = logits[i];
    double sum = 0;
    int best[MAX_TOP], n_best = 0;
    for (int i = 0; i < n; i++) {
        sum += exp((double)logits[i] - max);
        /* (tokens a grammar masked out, -inf, are no alternatives) */
        if (top == 0 || !isfinite(logits[i]) || (n_best == top && logits[i] <= logits[best[n_best - 1]])) continue;
        int k = n_best < top ? n_best++ : top - 1;
        while (k > 0 && logits[best[k - 1]] < logits[i]) best[k] = best[k - 1], k--;
        best[k] = i;
    }
    double lse = max + log(sum);
    serve_text t;
    char *piece = malloc(tokenizer_max_piece_len(tok) + 1);
    if (!piece || !serve_text_open(&t)) return free(piece), false;
    fputc('{', t.f);
    token_json(t.f, tok, token, logits[token] - lse, piece);
    fputs(",\"top_logprobs\":[", t.f);
    for (int i = 0; i < n_best; i++) {
        fputs(i ? ",{" : "{", t.f);
        token_json(t.f, tok, best[i], logits[best[i]] - lse, piece);
        fputc('}', t.f);
    }
    fputs("]},", t.f);
    free(piece);
    if (!serve_text_close(&t)) return false;
    bool ok = think_buf_add(out, t.p, t.len);
    free(t.p);
    return ok;
}
