// Types of web/client.mjs (the engine client) and what it re-exports from
// web/errors.mjs and web/store.mjs. Behaviour: docs/runtime.md.

export type Backend = 'auto' | 'webgpu' | 'cpu';

export interface FileProgress { name: string; loaded: number; total: number | null }

/** Load progress; bytes: done so far of totalBytes (all parts). 'download': bytes arriving
 *  (file/loaded/total: the part that moved; rate in bytes/s since the start); 'cached': the model
 *  is in the store, nothing downloaded; 'load': bytes read into the backend; 'ready': loaded. */
export interface ProgressEvent {
  phase: 'download' | 'cached' | 'load' | 'ready';
  bytes: number;
  totalBytes: number | null;
  file?: string;
  loaded?: number;
  total?: number | null;
  rate?: number;
  files?: FileProgress[];
  /** Downloads: how far the bytes are checked (pinned commit, published SHA-256). */
  verify?: ModelVerification;
}

/** A model URL with what its bytes must be: a download whose SHA-256 (hex) or size differs is
 *  refused and deleted (ModelIntegrityError). Hugging Face URLs are pinned and checked anyway where
 *  the hub's API answers. */
export interface PinnedUrl { url: string | URL; sha256?: string; size?: number }

/** How far a downloaded model's bytes were checked: sha256 true when every part matched a published
 *  SHA-256; commits: the hub commits the parts were fetched at; unchecked: why the hub was not asked. */
export interface ModelVerification { sha256: boolean; commits: string[]; unchecked?: string }

export interface CreateEngineOptions {
  /** URL (relative to the page), the URLs of a split model (or only its -00001-of-N part),
   *  a File/Blob or several (split model), or in Node a file path. */
  model: string | URL | PinnedUrl | (string | PinnedUrl)[] | Blob | Blob[];
  backend?: Backend;
  /** CPU threads (needs a cross-origin-isolated page); default: cores, up to 8. */
  threads?: number;
  /** KV cache size in tokens; default: the model's, up to 4096. */
  contextSize?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** Cancels the download/load: createEngine then rejects with AbortError. */
  signal?: AbortSignal;
  /** Where downloads are kept: 'auto' (OPFS, else Cache API). */
  storage?: 'auto' | 'opfs' | 'cache';
  /** Reproduce llama.cpp's arithmetic bit for bit (slower): on the CPU path the matrix products
   *  keep ggml's accumulation order (the default sums one-token Q4_0/Q8_0 products in plain f32,
   *  about 1.5x-4x faster in wasm), on WebGPU attention follows the CPU path's arithmetic. For
   *  tests that compare tokens with llama.cpp or the native CLI. Default false. */
  exactNumerics?: boolean;
  /** The core's log lines (level 0 info, 1 warning). */
  onLog?: (level: number, message: string) => void;
  /** Where the engine's workers and wasm builds are, when not where a bundler put them (beside the
   *  package's modules): a CDN, a static folder. Called once per file name; return its URL, or
   *  undefined for the default place. A worker on another origin starts through a same-origin blob. */
  locateFile?: (name: EngineFile) => string | URL | undefined | null;
}

/** The files createEngine's locateFile may place. */
export type EngineFile = 'engine_worker.mjs' | 'thread_worker.mjs' | 'hearth.wasm' | 'hearth-mt.wasm' |
  'hearth-relaxed.wasm' | 'hearth-relaxed-mt.wasm';

