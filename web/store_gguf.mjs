// Early checks on a model before anything big happens: the first bytes of a
// GGUF file (magic, version, tensor and key/value counts) and whether its size
// can fit the CPU path's wasm32 memory and the storage quota. Downloads and local files pass
// here, so a wrong URL or a too-large model is refused before gigabytes move.
import { ModelTooLargeError, QuotaExceededError, UnsupportedModelError } from './errors.mjs';

// Bytes needed to read the fixed header: magic (4), version (4), tensor count (8), kv count (8).
export const GGUF_HEADER_BYTES = 24;

// wasm32 addresses 4 GiB; the core copies the weights into that memory and
// needs room beside them for the KV cache, activations and the vocabulary.
export const WASM_MEMORY_BYTES = 4 * 1024 ** 3;
export const WASM_RESERVE_BYTES = 192 * 1024 ** 2;

// Sanity bounds: real models have hundreds of tensors and tens of keys.
const MAX_TENSORS = 1 << 20, MAX_KVS = 1 << 16;

// Throws UnsupportedModelError unless `bytes` (Uint8Array) starts like a GGUF v2/v3 file.
export function checkGgufHeader(bytes, name = 'model') {
  if (bytes.length < GGUF_HEADER_BYTES) {
    throw new UnsupportedModelError(`${name}: ${bytes.length} bytes, too short to be a GGUF model`, { file: name });
  }
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== 'GGUF') {
    const text = /^\s*</.test(new TextDecoder().decode(bytes.subarray(0, 16))) ? ' (it looks like an HTML page: check the URL)' : '';
    throw new UnsupportedModelError(`${name}: not a GGUF model file (it starts with ${JSON.stringify(magic)}, not "GGUF")${text}`, { file: name });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, GGUF_HEADER_BYTES);
  const version = dv.getUint32(4, true);
  if (version !== 2 && version !== 3) {
    throw new UnsupportedModelError(`${name}: GGUF version ${version}; hearth reads versions 2 and 3`, { file: name, version });
  }
  const tensorCount = dv.getBigUint64(8, true), kvCount = dv.getBigUint64(16, true);
  if (tensorCount > BigInt(MAX_TENSORS) || kvCount > BigInt(MAX_KVS)) {
    throw new UnsupportedModelError(`${name}: the GGUF header claims ${tensorCount} tensors and ${kvCount} keys, ` +
      'which no real model has: the file is damaged', { file: name });
  }
  return { version, tensorCount: Number(tensorCount), kvCount: Number(kvCount) };
}

export function formatBytes(n) {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

// Throws ModelTooLargeError when a model of `bytes` (all parts) cannot run on the CPU path.
export function checkFitsCpu(bytes, name = 'the model') {
  const limit = WASM_MEMORY_BYTES - WASM_RESERVE_BYTES;
  if (bytes > limit) {
    throw new ModelTooLargeError(`${name} is ${formatBytes(bytes)}; the CPU (WebAssembly) path holds the weights ` +
      `in 4 GiB of wasm32 memory, so models up to about ${formatBytes(limit)} fit. Pick a smaller or more ` +
      'quantized model (e.g. Q4_0 of a smaller size).', { bytes, limit });
  }
}

// WebGPU holds the weights in GPU buffers, not wasm memory; no browser GPU this app targets holds
// more, and a link must not fill the site's storage with a file that could never run.
export const GPU_MODEL_MAX_BYTES = 16 * 1024 ** 3;
export function checkFitsGpu(bytes, name = 'the model') {
  if (bytes > GPU_MODEL_MAX_BYTES) {
    throw new ModelTooLargeError(`${name} is ${formatBytes(bytes)}; the WebGPU path takes models of up to ` +
      `${formatBytes(GPU_MODEL_MAX_BYTES)}. Pick a smaller or more quantized model.`, { bytes, limit: GPU_MODEL_MAX_BYTES });
  }
}

const quotaError = (need, available, quota) => new QuotaExceededError(`the model needs ${formatBytes(need)} more storage, ` +
  `but the browser grants this site ${formatBytes(available)} (quota ${formatBytes(quota)}): delete cached models or free disk space`,
{ bytes: need, available });

// Before gigabytes move: does the rest fit the quota?
export async function checkQuota(remaining) {
  const est = await navigator.storage.estimate?.();
  if (!est?.quota) return;
  const available = est.quota - (est.usage || 0);
  if (remaining > available) throw quotaError(remaining, available, est.quota);
}

// Before any body is read: with the sizes of all parts [{total, have}] known, the rest must fit the
// quota and the whole the backend (checkSize). Returns the check for the bytes so far as they arrive
// (progressReporter), which matters where a server sends no length: the backend's limit, and the
// quota as it was when the download began.
export async function checkParts(parts, checkSize) {
  if (parts.every((p) => p.total != null)) {
    await checkQuota(parts.reduce((a, p) => a + p.total - (p.have || 0), 0));
    checkSize(parts.reduce((a, p) => a + p.total, 0));
    return checkSize;
  }
  const est = await navigator.storage.estimate?.();
  const available = est?.quota ? est.quota - (est.usage || 0) : Infinity;
  const had = parts.reduce((a, p) => a + (p.have || 0), 0);
  return (bytes) => {
    checkSize(bytes);
    if (bytes - had > available) throw quotaError(bytes - had, available, est.quota);
  };
}
