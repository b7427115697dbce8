/* hearth info: what a model file holds. */
#include <string.h>

#include "cli.h"
#include "model/ggml_types.h"

int cmd_info(int argc, char **argv) {
    const char *model_path = NULL;
    cli_opt opts[] = {
        {"--model", OPT_STRING, &model_path, "F", "GGUF model file"},
        {0},
    };
    cli_command cmd = {"info", "Describes a model: architecture, sizes, tensor types, tokenizer, chat template.",
                       "--model F", opts};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    cli_model m;
    rc = cli_load(&cmd, model_path, 1, 1, &m);
    if (rc >= 0) return rc;
    const gguf_file *g = hearth_engine_gguf(m.engine);
    const model *mod = hearth_engine_model(m.engine);
    const model_hparams *hp = &mod->hp;
    const hearth_tokenizer *tok = hearth_engine_tokenizer(m.engine);
    gguf_str name = {0, ""};
    gguf_get_str(g, "general.name", &name);
    printf("file:          %s (GGUF v%u, %d part%s)\n", gguf_name(g), gguf_version(g), gguf_part_count(g),
           gguf_part_count(g) == 1 ? "" : "s");
    printf("name:          %.*s\n", (int)(name.len > 200 ? 200 : name.len), name.data);
    printf("architecture:  %s\n", hp->arch_name);
    printf("layers:        %d\n", hp->n_layer);
    printf("embedding:     %d\n", hp->n_embd);
    printf("feed-forward:  %d\n", hp->n_ff);
    printf("heads:         %d (kv %d, size %d)\n", hp->n_head, hp->n_head_kv, hp->head_dim);
    printf("rope:          %s, base %g, %d dims%s\n", hp->rope_neox ? "neox" : "normal", hp->rope_base,
           hp->rope_dim, mod->rope_freqs ? ", frequency factors" : mod->rope_long ? ", long/short factors" : "");
    printf("context:       %d (trained)\n", hp->n_ctx_train);
    printf("vocabulary:    %d\n", hp->n_vocab);
    printf("weights:       %.1f MB%s\n", (double)mod->weight_bytes / 1e6,
           mod->output.data == mod->tok_embd.data ? ", output tied to embeddings" : "");
    int counts[GGML_TYPE_COUNT] = {0};
    for (size_t i = 0; i < gguf_tensor_count(g); i++) {
        uint32_t t = gguf_tensor_at(g, i)->type;
        if (t < GGML_TYPE_COUNT) counts[t]++;
    }
    printf("tensor types: ");
    for (int t = 0; t < GGML_TYPE_COUNT; t++)
        if (counts[t]) printf(" %s x%d", ggml_type_name((uint32_t)t), counts[t]);
    printf(" (%zu tensors)\n", gguf_tensor_count(g));
    printf("tokenizer:     %s (pre %s), %d tokens, bos %d, eos %d, add bos %s\n", tokenizer_model_name(tok),
           tokenizer_pre_name(tok), tokenizer_vocab_size(tok), tokenizer_bos(tok), tokenizer_eos(tok),
           tokenizer_add_bos(tok) ? "yes" : "no");
    gguf_str tmpl;
    bool has_template = gguf_get_str(g, "tokenizer.chat_template", &tmpl);
    printf("chat template: %s\n", has_template ? "yes" : "no");
    printf("kernels:       %s\n", hearth_engine_kernels(m.engine));
    cli_unload(&m);
    return 0;
}