export interface SamplingParams {
  max_tokens?: number;
  /** 0: greedy. */
  temperature?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  repeat_penalty?: number;
  /** Same seed, same text. Random when left out. */
  seed?: number;
  stop?: string | string[];
  /** Stops generation within one token; finish_reason is then 'abort'. */
  signal?: AbortSignal;
  /** Constrains the answer: any JSON object, or JSON valid for a JSON Schema (objects, required/optional
   * properties, arrays with minItems/maxItems, enum, const, string/number/integer/boolean/null, anyOf, $ref
   * inside the schema; other keywords are refused with an error naming them). */
  response_format?: ResponseFormat;
  /** Constrains the answer to a GBNF grammar (llama.cpp's notation; start rule `root`). Not with response_format. */
  grammar?: string;
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown> | boolean; strict?: boolean; description?: string } };

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool' | string;
export interface ToolCall {
  id: string;
  type: 'function';
  /** arguments: JSON text of an object. */
  function: { name: string; arguments: string };
}
export interface Tool {
  type: 'function';
  /** parameters: a JSON Schema of the arguments (tool_choice required/named constrains them to it). */
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}
export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export interface ChatMessage {
  role: ChatRole;
  content: string | { type: 'text'; text: string }[] | null;
  /** An assistant turn's tool calls, as a response gave them. */
  tool_calls?: ToolCall[];
  /** A role 'tool' message: the call it answers, and the function's name. */
  tool_call_id?: string;
  name?: string;
  /** An earlier answer's reasoning, as the response gave it; the chat template decides whether it is kept (Qwen3 keeps it only within a tool-calling turn). */
  reasoning_content?: string;
}

/** Fields of chat requests only. */
export interface ChatParams {
  /** Variables for the model's chat template (llama-server's and vLLM's field), e.g. {enable_thinking: false}. */
  chat_template_kwargs?: Record<string, unknown>;
  /** Shortcut for chat_template_kwargs.enable_thinking (Qwen3: false answers without thinking); both given must agree. */
  enable_thinking?: boolean;
  /** Functions the model may call; the template shows them to it, and its calls come back as tool_calls
   * (Hermes/Qwen2.5/Qwen3, Llama 3.1/3.2, Mistral and Phi-4-mini formats). */
  tools?: Tool[];
  /** auto (default): the model decides; none: no tools; required / a named function: the answer is one call,
   * its arguments valid for the function's parameters schema. */
  tool_choice?: ToolChoice;
}

/** 'abort' when the signal stopped it (not in OpenAI's list). */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'abort';

export interface Usage { prompt_tokens: number; completion_tokens: number; total_tokens: number }

export interface HearthExtras {
  /** eog: end-of-generation token; stop: a stop string; length: max_tokens; context: the context is full;
   * grammar: the grammar (response_format, grammar) allowed no token, not even the end. */
  stop: 'eog' | 'stop' | 'length' | 'context' | 'interrupted' | 'grammar';
  timings: { prefill_ms: number; decode_ms: number; ttft_ms: number; reused_tokens: number; evaluated_tokens: number; dropped_messages: number };
}

interface Base { id: string; created: number; model: string }

export interface ChatCompletion extends Base {
  object: 'chat.completion';
  /** reasoning_content: a reasoning model's thinking (its <think> block), present when there was some; content is the answer without it. */
  /** tool_calls: the calls the answer made (content is then null when there was no other text). */
  choices: [{ index: 0; message: { role: 'assistant'; content: string | null; reasoning_content?: string; tool_calls?: ToolCall[] }; logprobs: null; finish_reason: FinishReason }];
  usage: Usage;
  hearth: HearthExtras;
}

export interface ChatCompletionChunk extends Base {
  object: 'chat.completion.chunk';
  /** A chunk carries content, reasoning_content (thinking, streamed before the answer), or both. */
  /** A tool call arrives whole in one chunk (index: its place among the answer's calls). */
  choices: [{ index: 0; delta: { role?: 'assistant'; content?: string; reasoning_content?: string; tool_calls?: (ToolCall & { index: number })[] }; logprobs: null; finish_reason: FinishReason | null }];
  /** On the last chunk only. */
  usage?: Usage;
  hearth?: HearthExtras;
}

export interface Completion extends Base {
  object: 'text_completion';
  choices: [{ index: 0; text: string; logprobs: null; finish_reason: FinishReason | null }];
  /** On a non-streamed answer and on the last chunk of a stream. */
  usage?: Usage;
  hearth?: HearthExtras;
}

