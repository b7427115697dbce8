/* hearth: run small language models locally. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_template(int argc, char **argv); /* native/cmd_template.c */

static void usage(FILE *f) {
    fputs("usage: hearth COMMAND [options]\n\n"
          "commands:\n"
          "  run       complete a prompt with a GGUF model (raw text, no chat template)\n"
          "  chat      chat with a model through its chat template (interactive, or --message)\n"
          "  tokenize  print the token ids of a text\n"
          "  template  print the prompt a chat template makes of a conversation\n"
          "  serve     serve the model over an OpenAI-compatible HTTP API (and the chat app)\n"
          "  info      describe a model file\n"
          "  bench     measure prefill and decode speed (prints JSON)\n\n"
          "`hearth COMMAND --help` lists a command's options.\n",
          f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(c, "run") == 0) return cmd_run(argc - 2, argv + 2);
    if (strcmp(c, "tokenize") == 0) return cmd_tokenize(argc - 2, argv + 2);
    if (strcmp(c, "template") == 0) return cmd_template(argc - 2, argv + 2);
    if (strcmp(c, "info") == 0) return cmd_info(argc - 2, argv + 2);
    if (strcmp(c, "bench") == 0) return cmd_bench(argc - 2, argv + 2);
    if (strcmp(c, "chat") == 0) return cmd_chat(argc - 2, argv + 2);
#ifdef HEARTH_NO_SERVE
    if (strcmp(c, "serve") == 0) {
        fprintf(stderr, "hearth: this build has no server (made without libmicrohttpd, as the ARM64 cross build is)\n");
        return 1;
    }
#else
    if (strcmp(c, "serve") == 0) return cmd_serve(argc - 2, argv + 2);
#endif
    fprintf(stderr, "hearth: unknown command \"%s\"\n", c);
    usage(stderr);
    return EXIT_USAGE;
}
