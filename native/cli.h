/* Shared pieces of the CLI commands: flag parsing, loading an engine,
 * JSON output. */
#ifndef HEARTH_CLI_H
#define HEARTH_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "generate.h"
#include "host_native.h"
#include "json.h"

/* Exit codes: 0 success, 1 runtime or model error, 2 usage error. */
enum { EXIT_USAGE = 2 };

typedef enum { OPT_STRING, OPT_INT, OPT_FLOAT, OPT_U64, OPT_FLAG, OPT_LIST } cli_opt_kind;

/* A flag that may be given several times (OPT_LIST). */
#define CLI_LIST_MAX 256
typedef struct {
    const char *items[CLI_LIST_MAX];
    int n;
} cli_list;

typedef struct {
    const char *name; /* "--max-tokens" */
    cli_opt_kind kind;
    void *dst;        /* const char **, int *, float *, uint64_t *, bool *, cli_list * */
    const char *arg;  /* placeholder in help: "N" */
    const char *help;
} cli_opt;

typedef struct {
    const char *command; /* "run" */
    const char *summary;
    const char *usage;   /* "--model F (--prompt TEXT | --prompt-file F) [options]" */
    const cli_opt *opts;
} cli_command;

/* Returns -1 when parsing succeeded and the command should run, otherwise
 * the exit code (0 after --help, 2 after a usage error, which is printed). */
int cli_parse(const cli_command *cmd, int argc, char **argv);
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The sampling flags of run and chat, their help built from
 * sampler_defaults (the one place the defaults are written). */
typedef struct {
    char help[5][96];
} cli_sampling;
void cli_sampling_help(cli_sampling *cs, const sampler_params *defaults);
#define CLI_SAMPLING_OPTS(sp, cs)                                                             \
    {"--temperature", OPT_FLOAT, &(sp).temperature, "T", (cs).help[0]},                       \
        {"--top-k", OPT_INT, &(sp).top_k, "K", (cs).help[1]},                                 \
        {"--top-p", OPT_FLOAT, &(sp).top_p, "P", (cs).help[2]},                               \
        {"--min-p", OPT_FLOAT, &(sp).min_p, "P", (cs).help[3]},                               \
        {"--repeat-penalty", OPT_FLOAT, &(sp).repeat_penalty, "R", (cs).help[4]},             \
        {"--seed", OPT_U64, &(sp).seed, "S", "random seed for sampling (same seed, same text)"}

/* --chat-template-kwargs: text (may be NULL) as a JSON object of template
 * variables in *out (NULL when text is; json_free it). Returns -1 when it
 * parsed, else the usage error's exit code (printed). */
int cli_template_kwargs(const cli_command *cmd, const char *text, json_value **out);

/* --grammar F / --json-schema F of run and chat (into two const char *). */
#define CLI_GRAMMAR_OPTS(grammar_file, schema_file)                                                    \
    {"--grammar", OPT_STRING, &(grammar_file), "F", "constrain the generated text to this GBNF grammar"}, \
        {"--json-schema", OPT_STRING, &(schema_file), "F", "constrain the generated text to JSON valid for this JSON Schema"}

/* --grammar F / --json-schema F (either may be NULL, not both given): the
 * GBNF text the answer is constrained to in *out (malloc'ed; NULL when
 * neither), a schema converted (src/grammar/json_schema.h). Returns -1 when
 * it worked, else the usage error's exit code (printed). */
int cli_grammar(const cli_command *cmd, const char *grammar_file, const char *schema_file, char **out, size_t *len);

/* Reads a whole text file (prompts); NULL and a message on failure. */
char *cli_read_file(const char *path, size_t *len, hearth_error *err);

typedef struct {
    native_host *host;
    hearth_engine *engine;
    double load_ms;
} cli_model;

/* Loads a model (n_ctx -1: the engine's default); prints the error and
 * returns its exit code on failure
 * (2 when the file does not exist, 1 when it is not a usable model). */
int cli_load(const cli_command *cmd, const char *path, int threads, int n_ctx, cli_model *out);
/* The same for commands that need only the tokenizer and metadata. */
int cli_load_vocab(const cli_command *cmd, const char *path, cli_model *out);
void cli_unload(cli_model *m);
double cli_now_ms(void);

/* JSON: strings are written as valid UTF-8, invalid bytes as U+FFFD. */
void json_string(FILE *f, const char *s, size_t len);
void json_ints(FILE *f, const int32_t *v, size_t n);

int cmd_run(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Today's local date, for templates' strftime_now(); false if the clock can't be read. */
bool cli_today(int *year, int *month, int *day);

#endif
