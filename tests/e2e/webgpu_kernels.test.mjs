// Per-kernel WGSL tests on a real WebGPU implementation (npm `webgpu`, Dawn,
// on SwiftShader's Vulkan), against the CPU kernels: tests/unit/plan_dump.c
// builds the GPU plan of a test model (as the browser would, for this
// device's limits and features), records every buffer, pipeline, dispatch
// list and written byte (norms, RoPE table, the repacked weights), and makes
// kernel cases: a few dispatches of a list, their inputs (random) and the
// outputs the CPU kernels (src/cpu/kernels.h, scalar) give on the same data.
// Here each case's pipelines are compiled and run alone on the GPU, and the
// outputs compared, so a wrong kernel shows as one failing case: embed.wgsl;
// rmsnorm.wgsl; the decode products mv_qkv / mv_res / mv_swiglu (rows.wgsl or
// rows_q.wgsl); the prefill products mm.wgsl or q8_act.wgsl / rmsnorm_q8.wgsl
// + mmq.wgsl (residual and SwiGLU modes); decode attention (attn_split +
// attn_combine, attn_one, attn_decode) with RoPE and the KV cache store;
// prefill attention (rope_kv + attn_tile / attn_prefill); the head (mv_out,
// the repetition penalty, greedy sampling by sample_a + sample_b).
// Tolerances: 2e-5 of the largest output (f32 sums in another order), exact
// for the embedding, the sampled token and the attention's f16 cache rows, and
// (plan_dump --exact: exact mode) for every integer product, whose sums then
// follow the CPU kernels' orders on inputs normed as the CPU path's rmsnorm
// ("k256:--retype:q4_K:--exact" runs a K-quant so).
// `node tests/e2e/webgpu_kernels.test.mjs NAME...` picks golden or K-quant fixtures.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { check, done } from '../lib.mjs';
import { BUILD, ROOT } from './util.mjs';
import { ensureModel, goldenFixtures, kquantFixtures } from './golden_lib.mjs';

process.env.VK_ICD_FILENAMES ||= '/usr/lib/chromium/vk_swiftshader_icd.json';
const { nodeGpu } = await import('../../web/gpu/host.mjs');

const TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1'];
// (and the K-quants and IQ4 on a model of their own: KTYPES below)
// [fixture, plan_dump flags]. SwiftShader compiles a product kernel in 5-15 s, so by default each
// weight type runs once, the plan variants spread over them: f32 products (mm.wgsl, rows.wgsl) for
// float types and Q4_1 (--no-mmq), integer ones (q8_act + mmq.wgsl, rows_q.wgsl) for the other
// quantized types; the exact attention (attn_decode / attn_prefill with attend.wgsl), the one-dispatch
// decode attention (attn_one), no subgroups (workgroup-memory reductions, attn_prefill with
// attend_fast.wgsl); Phi-3 (fused QKV and gate/up) and Qwen2 (QKV bias, tied) too.
// HEARTH_KERNELS_ALL=1 adds every type with the default plan and every quantized type with --no-mmq.
const QUICK = [
  ['llama-llama2-f32', []], ['llama-llama2-f16', ['--exact']], ['qwen2-qwen3-bf16', []], ['llama-llama2-q8_0', []],
  ['phi3-llama2-q4_0', []], ['llama-llama2-q4_1', ['--no-mmq']], ['qwen2-qwen3-q5_0', ['--attn-one']],
  ['llama-llama2-q5_1', ['--no-subgroups']],
  // a 1 MB binding limit: the vocabulary matrices in 3 slices (embed.wgsl and mv_out.wgsl pick rows across them)
  ['llama-llama2-q5_0', ['--max-binding', '1000000']],
];
const ALL = [
  ...TYPES.map((t) => [`llama-llama2-${t}`, []]),
  ...TYPES.filter((t) => t.startsWith('q')).map((t) => [`llama-llama2-${t}`, ['--no-mmq']]),
  ['phi3-llama2-ropefactors-f32', ['--exact']], ['phi3-llama2-bf16', ['--no-subgroups']], ['qwen2-qwen3-q4_0', ['--attn-one']],
];
// The K-quants and IQ4: 'k256', a Llama with rows of 256 and 512 values (made here as Q8_0), each
// matrix replaced by plan_dump --retype with random blocks of the type (sensible f16 scales), the
// products against plan_dump's own dequantization (ggml's dequantize_row_*) of Q8_K-rounded input
// (Q8_0 for IQ4_NL). Integer products for each type (the float ones with HEARTH_KERNELS_ALL=1).
const KTYPES = ['q2_K', 'q3_K', 'q4_K', 'q5_K', 'q6_K', 'iq4_nl', 'iq4_xs'];
// A Q4_K_M-like QKV group (attn_v in Q6_K): a decode dispatch per type. HEARTH_KERNELS_ALL=1 adds
// attn_v in Q8_0 (other input rounding), the float products (--no-mmq: mm.wgsl, rows.wgsl on Q8_K
// input) of every type, and Q6_K's with the exact attention.
const KQUICK = [...KTYPES.map((t) => ['k256', ['--retype', t]]), ['k256', ['--retype', 'q4_K', '--retype-v', 'q6_K']]];
const KALL = [...KTYPES.map((t) => ['k256', ['--retype', t, '--no-mmq']]), ['k256', ['--retype', 'q6_K', '--no-mmq', '--exact']],
  ['k256', ['--retype', 'q4_K', '--retype-v', 'q8_0']]];
