/* hearth serve: the engine and the chat loop behind a local OpenAI-compatible
 * HTTP API (serve.h lists its parts). Runs until SIGINT or SIGTERM, then
 * fails what waits, stops what runs and leaves. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "serve.h"

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Serves until a signal; returns the exit code. */
static int run(const serve_config *cfg, int n_slots, const sigset_t *signals) {
    hearth_error err = {0};
    serve_server *server = NULL;
    if (serve_start(&server, cfg, &err)) {
        fprintf(stderr, "hearth serve: %s\n", err.message);
        return 1;
    }
    const bool v6 = strchr(cfg->host, ':') != NULL;
    fprintf(stderr, "hearth serve: %s on http://%s%s%s:%d/ (%d slot%s%s)\n", cfg->model_id, v6 ? "[" : "", cfg->host,
            v6 ? "]" : "", serve_port(server), n_slots, n_slots == 1 ? "" : "s", cfg->app_dir ? ", the chat app at /" : "");
    int sig = 0;
    sigwait(signals, &sig);
    fprintf(stderr, "hearth serve: stopping (signal %d)\n", sig);
    serve_pool_stop(cfg->pool); /* answers what waits, so that the connections can end */
    serve_stop(server);
    return 0;
}

int cmd_serve(int argc, char **argv) {
    const char *model_path = NULL, *host = "127.0.0.1", *api_key = NULL, *app_dir = NULL;
    int port = 8080, n_ctx = -1, parallel = 1, threads = 0, queue = 16, max_connections = 64;
    int max_body_kib = 1024, max_header_kib = 16;
    cli_opt opts[] = {
        {"--model", OPT_STRING, &model_path, "F", "GGUF model file"},
        {"--host", OPT_STRING, &host, "ADDR", "numeric address to listen on (default 127.0.0.1; others need --api-key)"},
        {"--port", OPT_INT, &port, "N", "port (default 8080; 0: any free port, printed on stderr)"},
        {"--api-key", OPT_STRING, &api_key, "KEY",
         "require \"Authorization: Bearer KEY\" on /v1/ (default: $HEARTH_API_KEY, else none)"},
        {"--parallel", OPT_INT, &parallel, "N", "slots: answers generated at once, each with its own KV cache (default 1)"},
        {"--queue", OPT_INT, &queue, "N", "requests that may wait for a slot; more get 503 (default 16)"},
        {"--ctx", OPT_INT, &n_ctx, "N", "context size of each slot in tokens (default: min(model, 4096))"},
        {"--threads", OPT_INT, &threads, "N", "CPU threads (default: all cores)"},
        {"--app", OPT_STRING, &app_dir, "DIR", "also serve the chat app from DIR (web/app after `make app`) at /"},
        {"--max-body", OPT_INT, &max_body_kib, "KIB", "largest request body in KiB (default 1024; larger: 413)"},
        {"--max-header", OPT_INT, &max_header_kib, "KIB", "room for the request line and headers in KiB (default 16)"},
        {"--max-connections", OPT_INT, &max_connections, "N", "open connections at most (default 64)"},
        {0},
    };
    cli_command cmd = {"serve",
                       "Serves the model over an OpenAI-compatible HTTP API: POST /v1/chat/completions and "
                       "/v1/completions (streaming as Server-Sent Events or whole), GET /v1/models and /health.",
                       "--model F [--host 127.0.0.1] [--port 8080] [--parallel N] [--api-key K] [--app DIR] [options]",
                       opts};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!api_key) api_key = getenv("HEARTH_API_KEY");
    if (api_key && !*api_key) api_key = NULL;
    if (port < 0 || port > 65535) return cli_usage_error(&cmd, "--port must be from 0 to 65535");
    if (parallel < 1 || parallel > 64) return cli_usage_error(&cmd, "--parallel must be from 1 to 64");
    if (queue < 0 || queue > 4096) return cli_usage_error(&cmd, "--queue must be from 0 to 4096");
    if (max_body_kib < 1 || max_body_kib > 256 * 1024) return cli_usage_error(&cmd, "--max-body must be from 1 to 262144 KiB");
    if (max_header_kib < 4 || max_header_kib > 1024) return cli_usage_error(&cmd, "--max-header must be from 4 to 1024 KiB");
    if (max_connections < 1 || max_connections > 4096)
        return cli_usage_error(&cmd, "--max-connections must be from 1 to 4096");
    if (!serve_address_is_loopback(host) && !api_key)
        return cli_usage_error(&cmd, "--host %s is reachable from other machines: give --api-key KEY (or "
                                     "$HEARTH_API_KEY) so that only those who have it can use the model",
                               host);
    /* Every thread started from here on (the host's pool included) leaves these signals to sigwait in run(). */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    cli_model m;
    if ((rc = cli_load(&cmd, model_path, threads, n_ctx, &m)) >= 0) return rc;

    hearth_error err = {0};
    serve_pool *pool = NULL;
    if (serve_pool_create(&pool, m.engine, parallel, queue, &err)) {
        fprintf(stderr, "hearth serve: %s\n", err.message);
        cli_unload(&m);
        return 1;
    }
    serve_config cfg = {
        .host = host,
        .port = port,
        .api_key = api_key,
        .max_body = (size_t)max_body_kib * 1024,
        .max_header = (size_t)max_header_kib * 1024,
        .max_connections = max_connections,
        .app_dir = app_dir,
        .model_id = base_name(model_path),
        .created = (long)time(NULL),
        .pool = pool,
    };
    rc = run(&cfg, parallel, &signals);
    serve_pool_free(pool);
    cli_unload(&m);
    return rc;
}
