/* What a request to hearth serve may be, decided without the network: the
 * body of a completion request (through the one request parser,
 * chat_request.c, plus the fields that only the HTTP API has) and the Host
 * header. Kept apart from libmicrohttpd so that tests/fuzz/fuzz_serve.c can
 * feed it any bytes. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "serve.h"

/* Whether a member is absent, null, false, 0 or []: the only values that
 * the request may give fields hearth serve does not do. */
static bool off(const json_value *root, const char *key) {
    const json_value *v = json_get(root, key);
    return !v || v->type == JSON_NULL || (v->type == JSON_BOOL && !v->b) || (v->type == JSON_NUMBER && v->num == 0) ||
           (v->type == JSON_ARRAY && v->n == 0);
}

/* Fields of OpenAI's requests that chat_request.c does not read: the ones
 * that change the answer's form are checked here; what hearth cannot do is
 * refused in a 400 rather than silently ignored. Returns an error message or NULL. */
static const char *check_fields(const json_value *root, bool raw, serve_form *form) {
    const json_value *v = json_get(root, "stream");
    if (v && v->type != JSON_NULL && v->type != JSON_BOOL) return "\"stream\" must be true or false";
    form->stream = v && v->type == JSON_BOOL && v->b;
    const json_value *so = json_get(root, "stream_options");
    if (so && so->type != JSON_NULL && so->type != JSON_OBJECT) return "\"stream_options\" must be an object";
    const json_value *iu = json_get(so, "include_usage");
    if (iu && iu->type != JSON_NULL && iu->type != JSON_BOOL) return "\"stream_options.include_usage\" must be true or false";
    form->include_usage = iu && iu->type == JSON_BOOL && iu->b;
    const json_value *n = json_get(root, "n");
    if (n && n->type != JSON_NULL && !(n->type == JSON_NUMBER && n->num == 1))
        return "\"n\": hearth serve gives one choice per request (n = 1)";
    const json_value *model_name = json_get(root, "model");
    if (model_name && model_name->type != JSON_NULL && model_name->type != JSON_STRING) return "\"model\" must be a string";
    const json_value *lp = json_get(root, "logprobs"), *top = json_get(root, "top_logprobs");
    if (raw && (!off(root, "logprobs") || !off(root, "top_logprobs")))
        return "\"logprobs\" on /v1/completions (the legacy shape) is not supported by hearth serve; "
               "/v1/chat/completions has it";
    if (lp && lp->type != JSON_NULL && lp->type != JSON_BOOL) return "\"logprobs\" must be true or false";
    if (top && top->type != JSON_NULL && !(top->type == JSON_NUMBER && top->is_int && top->i >= 0 && top->i <= 20))
        return "\"top_logprobs\" must be an integer from 0 to 20";
    form->top_logprobs = lp && lp->type == JSON_BOOL && lp->b ? (top && top->type == JSON_NUMBER ? (int)top->i : 0) : -1;
    if (form->top_logprobs < 0 && top && top->type == JSON_NUMBER) return "\"top_logprobs\" needs \"logprobs\": true";
    /* (tools, tool_choice, response_format and grammar are chat_request.c's) */
    if (!off(root, "functions") || !off(root, "function_call"))
        return "\"functions\" (OpenAI's deprecated form) is not supported: give \"tools\"";
    if (raw && (!off(root, "tools") || !off(root, "tool_choice")))
        return "\"tools\" on /v1/completions (the legacy shape) is not supported; /v1/chat/completions has them";
    if (raw && !off(root, "echo")) return "\"echo\" is not supported by hearth serve";
    if (raw && !off(root, "suffix")) return "\"suffix\" is not supported by hearth serve";
    if (raw && !off(root, "best_of") && !(json_get(root, "best_of")->type == JSON_NUMBER &&
                                          json_get(root, "best_of")->num == 1))
        return "\"best_of\" must be 1";
    return NULL;
}

hearth_status serve_parse_request(const char *body, size_t len, bool raw, chat_request *req, serve_form *form,
                                  hearth_error *err) {
    *form = (serve_form){.top_logprobs = -1};
    hearth_status st = chat_request_parse(req, body, len, err);
    if (st) {
        chat_request_free(req);
        return st;
    }
    const char *problem = check_fields(req->json, raw, form);
    if (!problem && raw && !req->prompt) problem = "/v1/completions needs \"prompt\" (a string)";
    if (!problem && raw && req->messages)
        problem = "/v1/completions takes \"prompt\", not \"messages\" (see /v1/chat/completions)";
    if (!problem && !raw && !req->messages) problem = "/v1/chat/completions needs \"messages\"";
    if (!problem && !raw && req->prompt)
        problem = "/v1/chat/completions takes \"messages\", not \"prompt\" (see /v1/completions)";
    if (!problem) return HEARTH_OK;
    chat_request_free(req);
    return hearth_fail(err, HEARTH_E_ARG, "%s", problem);
}

/* The Host header names this machine (a loopback address or localhost),
 * so that a web page whose name was rebound to 127.0.0.1 cannot talk to
 * the server through the user's browser. */
bool serve_host_is_local(const char *host) {
    if (!host) return true; /* HTTP/1.0 without Host */
    size_t n = strlen(host);
    const char *colon = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
    if (host[0] == '[') {
        if (!colon) return false;
        return (size_t)(colon - host) == 4 && strncmp(host, "[::1", 4) == 0;
    }
    size_t name = colon ? (size_t)(colon - host) : n;
    if (name == 9 && strncasecmp(host, "localhost", 9) == 0) return true;
    char ip[16];
    if (name >= sizeof ip) return false;
    memcpy(ip, host, name);
    ip[name] = 0;
    struct in_addr a;
    return inet_pton(AF_INET, ip, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool serve_address_is_loopback(const char *host) {
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}
