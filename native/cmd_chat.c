/* hearth chat: a conversation through the model's chat template, either
 * interactive in a terminal or with --message turns (and --json). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"
#include "cli.h"

/* Set by Ctrl-C; the answer being generated stops at the next token. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static bool print_text(void *user, const char *text, size_t len) {
    (void)user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return !interrupted;
}

/* A reasoning model's thinking goes to stderr, so stdout holds the answers. */
static bool print_reasoning(void *user, const char *text, size_t len) {
    (void)user;
    fwrite(text, 1, len, stderr);
    return !interrupted;
}

static void json_stats(const hearth_chat_stats *s) {
    int decoded = s->gen_tokens > 1 ? s->gen_tokens - 1 : 0;
    printf("{\"prompt_tokens\":%d,\"reused_tokens\":%d,\"evaluated_tokens\":%d,\"gen_tokens\":%d,"
           "\"dropped_messages\":%d,\"prefill_ms\":%.2f,\"decode_ms\":%.2f,\"decode_tok_s\":%.2f,\"ttft_ms\":%.2f,"
           "\"grammar_ms\":%.2f,\"tool_calls\":%d}",
           s->prompt_tokens, s->reused_tokens, s->evaluated_tokens, s->gen_tokens, s->dropped_messages, s->prefill_ms,
           s->decode_ms, s->decode_ms > 0 ? decoded * 1e3 / s->decode_ms : 0, s->ttft_ms, s->grammar_ms, s->tool_calls);
}

/* Reads one line of any length from stdin; NULL at end of input or Ctrl-C. */
static char *read_line(void) {
    size_t cap = 256, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        int ch = getchar();
        if (ch == EOF) {
            if (n == 0 || ferror(stdin)) {
                free(buf);
                return NULL;
            }
            break;
        }
        if (ch == '\n') break;
        if (n + 2 > cap) {
            char *p = cap < ((size_t)1 << 30) ? realloc(buf, cap * 2) : NULL;
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p;
            cap *= 2;
        }
        buf[n++] = (char)ch;
    }
    if (n && buf[n - 1] == '\r') n--;
    buf[n] = 0;
    return buf;
}

static int interactive(hearth_chat *chat, const hearth_chat_options *o) {
    fprintf(stderr, "hearth chat: type a message and Enter; Ctrl-C stops an answer, /reset forgets the "
                    "conversation, /exit or Ctrl-D leaves.\n");
    for (;;) {
        fputs("> ", stdout);
        fflush(stdout);
        interrupted = 0;
        char *line = read_line();
        if (!line) {
            fputc('\n', stdout);
            return 0;
        }
        if (strcmp(line, "/exit") == 0 || strcmp(line, "/quit") == 0) {
            free(line);
            return 0;
        }
        if (strcmp(line, "/reset") == 0) {
            hearth_chat_reset(chat);
            fputs("(conversation cleared)\n", stdout);
            free(line);
            continue;
        }
        if (line[0] == 0) {
            free(line);
            continue;
        }
        hearth_chat_stats stats;
        hearth_error err = {0};
        hearth_status st = hearth_chat_send(chat, line, o, print_text, print_reasoning, NULL, NULL, NULL, &stats, &err);
        free(line);
        if (st) {
            fprintf(stderr, "\nhearth: %s\n", err.message);
            continue;
        }
        fputc('\n', stdout);
        if (stats.dropped_messages)
            fprintf(stderr, "(dropped the %d oldest messages to fit the context)\n", stats.dropped_messages);
        if (strcmp(stats.stop, "interrupted") == 0) fputs("(stopped)\n", stdout);
    }
}

