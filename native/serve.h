/* hearth serve: an OpenAI-compatible HTTP server on the engine and the chat
 * loop (docs in README, "hearth serve"). Its parts, one job each:
 *   cmd_serve.c     flags, loading, start and orderly stop
 *   serve_http.c    libmicrohttpd glue: limits, API key, Host check, bodies, responses
 *   serve_routes.c  what each path does
 *   serve_request.c what a request may be (its body, its Host), apart from the network
 *   serve_openai.c  the JSON shapes of answers, chunks and errors
 *   serve_stream.c  answers as Server-Sent Events
 *   serve_slots.c   the slots (one chat and KV cache each), the bounded queue, the worker
 *   serve_logprobs.c  the tokens' log-probabilities (logprobs, top_logprobs)
 *   serve_app.c     the chat app's files, with the headers the app needs */
#ifndef HEARTH_SERVE_H
#define HEARTH_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <microhttpd.h>

#include "chat.h"
#include "chat_request.h"
#include "engine.h"
#include "think.h"
#include "tokenizer/tokenizer.h"

/* ---- slots and queue (serve_slots.c) ---- */

typedef struct serve_pool serve_pool;

/* How a job failed: the request's fault (the template refused it, it does not
 * fit the context), the server's, or the server is going away. */
typedef enum { SERVE_FAIL_NONE, SERVE_FAIL_REQUEST, SERVE_FAIL_SERVER, SERVE_FAIL_UNAVAILABLE } serve_failure;

/* One request's generation, shared by its HTTP connection and the worker;
 * freed when both have released it. */
typedef struct serve_job {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* signalled on new text, start and finish */
    int refs;               /* under lock */
    chat_request req;       /* owned; read by the worker only once submitted */
    bool raw;               /* /v1/completions: the prompt as is, no template */
    char *fingerprint;      /* the conversation as text, to find the slot whose cache serves it best */
    atomic_bool cancelled;  /* the client went away: stop at the next token */
    atomic_int client_fd;   /* its socket, which the worker also watches before each token; -1 once gone */
    struct serve_job *next_queued;
    unsigned long number;   /* the pool's count when it was queued (its response id; not its address) */
    /* under lock: */
    bool started;           /* begun on a slot (or failed before) */
    bool finished;
    think_buf content, reasoning; /* the answer so far */
    think_buf tool_deltas;  /* its tool calls so far, as delta.tool_calls entries (each with its index, then a comma) */
    char *tool_calls;       /* when finished: message.tool_calls (JSON), or NULL for none */
    int top_logprobs;       /* -1: no log-probabilities */
    think_buf logprobs;     /* with them: one JSON object per token, each followed by a comma */
    serve_failure failure;  /* why it failed, if it did */
    hearth_status status;   /* the failure's status and message */
    char error[512];
    hearth_chat_stats stats; /* when finished */
} serve_job;

/* A job for the request (taken over: *req is cleared); NULL when out of memory.
 * top_logprobs: as serve_form's. */
serve_job *serve_job_create(chat_request *req, bool raw, int top_logprobs);
void serve_job_release(serve_job *j);

typedef enum { SERVE_QUEUED, SERVE_QUEUE_FULL, SERVE_STOPPING } serve_submit_result;

/* n_slots engines sharing base's weights, a queue of queue_cap waiting jobs,
 * and the worker thread that runs the slots' generations in rounds, a token
 * each, their decode steps batched (one pass of the weights per round). The
 * engines defer their decode steps while the pool has them (base's too,
 * until serve_pool_free). */
hearth_status serve_pool_create(serve_pool **out, hearth_engine *base, int n_slots, int queue_cap,
                                hearth_error *err);
/* Queues the job (the pool takes a reference). */
serve_submit_result serve_pool_submit(serve_pool *p, serve_job *j);
/* Wakes the worker to see a cancelled job now rather than at its next token. */
void serve_pool_poke(serve_pool *p);
typedef struct {
    int slots, busy, queued, queue_cap;
    unsigned long served, cancelled;
    /* passes of batched decode steps run, and their tokens (rows / batches: the mean batch) */
    unsigned long decode_batches, decode_rows;
} serve_pool_state;
void serve_pool_state_of(serve_pool *p, serve_pool_state *s);
/* Stops taking jobs, fails those queued, interrupts those running, joins the worker. */
void serve_pool_stop(serve_pool *p);
void serve_pool_free(serve_pool *p);

/* ---- what a request may be (serve_request.c) ---- */

/* The form of an answer, from the fields only the HTTP API has. */
typedef struct {
    bool stream, include_usage;
    int top_logprobs;       /* log-probabilities of each token and this many alternatives; -1: none */
} serve_form;

/* A completion request's body: *req (chat_request_free it) and the answer's
 * form; on failure nothing to free and a message for a 400. raw: /v1/completions. */
hearth_status serve_parse_request(const char *body, size_t len, bool raw, chat_request *req, serve_form *form,
                                  hearth_error *err);