const DEFAULT_RUNS = process.env.HEARTH_KERNELS_ALL === '1' ? [...QUICK, ...KQUICK, ...ALL, ...KALL] : [...QUICK, ...KQUICK];
// names on the command line, each optionally with plan_dump flags after a colon ("llama-llama2-f16:--exact")
const runs = process.argv.length > 2 ? process.argv.slice(2).map((a) => [a.split(':')[0], a.split(':').slice(1)]) : DEFAULT_RUNS;
const fixtures = new Map([...goldenFixtures(), ...kquantFixtures('native')].map((fx) => [fx.name, fx]));

// ---- the dump tool ----
const tool = path.join(BUILD, 'plan_dump');
{
  const src = path.join(ROOT, 'tests/unit/plan_dump.c');
  const lib = path.join(BUILD, 'libhearth.a'), host = path.join(BUILD, 'obj/native/host_native.o');
  const mk = spawnSync('make', ['-s', lib, host], { cwd: ROOT, encoding: 'utf8' });
  const mtime = (f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0);
  if (mk.status === 0 && mtime(tool) < Math.max(mtime(src), mtime(lib))) {
    const r = spawnSync(process.env.CC || 'cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Wshadow', '-Wno-unused-parameter',
      `-I${path.join(ROOT, 'src')}`, `-I${path.join(ROOT, 'native')}`, src, host, lib, '-o', tool, '-lm', '-lpthread'],
    { encoding: 'utf8' });
    check('plan_dump builds without warnings', r.status === 0 && !r.stderr.includes('warning'), r.stderr);
  }
  if (!check('plan_dump is built', fs.existsSync(tool) && mk.status === 0, mk.stderr)) {
    done();
    process.exit();
  }
}

// ---- the device, as web/gpu/host.mjs opens it ----
const gpu = await nodeGpu();
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!check('a WebGPU adapter (SwiftShader)', !!adapter, 'none')) {
  done();
  process.exit();
}
const features = adapter.features.has('subgroups') ? ['subgroups'] : [];
const requiredLimits = {};
for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX']) {
  requiredLimits[k] = adapter.limits[k];
}
const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
const dot4 = gpu.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product') ? 1 : 0;
const L = device.limits;
const limits = [L.maxStorageBufferBindingSize, L.maxBufferSize, L.maxComputeWorkgroupStorageSize,
  L.maxStorageBuffersPerShaderStage, features.length ? 1 : 0, 0, dot4].join(',');
console.log(`# device limits ${limits} (binding, buffer, workgroup memory, storage buffers, subgroups, f16, dot4)`);

