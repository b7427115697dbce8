/* The check a download makes on its first megabytes, before it fetches the
 * rest: hearth refuses a model it cannot run while the user has moved a few
 * megabytes, not gigabytes. It reads the same header and the same type and
 * architecture tables as the loader, so the two cannot disagree. */
#include "model/model.h"

#include "model/ggml_types.h"
#include "model/gguf.h"

hearth_status model_check_header(const void *data, size_t avail, uint64_t file_size, const char *name, bool gpu,
                                 bool *need_more, hearth_error *err) {
    gguf_file *g;
    hearth_status st = gguf_open_prefix(&g, data, avail, file_size, name, need_more, err);
    if (st) return st;
    const arch_desc *d;
    /* Parts 2.. of a split model carry tensors but no architecture. */
    uint32_t split_no = 0;
    if (!gguf_get_u32(g, "split.no", &split_no) || split_no == 0) {
        st = model_arch_of(g, gguf_name(g), &d, err);
        if (!st && gpu) st = model_arch_runs_on(d, true, gguf_name(g), err);
    }
    for (size_t i = 0; i < gguf_tensor_count(g) && !st; i++) {
        const gguf_tensor *t = gguf_tensor_at(g, i);
        if (ggml_type_runs_on(t->type, gpu)) continue;
        char list[160];
        ggml_type_list(gpu, list, sizeof list);
        st = hearth_fail(err, HEARTH_E_UNSUPPORTED, "%s: tensor %s has type %s, which hearth's %s backend cannot run (it runs %s)",
                         gguf_name(g), t->name.data, ggml_type_name(t->type), gpu ? "WebGPU" : "CPU", list);
    }
    gguf_free(g);
    return st;
}
