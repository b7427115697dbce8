// Shared by the runtime's tests (tests/e2e/client.test.mjs in Node,
// tests/browser/engine.test.mjs in Chromium): the native CLI as reference and
// the few model files of their own they need.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hearth, MODELS, ROOT } from './util.mjs';

// The native CLI's greedy raw completion, {prompt_tokens, tokens, text, ...}
// (its own kernels and threads, as a user would run it).
export function nativeRun(file, prompt, maxTokens, extra = []) {
  const r = hearth(['run', '--model', file, '--prompt', prompt, '--temperature', '0', '--max-tokens', String(maxTokens),
    '--json', ...extra]);
  if (r.status !== 0) throw new Error(`hearth run failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// A split model in `count` parts (the first part's path), made once.
export function splitModel(count = 3) {
  const n = String(count).padStart(5, '0');
  const first = path.join(MODELS, `runtime-split${count}-00001-of-${n}.gguf`);
  if (!fs.existsSync(path.join(MODELS, `runtime-split${count}-${n}-of-${n}.gguf`))) {
    fs.mkdirSync(MODELS, { recursive: true });
    const r = spawnSync('node', ['tools/make_test_model.mjs', '--arch', 'llama', '--tokenizer', 'llama2', '--type', 'q8_0',
      '--split', String(count), '--seed', '7', '--quiet', '--out', path.join(MODELS, `runtime-split${count}.gguf`)], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`make_test_model --split failed: ${r.stderr}`);
  }
  return first;
}

// The paths of all parts of a split model, from its first.
export function splitParts(first) {
  const count = Number(/-of-(\d{5})\.gguf$/.exec(first)[1]);
  return Array.from({ length: count }, (_, i) => first.replace('-00001-of-', `-${String(i + 1).padStart(5, '0')}-of-`));
}

// A file of `size` bytes (default 5 GiB; sparse: no disk used) that starts with
// the first 4 KiB of a real model.
// A copy of model `from` whose tensor `tensor` claims ggml type `type` (17:
// iq2_xs, which hearth does not run), extended (sparse) to `size` bytes: a
// download that a header check must refuse after its first megabytes.
export function oddTypeModel(from, tensor, type, size = 1024 ** 3) {
  const file = path.join(MODELS, `runtime-odd-type-${type}-${size}.gguf`);
  const bytes = Buffer.from(fs.readFileSync(from));
  // The tensor's entry: u64 name length, the name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset.
  const name = Buffer.from(tensor);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(name.length));
  const at = bytes.indexOf(Buffer.concat([len, name]));
  if (at < 0) throw new Error(`${from}: no tensor ${tensor}`);
  const dims = bytes.readUInt32LE(at + 8 + name.length);
  bytes.writeUInt32LE(type, at + 8 + name.length + 4 + 8 * dims);
  fs.mkdirSync(MODELS, { recursive: true });
  fs.writeFileSync(file, bytes);
  fs.truncateSync(file, Math.max(size, bytes.length));
  return file;
}

export function hugeModel(from, size = 5 * 1024 ** 3) {
  const file = path.join(MODELS, `runtime-huge-sparse-${size}.gguf`);
  if (!fs.existsSync(file) || fs.statSync(file).size !== size) {
    fs.mkdirSync(MODELS, { recursive: true });
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, fs.readFileSync(from).subarray(0, 4096), 0, 4096, 0);
    fs.ftruncateSync(fd, size);
    fs.closeSync(fd);
  }
  return file;
}
