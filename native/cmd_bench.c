/* hearth bench: prefill and decode speed, one JSON line. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bandwidth.h"
#include "bench.h"
#include "cli.h"
#include "grammar/mask_bench.h"

/* The mask runs on the calling thread alone: its CPU time is its time on an
 * idle machine, and what other processes' load disturbs least. */
static double thread_cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int cmd_bench(int argc, char **argv) {
    const char *model_path = NULL, *grammar_file = NULL, *schema_file = NULL, *answer_file = NULL;
    int prompt_tokens = 128, gen_tokens = 64, threads = 0, reps = 1, bandwidth = 0;
    cli_opt opts[] = {
        {"--model", OPT_STRING, &model_path, "F", "GGUF model file"},
        {"--prompt-tokens", OPT_INT, &prompt_tokens, "N", "prompt length for prefill (default 128)"},
        {"--gen-tokens", OPT_INT, &gen_tokens, "N", "tokens to decode (default 64)"},
        {"--threads", OPT_INT, &threads, "N", "CPU threads (default: all cores)"},
        {"--repetitions", OPT_INT, &reps, "N", "measure N times and report the best (default 1)"},
        {"--bandwidth", OPT_FLAG, &bandwidth, NULL,
         "also measure the memory's read bandwidth with the same threads, and decode's share of it"},
        CLI_GRAMMAR_OPTS(grammar_file, schema_file),
        {"--answer", OPT_STRING, &answer_file, "F",
         "with --grammar/--json-schema: a text the grammar allows, fed token by token to time the mask"},
        {0},
    };
    cli_command cmd = {"bench",
                       "Measures prefill and decode speed after a warm-up, and with a grammar what its mask costs "
                       "per token; prints one JSON line.",
                       "--model F [--prompt-tokens 128] [--gen-tokens 64] [--threads N] "
                       "[--bandwidth] [(--json-schema F | --grammar F) --answer F]",
                       opts};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!(grammar_file || schema_file) != !answer_file)
        return cli_usage_error(&cmd, "--answer goes with --grammar or --json-schema, and they with it");
    if (prompt_tokens < 1 || gen_tokens < 1 || reps < 1)
        return cli_usage_error(&cmd, "--prompt-tokens, --gen-tokens and --repetitions must be positive");
    if (prompt_tokens > (1 << 20) || gen_tokens > (1 << 20))
        return cli_usage_error(&cmd, "--prompt-tokens and --gen-tokens must be at most 1048576");
    char *gbnf = NULL, *answer = NULL;
    size_t gbnf_len = 0, answer_len = 0;
    hearth_error err = {0};
    if ((rc = cli_grammar(&cmd, grammar_file, schema_file, &gbnf, &gbnf_len)) >= 0) return rc;
    if (answer_file && !(answer = cli_read_file(answer_file, &answer_len, &err))) {
        free(gbnf);
        return cli_usage_error(&cmd, "%s", err.message);
    }
    cli_model m;
    rc = cli_load(&cmd, model_path, threads, prompt_tokens + gen_tokens, &m);
    if (rc >= 0) {
        free(gbnf);
        free(answer);
        return rc;
    }
    const model_hparams *hp = &hearth_engine_model(m.engine)->hp;
    hearth_bench_result r;
    grammar_bench_result gr = {0};
    const hearth_host *h = native_host_iface(m.host);
    bandwidth_result bw = {0};
    /* before the model's passes, so the buffer is gone again when they run */
    hearth_status st = bandwidth ? measure_read_bandwidth(h->thread_count(h->ctx), &bw, &err) : HEARTH_OK;
    if (!st) st = hearth_bench(m.engine, prompt_tokens, gen_tokens, reps, &r, &err);
    if (!st && gbnf)
        st = grammar_bench(hearth_engine_tokenizer(m.engine), gbnf, gbnf_len, answer, answer_len, reps < 3 ? 3 : reps,
                           thread_cpu_ms, &gr, &err);
    double best_prefill = r.prefill_ms, best_decode = r.decode_ms;
    if (st) {
        fprintf(stderr, "hearth: %s\n", err.message);
        rc = 1;
    } else {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("{\"engine\":\"hearth\",\"model\":");
        json_string(stdout, model_path, strlen(model_path));
        printf(",\"arch\":\"%s\",\"threads\":%d,\"kernels\":\"%s\",\"load_ms\":%.2f,\"prompt_tokens\":%d,"
               "\"prefill_ms\":%.2f,\"prefill_tok_s\":%.2f,\"gen_tokens\":%d,\"decode_ms\":%.2f,"
               "\"decode_tok_s\":%.2f,\"peak_rss_mb\":%.1f",
               hp->arch_name, h->thread_count(h->ctx), hearth_engine_kernels(m.engine), m.load_ms, prompt_tokens,
               best_prefill, prompt_tokens * 1e3 / best_prefill, gen_tokens, best_decode,
               gen_tokens * 1e3 / best_decode, ru.ru_maxrss / 1024.0);
        if (bandwidth) {
            /* each decode step reads every matrix once (one row of the token table, unless tied) */
            double per_token = (double)model_decode_bytes(hearth_engine_model(m.engine));
            double decode_gbs = per_token * gen_tokens / best_decode / 1e6;
            printf(",\"bandwidth\":{\"read_gb_s\":%.2f,\"loads\":\"%s\",\"buffer_mb\":%.0f,"
                   "\"decode_bytes_per_token\":%.0f,\"decode_gb_s\":%.2f,\"decode_share\":%.3f}",
                   bw.gb_s, bw.loads, bw.buffer_mb, per_token, decode_gbs, decode_gbs / bw.gb_s);
        }
        /* the mask runs between two decode steps: its share of a step is the slowdown */
        if (gbnf)
            printf(",\"grammar\":{\"clock\":\"thread_cpu\",\"answer_tokens\":%d,\"trie_ms\":%.1f,\"ms_per_token\":%.3f,"
                   "\"first_ms\":%.3f,\"max_ms\":%.3f,\"overhead_pct\":%.1f}",
                   gr.tokens, gr.trie_ms, gr.ms_per_token, gr.first_ms, gr.max_ms,
                   100.0 * gr.ms_per_token / (best_decode / gen_tokens));
        fputs("}\n", stdout);
        rc = 0;
    }
    cli_unload(&m);
    free(gbnf);
    free(answer);
    return rc;
}