async function held(p) {
  const keep = setInterval(() => {}, 1000);
  try { return await p; } finally { clearInterval(keep); }
}

const kinds = ['uniform', 'read-only-storage', 'storage'];
const pipeCache = new Map(); // WGSL + layout -> compiled pipeline (shared across models)

async function pipeline(p) {
  const key = `${JSON.stringify(p.layout)}\n${p.wgsl}`;
  if (!pipeCache.has(key)) {
    const bgl = device.createBindGroupLayout({
      entries: p.layout.map(([binding, kind]) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: kinds[kind] } })),
    });
    const module = device.createShaderModule({ label: p.label, code: p.wgsl });
    const made = device.createComputePipelineAsync({
      label: p.label, layout: device.createPipelineLayout({ bindGroupLayouts: [bgl] }), compute: { module, entryPoint: 'main' },
    }).then((pl) => ({ pl, bgl }), async (e) => {
      const info = await module.getCompilationInfo?.().catch(() => null);
      const msgs = info?.messages?.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`);
      throw new Error(`${p.label} does not compile: ${msgs?.join('; ') || e.message}`);
    });
    pipeCache.set(key, made);
  }
  return held(pipeCache.get(key));
}

async function runCase(plan, bin, c, buffers) {
  const U = GPUBufferUsage;
  for (const r of c.inputs) device.queue.writeBuffer(buffers[r.id], r.offset, bin, r.at, r.len);
  const list = plan.dispatches.filter((d) => d.list === c.list).slice(c.first, c.first + c.count);
  const steps = [];
  for (const d of list) {
    const { pl, bgl } = await pipeline(plan.pipelines[d.pipe]);
    const group = device.createBindGroup({ layout: bgl, entries: d.binds.map(([binding, id]) => ({ binding, resource: { buffer: buffers[id] } })) });
    steps.push({ pl, group, d });
  }
  device.pushErrorScope('validation');
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (const { pl, group, d } of steps) {
    pass.setPipeline(pl);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(d.x, d.y, d.z);
  }
  pass.end();
  const reads = c.outputs.map((r) => {
    const rb = device.createBuffer({ size: r.len, usage: U.MAP_READ | U.COPY_DST });
    enc.copyBufferToBuffer(buffers[r.id], r.offset, rb, 0, r.len);
    return rb;
  });
  device.queue.submit([enc.finish()]);
  const err = await held(device.popErrorScope());
  if (err) throw new Error(`WebGPU validation: ${err.message}`);
  // per output region: the largest error over the largest expected magnitude
  let res = { rel: 0 };
  for (let k = 0; k < reads.length; k++) {
    await held(reads[k].mapAsync(GPUMapMode.READ));
    const raw = reads[k].getMappedRange().slice(0);
    reads[k].unmap();
    reads[k].destroy();
    const r = c.outputs[k];
    // r.half: 1 f16 values, 2 u32 (a token: any difference fails), else f32
    const as = (buf) => (r.half === 1 ? Array.from(new Uint16Array(buf), f16) : r.half === 2 ? new Uint32Array(buf) : new Float32Array(buf));
    const got = as(raw), want = as(bin.buffer.slice(bin.byteOffset + r.at, bin.byteOffset + r.at + r.len));
    let scale = 0, worst = 0, at = 0;
    for (const v of want) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < want.length; i++) {
      const e = Math.abs(got[i] - want[i]);
      if (!(e <= worst)) { worst = Number.isNaN(e) ? Infinity : e; at = i; }
    }
    const rel = r.half === 2 ? (worst ? Infinity : 0) : worst / Math.max(scale, 1e-30);
    if (!(rel <= res.rel)) res = { rel, at, got: got[at], want: want[at], region: k };
  }
  return res;
}

// IEEE half to a number.
function f16(h) {
  const e = (h >> 10) & 31, f = h & 1023, s = h >> 15 ? -1 : 1;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-kernels-'));
// the model of the 'k256' runs (K-quants: rows of whole 256-value super-blocks)
function k256Model() {
  const file = path.join(tmp, 'k256.gguf');
  if (fs.existsSync(file)) return file;
  const r = spawnSync('node', ['tools/make_test_model.mjs', '--arch', 'llama', '--type', 'q8_0', '--tokenizer', 'llama2',
    '--embd', '256', '--heads', '4', '--kv-heads', '2', '--head-dim', '64', '--ff', '512', '--layers', '1', '--out', file, '--quiet'],
  { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make_test_model: ${r.stderr}`);
  return file;
}

