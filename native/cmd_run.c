#define _POSIX_C_SOURCE 200809L
/* hearth run: raw completion of a prompt, streamed to stdout or as JSON. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grammar/grammar.h"
#include "grammar/token_mask.h"
#include "think.h"

#define TOP_LOGITS 64

typedef struct {
    bool json;
    int logit_steps;
    int32_t *tokens;
    int n_tokens, cap_tokens;
    think_buf text; /* the decoded text (think.h's growing string) */
    FILE *logits_out;
} run_state;

static bool emit(run_state *s, const char *text, size_t n) {
    if (!think_buf_add(&s->text, text, n)) return false;
    if (!s->json && n) {
        fwrite(text, 1, n, stdout);
        fflush(stdout);
    }
    return true;
}

static void write_top_logits(run_state *s, const float *logits, int n_vocab) {
    int top[TOP_LOGITS], k = 0;
    for (int i = 0; i < n_vocab; i++) {
        if (k < TOP_LOGITS) top[k++] = i;
        else if (logits[i] > logits[top[k - 1]]) top[k - 1] = i;
        else continue;
        for (int j = k - 1; j > 0 && logits[top[j]] > logits[top[j - 1]]; j--) {
            int t = top[j];
            top[j] = top[j - 1];
            top[j - 1] = t;
        }
    }
    fprintf(s->logits_out, "%s[", s->n_tokens > 1 ? "," : "");
    for (int j = 0; j < k; j++) fprintf(s->logits_out, "%s[%d,%.6g]", j ? "," : "", top[j], logits[top[j]]);
    fputc(']', s->logits_out);
}

static bool on_token(void *user, int32_t token, const char *text, size_t len, const float *logits, int n_vocab) {
    run_state *s = user;
    if (token < 0) return emit(s, text, len); /* the end: what the decoder held back */
    if (s->n_tokens == s->cap_tokens) {
        int cap = s->cap_tokens ? s->cap_tokens * 2 : 256;
        int32_t *p = realloc(s->tokens, (size_t)cap * sizeof *p);
        if (!p) return false;
        s->tokens = p;
        s->cap_tokens = cap;
    }
    s->tokens[s->n_tokens++] = token;
    if (s->logits_out && logits && s->n_tokens <= s->logit_steps) write_top_logits(s, logits, n_vocab);
    return emit(s, text, len);
}

