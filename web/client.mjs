// The client API: an OpenAI-shaped engine over a dedicated worker
// (web/engine_worker.mjs), the same in a page and in Node (worker_threads).
//
//   const engine = await createEngine({ model: url | urls | File | path, backend: 'auto', onProgress });
//   for await (const c of await engine.chat.completions.create({ messages, stream: true }))
//     out += c.choices[0].delta.content ?? '';
//
// Also the model store's page-side functions and the error classes. Types:
// web/client.d.ts; protocol and behaviour: docs/runtime.md.
import { AbortError, deserializeError, EngineError, GenerationError } from './errors.mjs';
import { isSha256 } from './hf.mjs';
import { beside, locatedFiles, moduleWorker, nodeImport } from './locate.mjs';

export * from './errors.mjs';
export { deleteCachedModel, listCachedModels, requestPersistentStorage, storageEstimate } from './store.mjs';

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

// The message port of a new engine worker: {post, terminate} plus onmessage/onerror set by the caller.
// files: where locateFile put the engine's files (web/locate.mjs).
async function spawnWorker(onMessage, onFailure, files) {
  if (isNode) {
    const { Worker } = await nodeImport('node:worker_threads');
    const w = new Worker(files['engine_worker.mjs'] ? new URL(files['engine_worker.mjs']) : beside('./engine_worker.mjs'));
    w.on('message', onMessage);
    w.on('error', (e) => onFailure(e?.message || String(e)));
    w.on('exit', (code) => onFailure(`the engine worker exited (code ${code})`));
    // busy(false) lets Node exit while the engine idles (no unload() needed to end a script).
    return { post: (m) => w.postMessage(m), terminate: () => w.terminate(), busy: (b) => (b ? w.ref() : w.unref()) };
  }
  // In place, so that bundlers find the worker (web/locate.mjs).
  const w = files['engine_worker.mjs'] ? moduleWorker(files['engine_worker.mjs'], 'hearth-engine')
    : new Worker(new URL('./engine_worker.mjs', import.meta.url), { type: 'module', name: 'hearth-engine' });
  w.onmessage = (e) => onMessage(e.data);
  w.onerror = (e) => { e.preventDefault?.(); onFailure(e.message || 'the engine worker failed to start (see the console)'); };
  w.onmessageerror = () => onFailure('a message from the engine worker could not be read');
  return { post: (m) => w.postMessage(m), terminate: () => w.terminate(), busy: () => {} };
}

// What the worker gets as `model`.
async function modelSpec(model) {
  const isBlob = (x) => typeof Blob !== 'undefined' && x instanceof Blob;
  if (isBlob(model)) return { kind: 'files', files: [model] };
  if (Array.isArray(model) && model.length && model.every(isBlob)) {
    return { kind: 'files', files: [...model].sort((a, b) => String(a.name).localeCompare(String(b.name))) };
  }
  // A URL may come as {url, sha256, size}: the bytes must hash to sha256 (hex) and be size long.
  const list = (Array.isArray(model) ? model : [model]).map((x) => (x && typeof x === 'object' && 'url' in x ? x : { url: x }));
  if (!list.length || !list.every((x) => typeof x.url === 'string' || x.url instanceof URL)) {
    throw new EngineError('model: give a URL, an array of URLs (split model), a File, or (Node) a file path');
  }
  for (const x of list) {
    if (x.sha256 != null && !isSha256(String(x.sha256).toLowerCase())) {
      throw new EngineError(`model: sha256 must be 64 hexadecimal digits (got ${JSON.stringify(String(x.sha256)).slice(0, 80)})`);
    }
    if (x.size != null && !(Number.isSafeInteger(x.size) && x.size > 0)) {
      throw new EngineError(`model: size must be a positive whole number of bytes (got ${JSON.stringify(x.size)})`);
    }
  }
  const strs = list.map((x) => String(x.url));
  if (isNode && !/^https?:/i.test(strs[0])) {
    const path = await nodeImport('node:path');
    const { fileURLToPath } = await nodeImport('node:url');
    const p = strs[0].startsWith('file:') ? fileURLToPath(strs[0]) : path.resolve(strs[0]);
    return { kind: 'path', path: p };
  }
  const base = globalThis.location?.href;
  const expect = list.map((x) => (x.sha256 || x.size ? { sha256: x.sha256 ? String(x.sha256).toLowerCase() : null, size: x.size ?? null } : null));
  return { kind: 'url', urls: strs.map((s) => new URL(s, base).href), ...(expect.some(Boolean) ? { expect } : {}) };
}