int cmd_chat(int argc, char **argv) {
    const char *model_path = NULL, *system = NULL, *kwargs = NULL, *grammar_file = NULL, *schema_file = NULL;
    int max_tokens = 512, threads = 0, n_ctx = -1;
    bool json = false, show_tokens = false;
    cli_list messages = {.n = 0}, stops = {.n = 0};
    hearth_chat_options o = {0};
    sampler_defaults(&o.sampling);
    cli_sampling cs;
    cli_sampling_help(&cs, &o.sampling);
    cli_opt opts[] = {
        {"--model", OPT_STRING, &model_path, "F", "GGUF model file"},
        {"--system", OPT_STRING, &system, "S", "system message"},
        {"--message", OPT_LIST, &messages, "TEXT", "a user turn, answered in order (repeatable); none: interactive"},
        {"--json", OPT_FLAG, &json, NULL, "with --message: print one JSON object with every turn and its stats"},
        {"--show-tokens", OPT_FLAG, &show_tokens, NULL,
         "with --json: each turn also lists the tokens of the conversation so far"},
        {"--max-tokens", OPT_INT, &max_tokens, "N", "answer length limit (default 512)"},
        {"--stop", OPT_LIST, &stops, "S", "also stop an answer at this text (repeatable)"},
        {"--chat-template-kwargs", OPT_STRING, &kwargs, "JSON",
         "variables for the chat template, e.g. '{\"enable_thinking\": false}' (Qwen3)"},
        CLI_GRAMMAR_OPTS(grammar_file, schema_file),
        CLI_SAMPLING_OPTS(o.sampling, cs),
        {"--threads", OPT_INT, &threads, "N", "CPU threads (default: all cores)"},
        {"--ctx", OPT_INT, &n_ctx, "N", "context size in tokens (default: min(model, 4096))"},
        {0},
    };
    cli_command cmd = {"chat",
                       "Chats with a model through its own chat template (ChatML when the file has none). "
                       "Each turn reuses the KV cache of the conversation so far.",
                       "--model F [--system S] [--message TEXT ...] [--json] [options]", opts};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    o.max_tokens = max_tokens;
    o.stop = stops.items;
    o.n_stop = stops.n;
    hearth_error err = {0};
    if (max_tokens < 1) return cli_usage_error(&cmd, "--max-tokens must be positive");
    if (sampler_validate(&o.sampling, &err)) return cli_usage_error(&cmd, "%s", err.message);
    if (json && messages.n == 0) return cli_usage_error(&cmd, "--json needs at least one --message");
    char *gbnf = NULL;
    if ((rc = cli_grammar(&cmd, grammar_file, schema_file, &gbnf, &o.grammar_len)) >= 0) return rc;
    o.grammar = gbnf;
    json_value *vars;
    if ((rc = cli_template_kwargs(&cmd, kwargs, &vars)) >= 0) {
        free(gbnf);
        return rc;
    }
    o.template_vars = vars;
    cli_model m;
    rc = cli_load(&cmd, model_path, threads, n_ctx, &m);
    if (rc >= 0) {
        json_free(vars);
        free(gbnf);
        return rc;
    }
    hearth_chat *chat = NULL;
    if (hearth_chat_create(&chat, m.engine, system, &err)) {
        fprintf(stderr, "hearth: %s\n", err.message);
        cli_unload(&m);
        json_free(vars);
        free(gbnf);
        return 1;
    }
    if (hearth_chat_warning(chat)[0]) fprintf(stderr, "warning: %s\n", hearth_chat_warning(chat));
    int year, month, day;
    if (cli_today(&year, &month, &day)) hearth_chat_set_date(chat, year, month, day);
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    rc = 0;
    if (messages.n == 0) {
        rc = interactive(chat, &o);
    } else {
        if (json) fputs("{\"turns\":[", stdout);
        for (int i = 0; i < messages.n; i++) {
            hearth_chat_stats stats;
            char *answer = NULL, *reasoning = NULL;
            if (hearth_chat_send(chat, messages.items[i], &o, json ? NULL : print_text, json ? NULL : print_reasoning,
                                 NULL, &answer, &reasoning, &stats, &err)) {
                fprintf(stderr, "hearth: %s\n", err.message);
                rc = 1;
                break;
            }
            if (json) {
                fputs(i ? ",{\"user\":" : "{\"user\":", stdout);
                json_string(stdout, messages.items[i], strlen(messages.items[i]));
                fputs(",\"assistant\":", stdout);
                json_string(stdout, answer, strlen(answer));
                fputs(",\"reasoning\":", stdout);
                json_string(stdout, reasoning, strlen(reasoning));
                printf(",\"stop\":\"%s\",\"stats\":", stats.stop);
                json_stats(&stats);
                int32_t *ids = NULL;
                int n_ids = 0;
                if (show_tokens && !hearth_chat_prompt_tokens(chat, &ids, &n_ids, &err)) {
                    fputs(",\"conversation_tokens\":", stdout);
                    json_ints(stdout, ids, (size_t)n_ids);
                }
                free(ids);
                fputc('}', stdout);
            } else {
                fputc('\n', stdout);
            }
            free(answer);
            free(reasoning);
        }
        if (json) {
            fputs("],\"warning\":", stdout);
            const char *w = hearth_chat_warning(chat);
            json_string(stdout, w, strlen(w));
            fputs("}\n", stdout);
        }
    }
    hearth_chat_free(chat);
    cli_unload(&m);
    json_free(vars);
    free(gbnf);
    return rc;
}
