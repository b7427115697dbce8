#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "grammar/json_schema.h"

static void print_help(const cli_command *cmd, FILE *f) {
    fprintf(f, "usage: hearth %s %s\n\n%s\n\noptions:\n", cmd->command, cmd->usage, cmd->summary);
    for (const cli_opt *o = cmd->opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-24s %s\n", left, o->help);
    }
    fprintf(f, "  %-24s %s\n", "--help", "show this help");
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hearth %s: ", cmd->command);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: hearth %s %s (see --help)\n", cmd->command, cmd->usage);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_template_kwargs(const cli_command *cmd, const char *text, json_value **out) {
    *out = NULL;
    if (!text) return -1;
    hearth_error err = {0};
    if (json_parse(text, strlen(text), out, &err)) return cli_usage_error(cmd, "--chat-template-kwargs: %s", err.message);
    if ((*out)->type == JSON_OBJECT) return -1;
    json_free(*out);
    *out = NULL;
    return cli_usage_error(cmd, "--chat-template-kwargs must be a JSON object, e.g. '{\"enable_thinking\": false}'");
}

static bool parse_number(const char *s, cli_opt_kind kind, void *dst) {
    char *end;
    errno = 0;
    if (kind == OPT_FLOAT) {
        float v = strtof(s, &end);
        if (*s == 0 || *end || errno || !isfinite(v)) return false;
        *(float *)dst = v;
    } else if (kind == OPT_INT) {
        long v = strtol(s, &end, 10);
        if (*s == 0 || *end || errno || v < -2147483647L || v > 2147483647L) return false;
        *(int *)dst = (int)v;
    } else {
        if (*s == '-') return false;
        unsigned long long v = strtoull(s, &end, 10);
        if (*s == 0 || *end || errno) return false;
        *(uint64_t *)dst = v;
    }
    return true;
}

int cli_parse(const cli_command *cmd, int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help(cmd, stdout);
            return 0;
        }
        const cli_opt *o = cmd->opts;
        while (o->name && strcmp(o->name, a) != 0) o++;
        if (!o->name) return cli_usage_error(cmd, "unknown option %s", a);
        if (o->kind == OPT_FLAG) {
            *(bool *)o->dst = true;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error(cmd, "%s needs a value", a);
        const char *v = argv[++i];
        if (o->kind == OPT_STRING) *(const char **)o->dst = v;
        else if (o->kind == OPT_LIST) {
            cli_list *l = o->dst;
            if (l->n == CLI_LIST_MAX) return cli_usage_error(cmd, "%s given more than %d times", a, CLI_LIST_MAX);
            l->items[l->n++] = v;
        }
        else if (!parse_number(v, o->kind, o->dst)) return cli_usage_error(cmd, "%s: \"%s\" is not a valid number", a, v);
    }
    return -1;
}

void cli_sampling_help(cli_sampling *cs, const sampler_params *d) {
    snprintf(cs->help[0], sizeof cs->help[0], "0 = greedy (default %g)", (double)d->temperature);
    snprintf(cs->help[1], sizeof cs->help[1], "keep the K most likely tokens, 0 = off (default %d)", d->top_k);
    snprintf(cs->help[2], sizeof cs->help[2], "nucleus sampling, 1 = off (default %g)", (double)d->top_p);
    snprintf(cs->help[3], sizeof cs->help[3], "drop tokens below P x the best one, 0 = off (default %g)",
             (double)d->min_p);
    snprintf(cs->help[4], sizeof cs->help[4], "penalise the last %d tokens, 1 = off (default %g)", d->repeat_last_n,
             (double)d->repeat_penalty);
}

int cli_grammar(const cli_command *cmd, const char *grammar_file, const char *schema_file, char **out, size_t *len) {
    *out = NULL;
    *len = 0;
    if (grammar_file && schema_file) return cli_usage_error(cmd, "give --grammar or --json-schema, not both");
    const char *path = grammar_file ? grammar_file : schema_file;
    if (!path) return -1;
    hearth_error err = {0};
    char *text = cli_read_file(path, len, &err);
    if (!text) return cli_usage_error(cmd, "%s", err.message);
    if (grammar_file) {
        *out = text;
        return -1;
    }
    json_value *schema = NULL;
    hearth_status st = json_parse(text, *len, &schema, &err);
    if (!st) st = json_schema_to_gbnf(schema, out, len, &err);
    json_free(schema);
    free(text);
    if (st) return cli_usage_error(cmd, "%s: %s", schema_file, err.message);
    return -1;
}

char *cli_read_file(const char *path, size_t *len, hearth_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        hearth_fail(err, HEARTH_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        char *bigger = cap > ((size_t)1 << 40) ? NULL : realloc(buf, cap * 2 + 1);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    bool failed = ferror(f);
    fclose(f);
    if (!buf || failed) {
        free(buf);
        hearth_fail(err, HEARTH_E_IO, "%s: %s", path, failed ? "read error" : "out of memory");
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

double cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int load(const cli_command *cmd, const char *path, int threads, int n_ctx, bool vocab_only, cli_model *out) {
    memset(out, 0, sizeof *out);
    if (!path) return cli_usage_error(cmd, "--model is required");
    struct stat sb;
    if (stat(path, &sb) != 0) return cli_usage_error(cmd, "%s: %s", path, strerror(errno));
    if (threads < 0) return cli_usage_error(cmd, "--threads must be positive");
    if (n_ctx == 0 || n_ctx < -1) return cli_usage_error(cmd, "--ctx must be positive");
    hearth_error err = {0};
    double t0 = cli_now_ms();
    hearth_status st = native_host_create(&out->host, path, threads, &err);
    hearth_engine_options opt = {.n_ctx = n_ctx > 0 ? n_ctx : 0, .no_simd = getenv("HEARTH_NO_SIMD") != NULL,
                                 .vocab_only = vocab_only};
    if (!st) st = hearth_engine_load(&out->engine, native_host_iface(out->host), &opt, &err);
    if (st) {
        fprintf(stderr, "hearth: %s\n", err.message);
        cli_unload(out);
        return 1;
    }
    out->load_ms = cli_now_ms() - t0;
    return -1;
}

int cli_load(const cli_command *cmd, const char *path, int threads, int n_ctx, cli_model *out) {
    return load(cmd, path, threads, n_ctx, false, out);
}

int cli_load_vocab(const cli_command *cmd, const char *path, cli_model *out) {
    return load(cmd, path, 1, -1, true, out);
}

void cli_unload(cli_model *m) {
    hearth_engine_free(m->engine);
    native_host_free(m->host);
    m->engine = NULL;
    m->host = NULL;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_valid_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

void json_string(FILE *f, const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t n = utf8_valid_len(s + i, len - i);
        if (n == 0) {
            fputs("\\ufffd", f);
            i++;
            continue;
        }
        if (n > 1) {
            fwrite(s + i, 1, n, f);
        } else if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
        } else if (c == '\n') fputs("\\n", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
        i += n;
    }
    fputc('"', f);
}

void json_ints(FILE *f, const int32_t *v, size_t n) {
    fputc('[', f);
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? "," : "", v[i]);
    fputc(']', f);
}

bool cli_today(int *year, int *month, int *day) {
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm)) return false;
    *year = tm.tm_year + 1900;
    *month = tm.tm_mon + 1;
    *day = tm.tm_mday;
    return true;
}
