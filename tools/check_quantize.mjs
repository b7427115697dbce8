#!/usr/bin/env node
// Proves make_test_model --ftype byte-identical to llama.cpp's llama-quantize: for
// each K-quant test model (tools/kquant_models.mjs) writes the --type f16 model of the
// same arguments, runs llama-quantize on it (no imatrix), writes make_test_model's
// direct output and compares sha256. On a mismatch it names the first differing
// metadata key or tensor.
//
//   node tools/check_quantize.mjs [--only REGEX] [--keep] [--threads N]
//
// llama-quantize: $LLAMA_QUANTIZE, else tools/build_llama_quantize.sh (builds it once
// into ~/.cache/hearth from node-llama-cpp's llama.cpp bundle). A test tool only.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeTestModel, parseArgs } from './make_test_model.mjs';
import { kquantModelList } from './kquant_models.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

function sha256(file) { return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'); }

// minimal GGUF reader: metadata keys (with raw value bytes) and the tensor table
export function readGGUF(file) {
  const b = fs.readFileSync(file);
  let o = 0;
  const u32 = () => { const v = b.readUInt32LE(o); o += 4; return v; };
  const u64 = () => { const v = Number(b.readBigUInt64LE(o)); o += 8; return v; };
  const str = () => { const n = u64(); const s = b.toString('utf8', o, o + n); o += n; return s; };
  const SZ = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skip = (t) => {
    if (t === 8) { str(); return; }
    if (t === 9) { const et = u32(); const n = u64(); for (let i = 0; i < n; i++) skip(et); return; }
    o += SZ[t];
  };
  if (u32() !== 0x46554747) throw new Error(`${file}: not GGUF`);
  u32();
  const nt = u64(), nkv = u64();
  const kv = [];
  for (let i = 0; i < nkv; i++) {
    const k = str(); const t = u32(); const s = o; skip(t);
    kv.push({ key: k, type: t, raw: b.subarray(s, o) });
  }
  const tensors = [];
  for (let i = 0; i < nt; i++) {
    const name = str(); const nd = u32(); const ne = []; for (let j = 0; j < nd; j++) ne.push(u64());
    tensors.push({ name, ne, type: u32(), offset: u64() });
  }
  const dataStart = Math.ceil(o / 32) * 32;
  return { b, kv, tensors, dataStart };
}

function diff(a, b) {
  const A = readGGUF(a), B = readGGUF(b);
  const ka = A.kv.map((e) => e.key).join(','), kb = B.kv.map((e) => e.key).join(',');
  if (ka !== kb) return `metadata keys differ:\n  ours ${ka}\n  llama-quantize ${kb}`;
  for (let i = 0; i < A.kv.length; i++) {
    if (A.kv[i].type !== B.kv[i].type || !A.kv[i].raw.equals(B.kv[i].raw)) return `metadata ${A.kv[i].key} differs`;
  }
  if (A.tensors.length !== B.tensors.length) return `tensor count ${A.tensors.length} vs ${B.tensors.length}`;
  for (let i = 0; i < A.tensors.length; i++) {
    const x = A.tensors[i], y = B.tensors[i];
    if (x.name !== y.name || x.type !== y.type || x.offset !== y.offset || x.ne.join() !== y.ne.join()) {
      return `tensor ${i}: ours ${x.name} type ${x.type} [${x.ne}] @${x.offset}, llama-quantize ${y.name} type ${y.type} [${y.ne}] @${y.offset}`;
    }
  }
  for (let i = 0; i < A.tensors.length; i++) {
    const x = A.tensors[i];
    const end = i + 1 < A.tensors.length ? A.tensors[i + 1].offset : A.b.length - A.dataStart;
    const da = A.b.subarray(A.dataStart + x.offset, A.dataStart + end);
    const db = B.b.subarray(B.dataStart + x.offset, B.dataStart + end);
    if (!da.equals(db)) {
      let k = 0; while (da[k] === db[k]) k++;
      return `tensor ${x.name} (type ${x.type}) data differs from byte ${k}`;
    }
  }
  return 'files differ (header padding?)';
}

function findQuantize() {
  if (process.env.LLAMA_QUANTIZE) return process.env.LLAMA_QUANTIZE;
  const r = spawnSync(path.join(here, 'build_llama_quantize.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('tools/build_llama_quantize.sh failed');
  return r.stdout.trim().split('\n').pop();
}

function main() {
  const argv = process.argv.slice(2);
  let only = null, keep = false, threads = 2;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') only = new RegExp(argv[++i]);
    else if (argv[i] === '--keep') keep = true;
    else if (argv[i] === '--threads') threads = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const quantize = findQuantize();
  const dir = path.join(root, 'build/check_quantize');
  fs.mkdirSync(dir, { recursive: true });
  const f16Done = new Map();
  let bad = 0, n = 0;
  for (const e of kquantModelList('build/check_quantize')) {
    if (only && !only.test(e.name)) continue;
    n++;
    // the F16 source: same arguments, --type f16 instead of --ftype
    const a = [...e.args];
    const fi = a.indexOf('--ftype');
    a.splice(fi, 2, '--type', 'f16');
    const f16 = path.join(dir, `${e.family}-f16.gguf`);
    a[a.indexOf('--out') + 1] = f16;
    if (!f16Done.has(e.family)) {
      const o = parseArgs(a); o.quiet = true;
      makeTestModel(o);
      f16Done.set(e.family, true);
    }
    const ref = path.join(dir, `${e.name}.llama-quantize.gguf`);
    const t0 = Date.now();
    const q = spawnSync(quantize, [f16, ref, e.ftype.toUpperCase(), String(threads)], { encoding: 'utf8' });
    const tq = Date.now() - t0;
    if (q.status !== 0) { console.log(`not ok - ${e.name}: llama-quantize failed\n${q.stderr.slice(-2000)}`); bad++; continue; }
    const o = parseArgs(e.args); o.quiet = true;
    o.out = path.join(root, o.out);
    const t1 = Date.now();
    makeTestModel(o);
    const tm = Date.now() - t1;
    const hr = sha256(ref), hm = sha256(o.out);
    const types = [...new Set(readGGUF(o.out).tensors.map((t) => t.type))].join(',');
    if (hr === hm) console.log(`ok - ${e.name} ${hm} (${fs.statSync(o.out).size} bytes, ggml types ${types}; make_test_model ${(tm / 1000).toFixed(1)} s, llama-quantize ${(tq / 1000).toFixed(1)} s)`);
    else { console.log(`not ok - ${e.name}: ${diff(o.out, ref)}`); bad++; }
    if (!keep && hr === hm) { fs.rmSync(ref); fs.rmSync(o.out); }
  }
  if (!keep) for (const f of fs.readdirSync(dir)) if (f.endsWith('-f16.gguf')) fs.rmSync(path.join(dir, f));
  console.log(`# ${n - bad}/${n} byte-identical to llama-quantize`);
  process.exitCode = bad ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