const NUMBERS = {
  max_tokens: [1, Infinity, true], temperature: [0, 100], top_p: [0, 1], top_k: [0, 1e9, true], min_p: [0, 1],
  repeat_penalty: [0, 100], seed: [0, Number.MAX_SAFE_INTEGER, true],
};

function textOf(content, where) {
  if (typeof content === 'string') return content;
  // OpenAI content parts: [{type: 'text', text}]
  if (Array.isArray(content) && content.every((p) => p?.type === 'text' && typeof p.text === 'string')) return content.map((p) => p.text).join('');
  if (content == null) return '';
  throw new GenerationError(`${where}.content must be a string or an array of {type: 'text', text} parts`);
}

// Checks request fields here, so mistakes fail at the call with a clear message.
function requestParams(kind, p) {
  if (!p || typeof p !== 'object') throw new GenerationError('create() takes an object of request fields');
  const out = {};
  for (const [k, [lo, hi, int]] of Object.entries(NUMBERS)) {
    const v = p[k];
    if (v == null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v))) {
      throw new GenerationError(`${k} must be ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}], not ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  if (p.stop != null) {
    const stop = Array.isArray(p.stop) ? p.stop : [p.stop];
    if (!stop.every((s) => typeof s === 'string' && s.length)) throw new GenerationError('stop must be a non-empty string or an array of them');
    out.stop = stop;
  }
  // Constrained output; the core checks the schema and the grammar (src/chat_request.c).
  if (p.response_format != null) {
    const rf = p.response_format;
    if (typeof rf !== 'object' || typeof rf.type !== 'string') throw new GenerationError("response_format must be {type: 'text' | 'json_object' | 'json_schema', json_schema?}");
    out.response_format = rf;
  }
  if (p.grammar != null) {
    if (typeof p.grammar !== 'string') throw new GenerationError('grammar must be GBNF text');
    out.grammar = p.grammar;
  }
  if (kind === 'chat') {
    if (!Array.isArray(p.messages) || !p.messages.length) throw new GenerationError('messages must be a non-empty array of {role, content}');
    out.messages = p.messages.map((m, i) => {
      if (!m || typeof m.role !== 'string') throw new GenerationError(`messages[${i}].role must be a string`);
      const msg = { role: m.role, content: textOf(m.content, `messages[${i}]`) };
      // Tool calling: an assistant's calls, a tool result's id and name (the template renders them).
      if (m.tool_calls != null) {
        if (!Array.isArray(m.tool_calls)) throw new GenerationError(`messages[${i}].tool_calls must be an array`);
        msg.tool_calls = m.tool_calls;
      }
      if (m.tool_call_id != null) msg.tool_call_id = String(m.tool_call_id);
      if (m.name != null) msg.name = String(m.name);
      // An earlier answer's reasoning, as a response gave it: the template decides what to keep.
      if (m.reasoning_content != null) {
        if (typeof m.reasoning_content !== 'string') throw new GenerationError(`messages[${i}].reasoning_content must be a string`);
        msg.reasoning_content = m.reasoning_content;
      }
      return msg;
    });
    // Template variables (llama-server's and vLLM's chat_template_kwargs); enable_thinking is
    // the shortcut for Qwen3's switch. The core checks that the two agree (src/chat_request.c).
    if (p.chat_template_kwargs != null) {
      const kw = p.chat_template_kwargs;
      if (typeof kw !== 'object' || Array.isArray(kw)) throw new GenerationError('chat_template_kwargs must be an object of template variables, e.g. {enable_thinking: false}');
      out.chat_template_kwargs = kw;
    }
    if (p.tools != null) {
      if (!Array.isArray(p.tools) || !p.tools.every((t) => typeof t?.function?.name === 'string')) {
        throw new GenerationError("tools must be an array of {type: 'function', function: {name, description?, parameters?}}");
      }
      out.tools = p.tools;
    }
    if (p.tool_choice != null) out.tool_choice = p.tool_choice;
    if (p.enable_thinking != null) {
      if (typeof p.enable_thinking !== 'boolean') throw new GenerationError(`enable_thinking must be true or false, not ${JSON.stringify(p.enable_thinking)}`);
      out.enable_thinking = p.enable_thinking;
    }
  } else {
    if (typeof p.prompt !== 'string') throw new GenerationError('prompt must be a string');
    out.prompt = p.prompt;
  }
  return out;
}

const randomId = () => Math.random().toString(36).slice(2, 14);

class Engine {
  #port; #pending = new Map(); #next = 1; #dead = null; #info;
  #terminated = false;
  #files = {}; // where locateFile put the engine's files
  #streams = new Set(); // ids of streams not finished: unload() aborts them

  constructor(port, info) { this.#port = port; this.#info = info; }

  // Called by createEngine with the worker's messages.
  static async start(opts) {
    let files;
    try { files = locatedFiles(opts.locateFile); } catch (e) { throw new EngineError(e.message); }
    let engine = null;
    const early = [];
    let ready;
    const readyP = new Promise((r) => { ready = r; });
    const port = await spawnWorker((m) => {
      if (m?.type === 'ready') return ready();
      if (engine) engine.#receive(m); else early.push(m);
    }, (why) => { if (engine) engine.#fail(why); else early.push({ type: 'fatal', why }); ready(); }, files);
    engine = new Engine(port, null);
    engine.#files = files;
    for (const m of early.splice(0)) if (m.type === 'fatal') engine.#fail(m.why); else engine.#receive(m);
    await readyP;
    return engine;
  }

  #receive(m) {
    const req = this.#pending.get(m?.id);
    if (!req) return;
    if (m.type === 'done' || m.type === 'error') {
      this.#pending.delete(m.id);
      if (!this.#pending.size) this.#port.busy(false);
    }
    req(m);
  }

  #fail(why) {
    this.#dead ??= new EngineError(why);
    for (const [id, req] of this.#pending) { this.#pending.delete(id); req({ type: 'error', error: { name: 'EngineError', message: why } }); }
  }

  // Sends an op; handler(msg) sees every reply; returns the request id.
  #send(op, fields, handler) {
    if (this.#dead) throw this.#dead;
    const id = this.#next++;
    this.#pending.set(id, handler);
    this.#port.busy(true);
    this.#port.post({ id, op, ...fields });
    return id;
  }

  #call(op, fields = {}, { onProgress, signal, onLog } = {}) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError(`${op} aborted`));
      const onAbort = () => this.#port.post({ op: 'abort', target: id });
      const id = this.#send(op, fields, (m) => {
        if (m.type === 'progress') onProgress?.(m.progress);
        else if (m.type === 'log') onLog?.(m.level, m.message);
        else if (m.type === 'done' || m.type === 'error') {
          signal?.removeEventListener('abort', onAbort);
          if (m.type === 'done') resolve(m.result); else reject(deserializeError(m.error));
        }
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async load(opts) {
    const { model, backend = 'auto', threads, contextSize, onProgress, onLog, signal, storage, exactNumerics } = opts;
    const spec = await modelSpec(model);
    this.#info = await this.#call('load', { model: spec, backend, threads, contextSize, storage, exactNumerics: !!exactNumerics, files: this.#files }, { onProgress, signal, onLog });
    return this;
  }

  // {model: {id, name, architecture, ...}, backend, backendNote, threads, threadsNote, kernels, contextSize, loadMs}
  get info() { return this.#info; }

  chat = { completions: { create: (p) => this.#generate('chat', p) } };
  completions = { create: (p) => this.#generate('complete', p) };

  async #generate(kind, p) {
    const params = requestParams(kind, p);
    const signal = p.signal;
    if (signal?.aborted) throw new AbortError('the request was aborted before it started');
    const meta = {
      id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomId()}`, created: Math.floor(Date.now() / 1000),
      model: this.#info?.model?.name || this.#info?.model?.id || 'hearth',
    };
    if (!p.stream) return shapeFinal(kind, meta, await this.#call(kind, { params, stream: false }, { signal }));
    return this.#stream(kind, meta, params, signal);
  }

  // An async iterable of chunks; breaking out of the loop stops the generation.
  #stream(kind, meta, params, signal) {
    const queue = [];
    let wake = null;
    const id = this.#send(kind, { params, stream: true }, (m) => { queue.push(m); wake?.(); });
    const port = this.#port, streams = this.#streams;
    const abort = () => port.post({ op: 'abort', target: id });
    signal?.addEventListener('abort', abort, { once: true });
    streams.add(id);
    let finished = false;
    return {
      async *[Symbol.asyncIterator]() {
        let first = true, taken = 0;
        try {
          for (;;) {
            while (!queue.length) await new Promise((r) => { wake = r; });
            wake = null;
            const m = queue.shift();
            if (m.type === 'delta' && !m.text && !m.reasoning && !m.toolCalls?.length) {
              port.post({ op: 'ack', target: id, taken: ++taken }); // a token with no complete character yet
            } else if (m.type === 'delta') {
              // reasoning_content: a reasoning model's thinking, apart from the answer (as llama-server, vLLM, DeepSeek)
              const delta = first ? { role: 'assistant' } : {};
              if (m.reasoning) delta.reasoning_content = m.reasoning;
              if (m.text) delta.content = m.text;
              // A call comes whole in one chunk, with its index among the answer's calls (src/chat.h).
              if (m.toolCalls?.length) delta.tool_calls = m.toolCalls;
              yield shapeChunk(kind, meta, delta, null);
              first = false;
              // The consumer took it: the worker may run one more token ahead (engine_worker.mjs).
              port.post({ op: 'ack', target: id, taken: ++taken });
            } else if (m.type === 'error') {
              finished = true;
              throw deserializeError(m.error);
            } else if (m.type === 'done') {
              finished = true;
              const last = shapeChunk(kind, meta, first ? { role: 'assistant' } : {}, m.result.finishReason);
              yield { ...last, usage: m.result.usage, hearth: { stop: m.result.stop, timings: m.result.timings } };
              return;
            }
          }
        } finally {
          signal?.removeEventListener('abort', abort);
          streams.delete(id);
          if (!finished) abort(); // the consumer stopped early
        }
      },
    };
  }

  // Token ids of text (no BOS); special: parse special-token text such as <|im_end|>.
  tokenize(text, { special = false } = {}) { return this.#call('tokenize', { text, special }); }

  // Backend, threads, model and the latest generation's numbers (tokens/s, time to first token...).
  stats() { return this.#call('stats'); }

  // Frees the model and ends the worker; the engine cannot be used afterwards.
  async unload() {
    if (this.#terminated) return;
    if (!this.#dead) {
      // A stream nobody reads waits for its consumer (flow control): stop those first.
      for (const id of this.#streams) this.#port.post({ op: 'abort', target: id });
      // A worker stuck inside wasm never answers: give it a few seconds, then end it anyway.
      let timer;
      const late = new Promise((resolve) => { timer = setTimeout(resolve, 5000); });
      try { await Promise.race([this.#call('unload').catch(() => {}), late]); } finally { clearTimeout(timer); }
      this.#dead = new EngineError('the engine was unloaded');
    }
    // A worker that failed (dead already) still holds its memory until terminated.
    this.#terminated = true;
    await this.#port.terminate();
  }
}

function shapeChunk(kind, meta, delta, finishReason) {
  if (kind === 'chat') {
    return { ...meta, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
  }
  return { ...meta, object: 'text_completion', choices: [{ index: 0, text: delta.content ?? '', logprobs: null, finish_reason: finishReason }] };
}

function shapeFinal(kind, meta, r) {
  const message = { role: 'assistant', content: r.toolCalls?.length && !r.text ? null : r.text };
  if (r.reasoning) message.reasoning_content = r.reasoning;
  if (r.toolCalls?.length) message.tool_calls = r.toolCalls;
  const choice = kind === 'chat'
    ? { index: 0, message, logprobs: null, finish_reason: r.finishReason }
    : { index: 0, text: r.text, logprobs: null, finish_reason: r.finishReason };
  return { ...meta, object: kind === 'chat' ? 'chat.completion' : 'text_completion', choices: [choice], usage: r.usage, hearth: { stop: r.stop, timings: r.timings } };
}

// Starts a worker and loads the model in it. Options: model (URL, URLs of a
// split model, File/Blob(s), or a file path in Node), backend ('auto' | 'webgpu'
// | 'cpu'), threads, contextSize, onProgress(event), signal (cancels the
// download), storage ('auto' | 'opfs' | 'cache'), onLog(level, message),
// locateFile(name) (where the engine's workers and wasm are, when not beside this module).
export async function createEngine(opts = {}) {
  const engine = await Engine.start(opts);
  try {
    return await engine.load(opts);
  } catch (e) {
    await engine.unload().catch(() => {});
    throw e;
  }
}
