/* hearth tokenize: the token ids of a text (no BOS). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_tokenize(int argc, char **argv) {
    const char *model_path = NULL, *text = NULL, *text_file = NULL;
    bool special = false, json = false;
    cli_opt opts[] = {
        {"--model", OPT_STRING, &model_path, "F", "GGUF model file (its tokenizer is used)"},
        {"--text", OPT_STRING, &text, "T", "text to tokenize"},
        {"--text-file", OPT_STRING, &text_file, "F", "read the text from a file"},
        {"--special", OPT_FLAG, &special, NULL, "parse special-token text such as <|im_end|> as special tokens"},
        {"--json", OPT_FLAG, &json, NULL, "print {\"tokens\":[...]} instead of one id per line"},
        {0},
    };
    cli_command cmd = {"tokenize", "Prints the token ids of a text, without BOS.",
                       "--model F (--text T | --text-file F) [--special] [--json]", opts};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!text == !text_file) return cli_usage_error(&cmd, "give exactly one of --text and --text-file");
    hearth_error err = {0};
    char *file_text = NULL;
    size_t len;
    if (text_file) {
        file_text = cli_read_file(text_file, &len, &err);
        if (!file_text) return cli_usage_error(&cmd, "%s", err.message);
        text = file_text;
    } else {
        len = strlen(text);
    }
    cli_model m;
    rc = cli_load_vocab(&cmd, model_path, &m);
    if (rc >= 0) {
        free(file_text);
        return rc;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    if (tokenizer_encode(hearth_engine_tokenizer(m.engine), text, len, special, &ids, &n, &err)) {
        fprintf(stderr, "hearth: %s\n", err.message);
        rc = 1;
    } else if (json) {
        fputs("{\"tokens\":", stdout);
        json_ints(stdout, ids, n);
        fputs("}\n", stdout);
        rc = 0;
    } else {
        for (size_t i = 0; i < n; i++) printf("%d\n", ids[i]);
        rc = 0;
    }
    free(ids);
    free(file_text);
    cli_unload(&m);
    return rc;
}
