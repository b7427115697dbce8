// The errors the client API throws. Each names what went wrong and what to do
// about it; they cross the worker boundary as plain objects ({name, message,
// ...details}) and are rebuilt here as the same classes, so `instanceof`
// works on the page for an error raised in the worker.

export class EngineError extends Error {
  constructor(message, details = {}) {
    super(message);
    // (by CLASSES' keys: a minifier renames the classes themselves)
    this.name = NAMES.get(new.target) ?? new.target.name;
    Object.assign(this, details);
  }
}
// The model (file bytes + working memory) cannot fit where it would run:
// wasm32 memory (4 GiB) for the CPU path. Details: bytes, limit.
export class ModelTooLargeError extends EngineError {}
// A download failed: HTTP status, connection lost after the retries. Details: url, status.
export class NetworkError extends EngineError {}
// No model at that URL (HTTP 404) or path. Details: url or path.
export class ModelNotFoundError extends EngineError {}
// The browser's storage quota cannot take the model. Details: bytes, available.
export class QuotaExceededError extends EngineError {}
// Not a GGUF file, or a GGUF the core cannot run (architecture, tensor type, damage).
export class UnsupportedModelError extends EngineError {}
// The bytes are not the ones published: their SHA-256 or size differs from the one the preset or
// the hub gives. The store deletes them. Details: file, expected, actual.
export class ModelIntegrityError extends EngineError {}
// The backend asked for does not exist here (no WebGPU, not built yet).
export class UnsupportedBackendError extends EngineError {}
// The request was aborted (AbortSignal) before it started.
export class AbortError extends EngineError {}
// Anything else the engine reports (bad arguments, a prompt that does not fit the context...).
export class GenerationError extends EngineError {}

const CLASSES = {
  EngineError, ModelTooLargeError, NetworkError, ModelNotFoundError, QuotaExceededError,
  UnsupportedModelError, UnsupportedBackendError, AbortError, GenerationError, ModelIntegrityError,
};
const NAMES = new Map(Object.entries(CLASSES).map(([name, cls]) => [cls, name]));

// For postMessage: own enumerable fields (details) plus name and message. A
// platform error of the same name (DOMException AbortError, QuotaExceededError)
// keeps its name; anything else becomes EngineError.
export function serializeError(e) {
  if (e instanceof EngineError) return { ...e, name: e.name, message: e.message };
  return { name: CLASSES[e?.name] ? e.name : 'EngineError', message: e?.message || String(e) };
}

export function deserializeError(o) {
  const Cls = CLASSES[o?.name] || EngineError;
  const details = { ...o };
  delete details.name;
  delete details.message;
  return new Cls(o?.message || 'unknown engine error', details);
}