// GEGLU's gate (gelu.wgsl) for every f16 input against the CPU path's table
// (gelu_table_init, through plan_dump --gelu), and exactmath.wgsl's tanh_libm
// (soft-capping) against libm's tanhf on 2^20 floats from 0 to 1920 (the
// normal ones): bit for bit.
async function geluCheck() {
  const out = path.join(tmp, 'gelu.bin');
  const r = spawnSync(tool, ['--gelu', out], { encoding: 'utf8' });
  if (!check('plan_dump --gelu: the CPU path\'s GELU table and tanhf samples', r.status === 0, r.stderr)) return;
  const ref = fs.readFileSync(out);
  const N = 1 << 20;
  const table = new Uint16Array(ref.buffer, ref.byteOffset, 65536), tanhs = new Float32Array(ref.buffer.slice(ref.byteOffset + 131072, ref.byteOffset + 131072 + 4 * N));
  const exps = new Float32Array(ref.buffer.slice(ref.byteOffset + 131072 + 4 * N)); // (x, expf(x)) pairs
  const read = (f) => fs.readFileSync(path.join(ROOT, 'src/gpu', f), 'utf8');
  const code = `const WG: u32 = 256u;\n${read('common.wgsl')}${read('exactmath.wgsl')}${read('gelu.wgsl')}
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@group(0) @binding(1) var<storage, read> ex: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x + id.y * 65536u;
  if (i < 65536u) { o[i] = gelu_f16(unpack2x16float(i).x); }
  if (i < ${N}u) { o[65536u + i] = tanh_libm(bitcast<f32>(i * 1103u)); }
  if (i < ${N}u) { o[65536u + ${N}u + i] = expf_libm(ex[2u * i]); }
}`;
  const U = GPUBufferUsage, bytes = (65536 + 2 * N) * 4;
  const buf = device.createBuffer({ size: bytes, usage: U.STORAGE | U.COPY_SRC });
  const exBuf = device.createBuffer({ size: exps.byteLength, usage: U.STORAGE | U.COPY_DST });
  device.queue.writeBuffer(exBuf, 0, exps);
  const rb = device.createBuffer({ size: bytes, usage: U.MAP_READ | U.COPY_DST });
  const module = device.createShaderModule({ code });
  const pl = await held(device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } }));
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pl);
  pass.setBindGroup(0, device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }, { binding: 1, resource: { buffer: exBuf } }] }));
  pass.dispatchWorkgroups(256, N / 65536);
  pass.end();
  enc.copyBufferToBuffer(buf, 0, rb, 0, bytes);
  device.queue.submit([enc.finish()]);
  await held(rb.mapAsync(GPUMapMode.READ));
  const got = new Float32Array(rb.getMappedRange().slice(0));
  rb.unmap();
  buf.destroy();
  rb.destroy();
  exBuf.destroy();
  let bad = 0, first = '';
  for (let h = 0; h < 65536; h++) {
    const x = f16(h);
    if (!(Math.abs(x) < 10)) continue; // (outside: 0 or x itself, no table)
    const want = f16(table[h]);
    if (!Object.is(got[h], want) && !(got[h] === 0 && want === 0)) { bad++; first ||= `f16 ${h.toString(16)} (${x}): ${got[h]} vs ${want}`; }
  }
  check(`gelu.wgsl: GEGLU's gate equals the CPU path's f16 GELU table for every f16 input below 10 in magnitude (${bad} differ)`, bad === 0, first);
  bad = 0;
  first = '';
  for (let i = 0; i < N; i++) {
    // (subnormal inputs aside: SwiftShader flushes them to zero)
    if (i * 1103 >= 0x800000 && !Object.is(got[65536 + i], tanhs[i])) { bad++; first ||= `bits ${(i * 1103).toString(16)}: ${got[65536 + i]} vs ${tanhs[i]}`; }
  }
  check(`exactmath.wgsl: tanh_libm equals libm's tanhf on ${N} floats (${bad} differ)`, bad === 0, first);
  // expf_libm: glibc's table and cubic in f32 pairs (48 bits where glibc
  // has double's 53), so results within ~2^-45 of a halfway point may round
  // the other way: 1 of these 2^20 does (x = -52.452072, 1.25497239828 *
  // 2^-76 before rounding); where a correctly rounded exp differs from
  // glibc's in ~650 and the f32 exp used before in ~50000. Results that
  // would be subnormal aside (SwiftShader flushes them; attention's sums do not mind).
  bad = 0;
  first = '';
  for (let i = 0; i < N; i++) {
    const x = exps[2 * i], want = exps[2 * i + 1], g = got[65536 + N + i];
    if (want >= 2 ** -126 && !Object.is(g, want)) { bad++; first ||= `x ${x}: ${g} vs ${want}`; }
  }
  check(`exactmath.wgsl: expf_libm equals libm's expf on ${N} floats in [-104, 0] but at most 2 (${bad} differ)`, bad <= 2, first);
}
if (process.argv.length <= 2 || process.argv.includes('gelu')) await geluCheck();