/* Whether a Host header names this machine (a loopback address or localhost). */
bool serve_host_is_local(const char *host);
/* Whether host (numeric) is a loopback address: any other needs an API key. */
bool serve_address_is_loopback(const char *host);

/* ---- log-probabilities (serve_logprobs.c) ---- */

/* Appends OpenAI's {"token","logprob","bytes","top_logprobs"} of the token
 * (from the logits it was sampled from) and a comma; false when out of memory. */
bool serve_logprob_entry(think_buf *out, const hearth_tokenizer *tok, const float *logits, int n_vocab, int32_t token,
                         int top);

/* ---- the server (serve_http.c) ---- */

typedef struct {
    const char *host;       /* numeric address to bind */
    int port;               /* 0: any free port */
    const char *api_key;    /* NULL: none (loopback only) */
    size_t max_body;        /* request body cap, bytes */
    size_t max_header;      /* request line and headers cap, bytes */
    int max_connections;
    const char *app_dir;    /* NULL: no app */
    const char *model_id;   /* what /v1/models calls the model */
    long created;           /* when the model was loaded (Unix seconds) */
    serve_pool *pool;
} serve_config;

typedef struct serve_server serve_server;

hearth_status serve_start(serve_server **out, const serve_config *cfg, hearth_error *err);
int serve_port(const serve_server *s);
void serve_stop(serve_server *s);

/* ---- inside the server: one request ---- */

typedef struct {
    struct MHD_Connection *conn;
    const serve_config *cfg;
    int fd;                 /* the client's socket, to notice it hang up */
    const char *method, *path;
    const char *body;
    size_t body_len;
} serve_request;

/* Routes (serve_routes.c): answers the request (MHD_NO: drop the connection). */
enum MHD_Result serve_route(serve_request *r);

/* Queues a response (serve_http.c); takes the response over. */
enum MHD_Result serve_respond(serve_request *r, unsigned status, struct MHD_Response *resp);
/* A JSON body (malloc'ed, taken over). */
enum MHD_Result serve_respond_json(serve_request *r, unsigned status, char *json, size_t len);
/* OpenAI's error shape: {"error":{"message","type","code"}}. */
enum MHD_Result serve_respond_error(serve_request *r, unsigned status, const char *type, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* Whether the client on fd closed its side (a pipelined next request is not that; fd < 0: no). */
bool serve_client_gone(int fd);
/* Waits until ready(j, arg) holds (evaluated under j's lock), watching the
 * client: false when it hung up, after marking the job cancelled. */
typedef bool (*serve_ready_fn)(const serve_job *j, const void *arg);
bool serve_wait(const serve_request *r, serve_job *j, serve_ready_fn ready, const void *arg);

/* The chat app's files (serve_app.c): whether the path is one (then *res is the answer). */
bool serve_app(serve_request *r, enum MHD_Result *res);

/* ---- the JSON of answers (serve_openai.c) ---- */

/* A growing text (open_memstream). */
typedef struct {
    FILE *f;
    char *p;
    size_t len;
} serve_text;
bool serve_text_open(serve_text *t);
/* Closes the stream; t->p (malloc'ed) and t->len hold the text, or NULL when out of memory. */
bool serve_text_close(serve_text *t);

typedef struct {
    const char *id;         /* "chatcmpl-…" / "cmpl-…" */
    const char *model;
    long created;
    bool raw;               /* text_completion rather than chat.completion */
} serve_answer_head;

/* The whole answer. */
void serve_json_answer(FILE *f, const serve_answer_head *h, const serve_job *j);
/* One streamed chunk: text and reasoning (either may be empty), finish_reason (NULL while going on),
 * role: the first chat chunk names the assistant; logprobs: serve_job's entries for it (NULL: none asked);
 * calls: serve_job's tool_deltas entries for it (clen 0: none). */
void serve_json_chunk(FILE *f, const serve_answer_head *h, const char *text, size_t len, const char *reasoning,
                      size_t rlen, const char *finish_reason, bool role, const char *logprobs, size_t lplen,
                      const char *calls, size_t clen);
/* The last chunk when stream_options.include_usage asks for it. */
void serve_json_usage_chunk(FILE *f, const serve_answer_head *h, const hearth_chat_stats *s);
void serve_json_usage(FILE *f, const hearth_chat_stats *s);
void serve_json_error(FILE *f, const char *message, const char *type, const char *code);
/* OpenAI's finish_reason for the chat loop's stop ("tool_calls" where the answer made calls). */
const char *serve_finish_reason(const hearth_chat_stats *s);
/* The HTTP status, error type and code of a failed job. */
void serve_failure_kind(const serve_job *j, unsigned *status, const char **type, const char **code);

/* Streams the job's answer as Server-Sent Events (serve_stream.c). */
enum MHD_Result serve_stream(serve_request *r, serve_job *j, const serve_answer_head *h, bool include_usage);

#endif