export interface ModelInfo {
  id: string;
  bytes: number;
  storage: 'opfs' | 'cache' | 'file';
  fromCache: boolean;
  /** URL models only. */
  verify?: ModelVerification;
  name: string;
  architecture: string;
  hasChatTemplate: boolean;
  /** The chat template has think tags: answers come as reasoning_content and content. */
  reasoning?: boolean;
  /** The chat template reads enable_thinking (Qwen3): thinking can be switched off per request. */
  enableThinking?: boolean;
  nVocab: number;
  contextSize: number;
  [key: string]: unknown;
}

export interface EngineInfo {
  model: ModelInfo;
  backend: 'webgpu' | 'cpu';
  /** Why 'auto' did not pick WebGPU, or ''. */
  backendNote: string;
  /** CPU threads running: more than one needs SharedArrayBuffer, i.e. Node or a cross-origin-isolated
   *  page (served with Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp). */
  threads: number;
  /** Why fewer threads run than asked for (e.g. the page is not cross-origin isolated), or ''. */
  threadsNote: string;
  kernels: string;
  contextSize: number;
  loadMs: number;
}

/** EngineInfo plus the latest generation's numbers (null before the first). */
export interface EngineStats extends EngineInfo {
  promptTokens: number | null;
  completionTokens: number | null;
  reusedTokens: number | null;
  prefillMs: number | null;
  decodeMs: number | null;
  timeToFirstTokenMs: number | null;
  /** Decode speed: tokens after the first over their time. */
  tokensPerSecond: number | null;
  prefillTokensPerSecond: number | null;
}

export interface Engine {
  readonly info: EngineInfo;
  chat: {
    completions: {
      create(p: SamplingParams & ChatParams & { messages: ChatMessage[]; stream: true }): Promise<AsyncIterable<ChatCompletionChunk>>;
      create(p: SamplingParams & ChatParams & { messages: ChatMessage[]; stream?: false }): Promise<ChatCompletion>;
    };
  };
  completions: {
    create(p: SamplingParams & { prompt: string; stream: true }): Promise<AsyncIterable<Completion>>;
    create(p: SamplingParams & { prompt: string; stream?: false }): Promise<Completion>;
  };
  /** Token ids without BOS; special: parse special-token text such as <|im_end|>. */
  tokenize(text: string, opts?: { special?: boolean }): Promise<number[]>;
  stats(): Promise<EngineStats>;
  /** Frees the model and ends the worker. */
  unload(): Promise<void>;
}

export function createEngine(opts: CreateEngineOptions): Promise<Engine>;

export interface CachedModel {
  id: string;
  storage: 'opfs' | 'cache';
  complete: boolean;
  bytes: number;
  createdAt: number;
  files: { name: string; url: string; size: number | null }[];
}
export function listCachedModels(): Promise<CachedModel[]>;
export function deleteCachedModel(id: string): Promise<boolean>;
export function storageEstimate(): Promise<{ usage: number | null; quota: number | null; persisted: boolean }>;
export function requestPersistentStorage(): Promise<boolean>;

export class EngineError extends Error { constructor(message: string, details?: Record<string, unknown>) }
export class ModelTooLargeError extends EngineError { bytes?: number; limit?: number }
export class NetworkError extends EngineError { url?: string; status?: number }
export class ModelNotFoundError extends EngineError { url?: string; path?: string; status?: number }
export class QuotaExceededError extends EngineError { bytes?: number; available?: number }
export class UnsupportedModelError extends EngineError { file?: string; version?: number }
export class UnsupportedBackendError extends EngineError {}
export class AbortError extends EngineError {}
export class GenerationError extends EngineError {}
export class ModelIntegrityError extends EngineError { file?: string; expected?: string; actual?: string }
export function serializeError(e: unknown): Record<string, unknown>;
export function deserializeError(o: Record<string, unknown>): EngineError;
