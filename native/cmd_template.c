/* hearth template: renders a chat template for a conversation and prints
 * the prompt (no trailing newline added). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "jinja/template.h"

/* The text of a special token, "" when there is none. */
static char *token_text(const hearth_tokenizer *t, int32_t id) {
    size_t cap = tokenizer_max_piece_len(t) + 1;
    char *buf = calloc(1, cap + 1);
    if (buf && id >= 0) buf[tokenizer_piece(t, id, true, buf, cap)] = 0;
    return buf;
}

int cmd_template(int argc, char **argv) {
    const char *model_path = NULL, *template_file = NULL, *messages_file = NULL, *tools_file = NULL;
    const char *bos = NULL, *eos = NULL, *date = NULL, *kwargs = NULL;
    bool agp = false;
    cli_opt opts[] = {
        {"--model", OPT_STRING, &model_path, "F", "GGUF model: its tokenizer.chat_template and BOS/EOS texts (vocabulary only)"},
        {"--template-file", OPT_STRING, &template_file, "T", "a Jinja chat template file instead of a model's"},
        {"--bos-token", OPT_STRING, &bos, "S", "bos_token for --template-file (default \"\"), or overriding the model's"},
        {"--eos-token", OPT_STRING, &eos, "S", "eos_token for --template-file (default \"\"), or overriding the model's"},
        {"--messages", OPT_STRING, &messages_file, "F",
         "JSON: [{\"role\":..., \"content\":...}, ...] or {\"messages\": [...], \"tools\": [...]}"},
        {"--tools", OPT_STRING, &tools_file, "F", "JSON array of tool definitions (the `tools` variable)"},
        {"--add-generation-prompt", OPT_FLAG, &agp, NULL, "end with the assistant turn's header"},
        {"--date", OPT_STRING, &date, "YYYY-MM-DD", "the date strftime_now() sees (default: today)"},
        {"--chat-template-kwargs", OPT_STRING, &kwargs, "JSON",
         "more template variables, e.g. '{\"enable_thinking\": false}' (Qwen3)"},
        {0},
    };
    cli_command cmd = {"template", "Prints the prompt a chat template makes of a conversation.",
                       "(--model F | --template-file T [--bos-token S] [--eos-token S]) --messages F "
                       "[--tools F] [--add-generation-prompt] [--date YYYY-MM-DD] [--chat-template-kwargs JSON]",
                       opts};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!model_path == !template_file) return cli_usage_error(&cmd, "give exactly one of --model and --template-file");
    if (!messages_file) return cli_usage_error(&cmd, "--messages is required");
    hearth_template_input in = {.add_generation_prompt = agp, .bos_token = bos, .eos_token = eos};
    if (date) {
        char extra;
        if (sscanf(date, "%4d-%2d-%2d%c", &in.year, &in.month, &in.day, &extra) != 3 || in.month < 1 ||
            in.month > 12 || in.day < 1 || in.day > 31)
            return cli_usage_error(&cmd, "--date: \"%s\" is not YYYY-MM-DD", date);
    } else {
        cli_today(&in.year, &in.month, &in.day);
    }
    hearth_error err = {0};
    json_value *vars;
    if ((rc = cli_template_kwargs(&cmd, kwargs, &vars)) >= 0) return rc;
    in.variables = vars;
    size_t len;
    char *messages = cli_read_file(messages_file, &len, &err), *tools = NULL, *tmpl = NULL, *bos_own = NULL,
         *eos_own = NULL;
    if (!messages) {
        json_free(vars);
        return cli_usage_error(&cmd, "%s", err.message);
    }
    in.messages_json = messages;
    in.messages_json_len = len;
    if (tools_file) {
        tools = cli_read_file(tools_file, &len, &err);
        if (!tools) {
            free(messages);
            json_free(vars);
            return cli_usage_error(&cmd, "%s", err.message);
        }
        in.tools_json = tools;
        in.tools_json_len = len;
    }
    size_t tmpl_len = 0;
    cli_model m = {0};
    bool loaded = false;
    rc = 0;
    if (template_file) {
        tmpl = cli_read_file(template_file, &tmpl_len, &err);
        if (!tmpl) rc = cli_usage_error(&cmd, "%s", err.message);
    } else {
        int lrc = cli_load_vocab(&cmd, model_path, &m);
        if (lrc >= 0) {
            rc = lrc;
        } else {
            loaded = true;
            gguf_str s;
            if (!gguf_get_str(hearth_engine_gguf(m.engine), "tokenizer.chat_template", &s)) {
                fprintf(stderr, "hearth: %s has no tokenizer.chat_template; pass --template-file\n", model_path);
                rc = 1;
            } else {
                tmpl = malloc(s.len + 1);
                if (tmpl) {
                    memcpy(tmpl, s.data, s.len);
                    tmpl[s.len] = 0;
                    tmpl_len = s.len;
                }
                const hearth_tokenizer *t = hearth_engine_tokenizer(m.engine);
                if (!bos) in.bos_token = bos_own = token_text(t, tokenizer_bos(t));
                if (!eos) in.eos_token = eos_own = token_text(t, tokenizer_eos(t));
                if (!tmpl || (!bos && !bos_own) || (!eos && !eos_own)) {
                    fprintf(stderr, "hearth: out of memory\n");
                    rc = 1;
                }
            }
        }
    }
    if (rc == 0) {
        char *out;
        size_t out_len;
        hearth_status st = hearth_template_render(tmpl, tmpl_len, &in, &out, &out_len, &err);
        if (st) {
            bool input = strncmp(err.message, "messages:", 9) == 0 || strncmp(err.message, "tools:", 6) == 0;
            fprintf(stderr, "hearth: %s: %s\n", input ? (strncmp(err.message, "tools:", 6) == 0 ? tools_file : messages_file)
                                                      : (template_file ? template_file : model_path),
                    err.message);
            rc = input ? EXIT_USAGE : 1;
        } else {
            fwrite(out, 1, out_len, stdout);
            fflush(stdout);
            free(out);
        }
    }
    free(tmpl);
    free(bos_own);
    free(eos_own);
    free(messages);
    free(tools);
    json_free(vars);
    if (loaded) cli_unload(&m);
    return rc;
}