for (const [name, flags] of runs.filter(([n]) => n !== 'gelu')) {
  // (a path ending in .gguf: that file)
  const direct = name === 'k256' || name.endsWith('.gguf');
  const fx = direct ? { name } : fixtures.get(name);
  if (!check(`${name}: fixture exists`, !!fx && (name !== 'k256' && direct ? fs.existsSync(name) : true), 'unknown fixture')) continue;
  const file = name === 'k256' ? k256Model() : direct ? name : ensureModel(fx);
  const out = path.join(tmp, `${path.basename(name)}${flags.join('').replace(/[^a-z0-9-]/gi, '')}`);
  const label = `${name}${flags.length ? ` ${flags.join(' ')}` : ''}`;
  const r = spawnSync(tool, [file, out, '--limits', limits, ...flags], { encoding: 'utf8' });
  if (!check(`${label}: plan dumped`, r.status === 0, r.stderr)) continue;
  const plan = JSON.parse(fs.readFileSync(`${out}.json`, 'utf8'));
  const bin = fs.readFileSync(`${out}.bin`);
  const U = GPUBufferUsage;
  const buffers = plan.buffers.map((b) => (b.size ? device.createBuffer({
    size: b.size, usage: b.usage === 1 ? U.UNIFORM | U.COPY_DST : U.STORAGE | U.COPY_DST | U.COPY_SRC,
  }) : null));
  for (const w of plan.init) device.queue.writeBuffer(buffers[w.id], w.offset, bin, w.at, w.len);
  check(`${label}: kernel cases made (${plan.cases.length})`, plan.cases.length >= 6, `${plan.cases.length}`);
  if (flags.includes('--max-binding')) check(`${label}: the logits in slices (${plan.head_slices})`, plan.head_slices > 1, `${plan.head_slices}`);
  for (const c of plan.cases) {
    const t0 = performance.now();
    let res;
    try { res = await runCase(plan, bin, c, buffers); } catch (e) { res = { rel: Infinity, error: e.message }; }
    check(`${label}: ${c.name} = the CPU kernels (max error ${res.rel.toExponential(1)} of the largest output, tolerance ${c.tol}; ${((performance.now() - t0) / 1000).toFixed(1)}s)`,
      res.rel <= c.tol, res.error || `output region ${res.region}, value ${res.at}: ${res.got} vs ${res.want}`);
  }
  for (const b of buffers) b?.destroy();
  fs.rmSync(`${out}.json`);
  fs.rmSync(`${out}.bin`);
}
fs.rmSync(tmp, { recursive: true, force: true });
done();