int cmd_run(int argc, char **argv) {
    const char *model_path = NULL, *prompt = NULL, *prompt_file = NULL, *grammar_file = NULL, *schema_file = NULL;
    int max_tokens = 128, threads = 0, n_ctx = -1, logit_steps = 0;
    bool json = false;
    sampler_params sp;
    sampler_defaults(&sp);
    cli_sampling cs;
    cli_sampling_help(&cs, &sp);
    cli_opt opts[] = {
        {"--model", OPT_STRING, &model_path, "F", "GGUF model file (first part of a split model)"},
        {"--prompt", OPT_STRING, &prompt, "TEXT", "text to complete"},
        {"--prompt-file", OPT_STRING, &prompt_file, "F", "read the prompt from a file"},
        {"--max-tokens", OPT_INT, &max_tokens, "N", "tokens to generate at most (default 128)"},
        CLI_SAMPLING_OPTS(sp, cs),
        CLI_GRAMMAR_OPTS(grammar_file, schema_file),
        {"--threads", OPT_INT, &threads, "N", "CPU threads (default: all cores)"},
        {"--ctx", OPT_INT, &n_ctx, "N", "context size in tokens (default: min(model, 4096))"},
        {"--json", OPT_FLAG, &json, NULL, "print one JSON object with tokens, text and timings"},
        {"--logits", OPT_INT, &logit_steps, "N", "with --json: top-64 logits of the first N steps"},
        {0},
    };
    cli_command cmd = {"run", "Completes a prompt as raw text (no chat template).",
                       "--model F (--prompt TEXT | --prompt-file F) [options]", opts};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!prompt == !prompt_file) return cli_usage_error(&cmd, "give exactly one of --prompt and --prompt-file");
    if (max_tokens < 0) return cli_usage_error(&cmd, "--max-tokens must not be negative");
    if (logit_steps < 0) return cli_usage_error(&cmd, "--logits must not be negative");
    hearth_error err = {0};
    if (sampler_validate(&sp, &err)) return cli_usage_error(&cmd, "%s", err.message);
    char *gbnf = NULL, *file_text = NULL;
    size_t gbnf_len = 0, prompt_len = 0;
    if ((rc = cli_grammar(&cmd, grammar_file, schema_file, &gbnf, &gbnf_len)) >= 0) return rc;
    if (prompt_file) {
        file_text = cli_read_file(prompt_file, &prompt_len, &err);
        if (!file_text) {
            free(gbnf);
            return cli_usage_error(&cmd, "%s", err.message);
        }
        prompt = file_text;
    } else {
        prompt_len = strlen(prompt);
    }
    cli_model m;
    rc = cli_load(&cmd, model_path, threads, n_ctx, &m);
    if (rc >= 0) {
        free(file_text);
        free(gbnf);
        return rc;
    }
    rc = 0;
    int32_t *ptoks = NULL;
    int n_ptoks = 0;
    run_state s = {.json = json, .logit_steps = logit_steps};
    char *logits_buf = NULL;
    size_t logits_len = 0;
    if (json && logit_steps) s.logits_out = open_memstream(&logits_buf, &logits_len);
    hearth_gen_stats stats = {0};
    hearth_gen *gen = NULL;
    grammar *g = NULL;
    vocab_trie *trie = NULL;
    grammar_matcher *gm = NULL;
    hearth_status st = hearth_engine_prompt_tokens(m.engine, prompt, prompt_len, &ptoks, &n_ptoks, &err);
    if (!st && gbnf && (st = grammar_parse(&g, gbnf, gbnf_len, &err)))
        hearth_prefix(&err, "%s: ", grammar_file ? grammar_file : schema_file);
    if (!st && g) st = vocab_trie_build(&trie, hearth_engine_tokenizer(m.engine), &err);
    if (!st && g) st = grammar_matcher_create(&gm, g, trie, &err);
    if (!st) st = hearth_gen_begin(&gen, m.engine, ptoks, n_ptoks, 0, max_tokens, &sp, &err);
    if (!st && gm) st = hearth_gen_set_grammar(gen, gm, &err);
    if (!st) st = hearth_gen_run(gen, on_token, &s, &stats, &err);
    hearth_gen_free(gen);
    grammar_matcher_free(gm);
    vocab_trie_free(trie);
    grammar_free(g);
    if (!st && !s.text.p && !think_buf_add(&s.text, "", 0)) st = hearth_fail(&err, HEARTH_E_NOMEM, "out of memory");
    if (s.logits_out) fclose(s.logits_out);
    if (st) {
        if (!json && s.text.len) fputc('\n', stdout);
        fprintf(stderr, "hearth: %s\n", err.message);
        rc = 1;
    } else if (json) {
        fputs("{\"prompt_tokens\":", stdout);
        json_ints(stdout, ptoks, (size_t)n_ptoks);
        fputs(",\"tokens\":", stdout);
        json_ints(stdout, s.tokens, (size_t)s.n_tokens);
        fputs(",\"text\":", stdout);
        json_string(stdout, s.text.p ? s.text.p : "", s.text.len);
        int decoded = stats.gen_tokens > 1 ? stats.gen_tokens - 1 : 0;
        printf(",\"stop\":\"%s\"", stats.stopped_by_eog       ? "eog"
                                      : stats.stopped_by_ctx     ? "context"
                                      : stats.stopped_by_grammar ? "grammar"
                                                                 : "length");
        printf(",\"stats\":{\"load_ms\":%.2f,\"prompt_tokens\":%d,\"prefill_ms\":%.2f,\"prefill_tok_s\":%.2f,"
               "\"gen_tokens\":%d,\"decode_ms\":%.2f,\"decode_tok_s\":%.2f,\"ttft_ms\":%.2f,",
               m.load_ms, stats.prompt_tokens, stats.prefill_ms,
               stats.prefill_ms > 0 ? stats.prompt_tokens * 1e3 / stats.prefill_ms : 0, stats.gen_tokens,
               stats.decode_ms, stats.decode_ms > 0 ? decoded * 1e3 / stats.decode_ms : 0, stats.ttft_ms);
        /* the grammar's share only where one constrains the run (web/cli.mjs's run has no grammar) */
        if (gm) printf("\"grammar_ms\":%.2f,", stats.grammar_ms);
        printf("\"threads\":%d,\"kernels\":\"%s\"}",
               native_host_iface(m.host)->thread_count(native_host_iface(m.host)->ctx),
               hearth_engine_kernels(m.engine));
        if (logits_buf) printf(",\"logits\":[%s]", logits_buf);
        fputs("}\n", stdout);
    } else {
        fputc('\n', stdout);
        if (stats.stopped_by_ctx) fprintf(stderr, "hearth: stopped: the context of %d tokens is full\n", hearth_engine_ctx(m.engine));
    }
    free(logits_buf);
    free(ptoks);
    free(s.tokens);
    think_buf_free(&s.text);
    free(file_text);
    free(gbnf);
    cli_unload(&m);
    return rc;
}
