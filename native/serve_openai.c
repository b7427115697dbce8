/* The JSON that hearth serve answers with, in the shapes OpenAI's API and
 * its clients use: chat.completion(.chunk), text_completion, usage, errors. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "serve.h"

bool serve_text_open(serve_text *t) {
    t->p = NULL;
    t->len = 0;
    t->f = open_memstream(&t->p, &t->len);
    return t->f != NULL;
}

bool serve_text_close(serve_text *t) {
    bool ok = !ferror(t->f);
    if (fclose(t->f) != 0) ok = false;
    t->f = NULL;
    if (!ok) {
        free(t->p);
        t->p = NULL;
        t->len = 0;
    }
    return ok;
}

const char *serve_finish_reason(const hearth_chat_stats *s) {
    if (s->tool_calls > 0) return "tool_calls";
    return s->stop && (strcmp(s->stop, "length") == 0 || strcmp(s->stop, "context") == 0) ? "length" : "stop";
}

void serve_failure_kind(const serve_job *j, unsigned *status, const char **type, const char **code) {
    switch (j->failure) {
    case SERVE_FAIL_REQUEST:
        *status = 400;
        *type = "invalid_request_error";
        *code = j->status == HEARTH_E_CONTEXT ? "context_length_exceeded" : "invalid_request";
        return;
    case SERVE_FAIL_UNAVAILABLE:
        *status = 503;
        *type = "server_error";
        *code = "unavailable";
        return;
    default:
        *status = 500;
        *type = "server_error";
        *code = "internal_error";
    }
}

static void str(FILE *f, const char *s) { json_string(f, s, strlen(s)); }

/* ,"logprobs":… of the entries (each followed by a comma; NULL: none asked for) */
static void logprobs_field(FILE *f, const char *entries, size_t len) {
    if (!entries) {
        fputs(",\"logprobs\":null", f);
        return;
    }
    fputs(",\"logprobs\":{\"content\":[", f);
    if (len) fwrite(entries, 1, len - 1, f);
    fputs("]}", f);
}

static void head(FILE *f, const serve_answer_head *h, const char *object) {
    fputs("{\"id\":", f);
    str(f, h->id);
    fprintf(f, ",\"object\":\"%s\",\"created\":%ld,\"model\":", object, h->created);
    str(f, h->model);
}

void serve_json_usage(FILE *f, const hearth_chat_stats *s) {
    fprintf(f, "{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d,"
               "\"prompt_tokens_details\":{\"cached_tokens\":%d}}",
            s->prompt_tokens, s->gen_tokens, s->prompt_tokens + s->gen_tokens, s->reused_tokens);
}

/* ,"timings":{…}: the engine's own clock, in llama-server's names (not OpenAI's API; clients ignore it). */
static void timings(FILE *f, const hearth_chat_stats *s) {
    int decoded = s->gen_tokens > 1 ? s->gen_tokens - 1 : 0; /* the first token comes from the prefill */
    fprintf(f, ",\"timings\":{\"cache_n\":%d,\"prompt_n\":%d,\"prompt_ms\":%.2f,\"predicted_n\":%d,"
               "\"predicted_ms\":%.2f,\"predicted_per_second\":%.2f}",
            s->reused_tokens, s->evaluated_tokens, s->prefill_ms, decoded, s->decode_ms,
            s->decode_ms > 0 ? decoded * 1e3 / s->decode_ms : 0);
}

void serve_json_answer(FILE *f, const serve_answer_head *h, const serve_job *j) {
    const char *text = j->content.p ? j->content.p : "";
    head(f, h, h->raw ? "text_completion" : "chat.completion");
    fputs(",\"choices\":[{\"index\":0,", f);
    if (h->raw) {
        fputs("\"text\":", f);
        json_string(f, text, j->content.len);
        fputs(",\"logprobs\":null", f);
    } else {
        fputs("\"message\":{\"role\":\"assistant\",\"content\":", f);
        json_string(f, text, j->content.len);
        if (j->reasoning.len) {
            fputs(",\"reasoning_content\":", f);
            json_string(f, j->reasoning.p, j->reasoning.len);
        }
        if (j->tool_calls) fprintf(f, ",\"tool_calls\":%s", j->tool_calls);
        fputs("}", f);
        logprobs_field(f, j->top_logprobs < 0 ? NULL : j->logprobs.p ? j->logprobs.p : "", j->logprobs.len);
    }
    fprintf(f, ",\"finish_reason\":\"%s\"}],\"usage\":", serve_finish_reason(&j->stats));
    serve_json_usage(f, &j->stats);
    timings(f, &j->stats);
    fputs("}", f);
}

void serve_json_chunk(FILE *f, const serve_answer_head *h, const char *text, size_t len, const char *reasoning,
                      size_t rlen, const char *finish_reason, bool role, const char *logprobs, size_t lplen,
                      const char *calls, size_t clen) {
    head(f, h, h->raw ? "text_completion" : "chat.completion.chunk");
    fputs(",\"choices\":[{\"index\":0,", f);
    if (h->raw) {
        fputs("\"text\":", f);
        json_string(f, text, len);
        fputs(",\"logprobs\":null", f);
    } else {
        fputs("\"delta\":{", f);
        const char *sep = "";
        if (role) fputs("\"role\":\"assistant\"", f), sep = ",";
        if (len || role) fprintf(f, "%s\"content\":", sep), json_string(f, text, len), sep = ",";
        if (rlen) fprintf(f, "%s\"reasoning_content\":", sep), json_string(f, reasoning, rlen), sep = ",";
        if (clen) fprintf(f, "%s\"tool_calls\":[", sep), fwrite(calls, 1, clen - 1, f), fputs("]", f);
        fputs("}", f);
        logprobs_field(f, logprobs, lplen);
    }
    if (finish_reason) fprintf(f, ",\"finish_reason\":\"%s\"}]}", finish_reason);
    else fputs(",\"finish_reason\":null}]}", f);
}

void serve_json_usage_chunk(FILE *f, const serve_answer_head *h, const hearth_chat_stats *s) {
    head(f, h, h->raw ? "text_completion" : "chat.completion.chunk");
    fputs(",\"choices\":[],\"usage\":", f);
    serve_json_usage(f, s);
    timings(f, s);
    fputs("}", f);
}

void serve_json_error(FILE *f, const char *message, const char *type, const char *code) {
    fputs("{\"error\":{\"message\":", f);
    str(f, message);
    fputs(",\"type\":", f);
    str(f, type);
    fputs(",\"param\":null,\"code\":", f);
    str(f, code);
    fputs("}}", f);
}
