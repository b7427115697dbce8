// What the WebGPU adapter offers for cooperative matrices (issue 18: prefill on the tensor cores).
// For Dawn's flags [] and [allow_unsafe_apis] (Chromium's --enable-unsafe-webgpu): the adapter's
// features and subgroup-matrix configurations; then, where the feature is offered, for each
// configuration: does a one-tile product compile (both WGSL spellings Dawn has used), is it exact
// against the CPU, and how fast a plain GEMM on it runs (operands read from storage, no shared
// memory), beside the packed-int8 dot (DP4A) that hearth's prefill uses today.
// Prints JSON lines. usage: node tools/gpu_probe_sgmat.mjs [path/to/webgpu/index.js]
const wg = await import(process.argv[2] ?? 'webgpu');
Object.assign(globalThis, wg.globals);
const out = (o) => console.log(JSON.stringify(o));

const FEATURE = 'chromium-experimental-subgroup-matrix';
let unsafe = null;
for (const flags of [[], ['enable-dawn-features=allow_unsafe_apis']]) {
  const gpu = wg.create(flags);
  const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!a) { out({ flags, adapter: null }); continue; }
  const cfgs = a.info?.subgroupMatrixConfigs ? [...a.info.subgroupMatrixConfigs].map((c) => (
    { componentType: c.componentType, resultComponentType: c.resultComponentType, M: c.M, N: c.N, K: c.K })) : null;
  out({ flags, device: a.info?.device, features: [...a.features].sort(), subgroupMatrixConfigs: cfgs,
    subgroupMinSize: a.info?.subgroupMinSize, subgroupMaxSize: a.info?.subgroupMaxSize });
  if (flags.length) unsafe = { gpu, a, cfgs };
}
if (!unsafe || !unsafe.a.features.has(FEATURE)) { out({ result: `no ${FEATURE}` }); process.exit(0); }

const { a, cfgs } = unsafe;
const want = [FEATURE, 'subgroups', 'shader-f16', 'timestamp-query'].filter((f) => a.features.has(f));
const device = await a.requestDevice({ requiredFeatures: want, requiredLimits: {
  maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize, maxBufferSize: a.limits.maxBufferSize } });
out({ device_features: [...device.features].sort() });
const SG = a.info.subgroupMaxSize || 32;

const wgslType = { f16: 'f16', f32: 'f32', i8: 'i8', u8: 'u8', i32: 'i32', u32: 'u32' };
const storeType = (t) => (t === 'i8' || t === 'u8' ? (t === 'i8' ? 'i32' : 'u32') : t);
const bytes = { f16: 2, f32: 4, i8: 1, u8: 1, i32: 4, u32: 4 };

// WGSL for C[MxN] += A[MxK] * B[KxN] over tiles; each subgroup owns TMxTN tiles of the result.
function gemm(c, syntax, TM, TN) {
  const ct = wgslType[c.componentType], rt = wgslType[c.resultComponentType];
  const L = `subgroup_matrix_left<${ct}, ${c.K}, ${c.M}>`, R = `subgroup_matrix_right<${ct}, ${c.N}, ${c.K}>`;
  const Res = `subgroup_matrix_result<${rt}, ${c.N}, ${c.M}>`;
  const load = (T, p, off, stride) => syntax === 'new'
    ? `subgroupMatrixLoad<${T}, row_major>(${p}, ${off}, ${stride})` : `subgroupMatrixLoad<${T}>(${p}, ${off}, false, ${stride})`;
  const store = (p, off, v, stride) => syntax === 'new'
    ? `subgroupMatrixStore<row_major>(${p}, ${off}, ${v}, ${stride})` : `subgroupMatrixStore(${p}, ${off}, ${v}, false, ${stride})`;
  const acc = [];
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) acc.push(`acc${i}_${j}`);
  return `enable chromium_experimental_subgroup_matrix;
${ct === 'f16' || rt === 'f16' ? 'enable f16;' : ''}
struct P { m: u32, n: u32, k: u32 }
@group(0) @binding(0) var<storage, read> A: array<${storeType(ct)}>;
@group(0) @binding(1) var<storage, read> B: array<${storeType(ct)}>;
@group(0) @binding(2) var<storage, read_write> C: array<${rt}>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${SG})
fn main(@builtin(workgroup_id) g: vec3u) {
  let r0 = g.y * ${TM * c.M}u;
  let c0 = g.x * ${TN * c.N}u;
${acc.map((n) => `  var ${n} = ${Res}();`).join('\n')}
  for (var k = 0u; k < p.k; k += ${c.K}u) {
${Array.from({ length: TM }, (_, i) => `    let a${i} = ${load(L, '&A', `(r0 + ${i * c.M}u) * p.k + k`, 'p.k')};`).join('\n')}
${Array.from({ length: TN }, (_, j) => `    let b${j} = ${load(R, '&B', `k * p.n + c0 + ${j * c.N}u`, 'p.n')};`).join('\n')}
${acc.map((n, x) => `    ${n} = subgroupMatrixMultiplyAccumulate(a${Math.floor(x / TN)}, b${x % TN}, ${n});`).join('\n')}
  }
${acc.map((n, x) => `  ${store('&C', `(r0 + ${Math.floor(x / TN) * c.M}u) * p.n + c0 + ${(x % TN) * c.N}u`, n, 'p.n')};`).join('\n')}
}`;
}

// Operand bytes for small integers, exact in every component type.
function fill(type, count, seed) {
  const v = new Int8Array(count);
  for (let i = 0; i < count; i++) v[i] = ((i * 7 + seed * 13) % 11) - 5;
  if (type === 'i8') return v.buffer;
  if (type === 'u8') return Uint8Array.from(v, (x) => x + 5).buffer;
  if (type === 'f32') return Float32Array.from(v).buffer;
  if (type === 'i32') return Int32Array.from(v).buffer;
  if (type === 'f16') { const h = new Uint16Array(count); for (let i = 0; i < count; i++) h[i] = f16bits(v[i]); return h.buffer; }
  throw new Error(type);
}
function f16bits(x) { const f = new Float32Array([x]), u = new Uint32Array(f.buffer)[0]; if (x === 0) return 0;
  const s = (u >>> 16) & 0x8000, e = ((u >>> 23) & 0xff) - 127 + 15, m = (u >>> 13) & 0x3ff; return s | (e << 10) | m; }
const asNumbers = (type, buf) => type === 'i8' ? new Int8Array(buf) : type === 'u8' ? new Uint8Array(buf)
  : type === 'f32' ? new Float32Array(buf) : type === 'i32' ? new Int32Array(buf)
  : Float32Array.from(new Uint16Array(buf), (h) => { const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
    return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15); });

function buffer(data, usage) {
  const size = Math.max(16, Math.ceil(data.byteLength / 4) * 4);
  const b = device.createBuffer({ size, usage: usage | GPUBufferUsage.COPY_DST });
  const bytes = new Uint8Array(size);
  bytes.set(new Uint8Array(data));
  device.queue.writeBuffer(b, 0, bytes);
  return b;
}

// A compute pipeline from WGSL: { pipe }, or { errors } (the first 3 messages) where it does not compile.
async function compile(code) {
  device.pushErrorScope('validation');
  const mod = device.createShaderModule({ code });
  const info = await mod.getCompilationInfo();
  const errs = info.messages.filter((x) => x.type === 'error').map((x) => `${x.lineNum}:${x.linePos} ${x.message}`);
  let pipe = null;
  if (!errs.length) pipe = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: mod, entryPoint: 'main' } }).catch((e) => { errs.push(e.message); return null; });
  const ve = await device.popErrorScope();
  if (ve) errs.push(ve.message);
  return errs.length ? { errors: errs.slice(0, 3) } : { pipe };
}

// pipe with buffers bound at 0, 1, ...: dispatch(times) runs it `times` times over gx x gy workgroups
// (resolving when done); read(buf, size) copies a buffer back (an ArrayBuffer).
function bound(pipe, bufs, gx, gy) {
  const bind = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: bufs.map((b, i) => ({ binding: i, resource: { buffer: b } })) });
  return {
    dispatch(times) {
      const enc = device.createCommandEncoder();
      for (let t = 0; t < times; t++) {
        const pass = enc.beginComputePass(); pass.setPipeline(pipe); pass.setBindGroup(0, bind);
        pass.dispatchWorkgroups(gx, gy); pass.end();
      }
      device.queue.submit([enc.finish()]);
      return device.queue.onSubmittedWorkDone();
    },
    async read(buf, size) {
      const rd = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = device.createCommandEncoder(); enc.copyBufferToBuffer(buf, 0, rd, 0, size); device.queue.submit([enc.finish()]);
      await rd.mapAsync(GPUMapMode.READ);
      const data = rd.getMappedRange().slice(0);
      rd.unmap(); rd.destroy();
      return data;
    },
  };
}

async function run(c, syntax, m, n, k, TM, TN, reps) {
  const { pipe, errors } = await compile(gemm(c, syntax, TM, TN));
  if (errors) return { compiled: false, errors };
  const ct = c.componentType, rt = c.resultComponentType;
  const A = fill(ct, m * k, 1), B = fill(ct, k * n, 2);
  const bA = buffer(A, GPUBufferUsage.STORAGE), bB = buffer(B, GPUBufferUsage.STORAGE);
  const cBytes = m * n * bytes[rt];
  const bC = device.createBuffer({ size: cBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const bP = buffer(new Uint32Array([m, n, k, 0]).buffer, GPUBufferUsage.UNIFORM);
  const kern = bound(pipe, [bA, bB, bC, bP], n / (TN * c.N), m / (TM * c.M));
  await kern.dispatch(1);
  // Check a sample of outputs against the CPU (exact: small integers).
  const got = asNumbers(rt, await kern.read(bC, cBytes));
  const a = asNumbers(ct, A), b = asNumbers(ct, B);
  let bad = 0, checked = 0, firstBad = null;
  for (let s = 0; s < 512; s++) {
    const i = (s * 97) % m, j = (s * 131 + 7) % n;
    let want = 0; for (let x = 0; x < k; x++) want += a[i * k + x] * b[x * n + j];
    checked++;
    if (got[i * n + j] !== want) { bad++; firstBad ??= { i, j, got: got[i * n + j], want }; }
  }
  let ms = null;
  if (reps) { const t0 = performance.now(); await kern.dispatch(reps); ms = (performance.now() - t0) / reps; }
  for (const x of [bA, bB, bC, bP]) x.destroy();
  return { compiled: true, checked, bad, firstBad, ms, tops: ms ? +(2 * m * n * k / ms / 1e9).toFixed(1) : null };
}

for (const c of cfgs ?? []) {
  for (const syntax of ['new', 'old']) {
    const tile = await run(c, syntax, c.M, c.N, c.K, 1, 1, 0);
    out({ config: c, syntax, one_tile: tile });
    if (!tile.compiled) continue;
    // (SGMAT_GEMM=1: its offsets assume byte units for i8, which the blocked product below tests)
    for (const [TM, TN] of process.env.SGMAT_GEMM === '1' ? [[1, 1], [2, 2], [4, 2], [4, 4]] : []) {
      const S = 4096;
      out({ config: c, syntax, gemm: `${S}x${S}x${S}`, tiles_per_subgroup: `${TM}x${TN}`, ...(await run(c, syntax, S, S, S, TM, TN, 5)) });
    }
    break;
  }
}
out({ done: true });

// A product as prefill needs it: int8 blocks of 32 with a scale per block on both sides (Q8 input,
// quantized weights), C[t][r] = sum_b dx[t,b] dw[r,b] sum_{k in b} x[t,k] w[r,k], f32 out. K = 32
// is one block, so each block's integer tile goes through workgroup memory to be scaled (WGSL has
// no elementwise access to a result matrix). Offsets and strides of i8 matrices held in i32 arrays:
// which unit (byte or word) Dawn takes is found by trying (OU, SU: 1 = bytes, 4 = words).
function blocked(OU, SU, src) {
  const o = (e) => OU === 1 ? `(${e})` : `((${e}) / 4u)`, s = (e) => SU === 1 ? `${e}` : `(${e} / 4u)`;
  return `enable chromium_experimental_subgroup_matrix;
struct P { t: u32, r: u32, k: u32 }
@group(0) @binding(0) var<storage, read> X: array<i32>;
@group(0) @binding(1) var<storage, read> W: array<i32>;
@group(0) @binding(2) var<storage, read> DX: array<f32>;
@group(0) @binding(3) var<storage, read> DW: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
@group(0) @binding(5) var<uniform> p: P;
const BT = 64u;
const BR = 64u;
var<workgroup> sx: array<i32, 512>;
var<workgroup> sw: array<i32, 512>;
var<workgroup> sdx: array<f32, 64>;
var<workgroup> sdw: array<f32, 64>;
var<workgroup> scr: array<i32, 4096>;
@compute @workgroup_size(128)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) g: vec3u) {
  let sg = tid / 32u;
  let lane = tid % 32u;
  let t0 = g.y * BT;
  let r0 = g.x * BR;
  let st = (sg / 2u) * 32u;
  let sr = (sg % 2u) * 32u;
  var acc: array<f32, 32>;
  let nb = p.k / 32u;
  for (var b = 0u; b < nb; b++) {
    for (var i = 0u; i < 4u; i++) {
      let w = tid + 128u * i;
      sx[w] = X[((t0 + w / 8u) * p.k + b * 32u) / 4u + w % 8u];
      sw[w] = W[((r0 + w / 8u) * p.k + b * 32u) / 4u + w % 8u];
    }
    if (tid < 64u) { sdx[tid] = DX[(t0 + tid) * nb + b]; sdw[tid] = DW[(r0 + tid) * nb + b]; }
    workgroupBarrier();
    for (var i = 0u; i < 2u; i++) {
      let a = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&${src === 'wg' ? 'sx' : 'X'}, ${o(src === 'wg' ? '(st + 16u * i) * 32u' : '(t0 + st + 16u * i) * p.k + b * 32u')}, ${s(src === 'wg' ? '32u' : 'p.k')});
      for (var j = 0u; j < 2u; j++) {
        let m = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&${src === 'wg' ? 'sw' : 'W'}, ${o(src === 'wg' ? '(sr + 16u * j) * 32u' : '(r0 + sr + 16u * j) * p.k + b * 32u')}, ${s(src === 'wg' ? '32u' : 'p.k')});
        var c = subgroup_matrix_result<i32, 16, 16>();
        c = subgroupMatrixMultiplyAccumulate(a, m, c);
        subgroupMatrixStore<row_major>(&scr, (sg * 4u + i * 2u + j) * 256u, c, 16u);
      }
    }
    workgroupBarrier();
    for (var q = 0u; q < 32u; q++) {
      let e = lane + 32u * q;
      let tile = e / 256u;
      let tt = st + (tile / 2u) * 16u + (e % 256u) / 16u;
      let rr = sr + (tile % 2u) * 16u + e % 16u;
      acc[q] += f32(scr[sg * 1024u + e]) * (sdx[tt] * sdw[rr]);
    }
    workgroupBarrier();
  }
  for (var q = 0u; q < 32u; q++) {
    let e = lane + 32u * q;
    let tile = e / 256u;
    let tt = st + (tile / 2u) * 16u + (e % 256u) / 16u;
    let rr = sr + (tile % 2u) * 16u + e % 16u;
    C[(t0 + tt) * p.r + r0 + rr] = acc[q];
  }
}`;
}

async function runBlocked(code, T, R, K, reps) {
  const { pipe, errors } = await compile(code);
  if (errors) return { compiled: false, errors };
  const X = new Int8Array(T * K), Wt = new Int8Array(R * K), nb = K / 32;
  for (let i = 0; i < X.length; i++) X[i] = ((i * 7 + 3) % 255) - 127;
  for (let i = 0; i < Wt.length; i++) Wt[i] = ((i * 13 + 5) % 15) - 8;
  const DX = Float32Array.from({ length: T * nb }, (_, i) => 1 + (i % 5) / 4), DW = Float32Array.from({ length: R * nb }, (_, i) => 0.5 + (i % 7) / 8);
  const bufs = [X.buffer, Wt.buffer, DX.buffer, DW.buffer].map((d) => buffer(d, GPUBufferUsage.STORAGE));
  const cBytes = T * R * 4;
  const bC = device.createBuffer({ size: cBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const bP = buffer(new Uint32Array([T, R, K, 0]).buffer, GPUBufferUsage.UNIFORM);
  const all = [...bufs, bC, bP];
  const kern = bound(pipe, all, R / 64, T / 64);
  await kern.dispatch(1);
  const got = new Float32Array(await kern.read(bC, cBytes));
  let bad = 0, firstBad = null;
  for (let s = 0; s < 256; s++) {
    const t = (s * 97) % T, r = (s * 131 + 7) % R;
    let want = 0;
    for (let b = 0; b < nb; b++) {
      let isum = 0;
      for (let x = 0; x < 32; x++) isum += X[t * K + b * 32 + x] * Wt[r * K + b * 32 + x];
      want += isum * (DX[t * nb + b] * DW[r * nb + b]);
    }
    if (Math.abs(got[t * R + r] - want) > 1e-4 * Math.max(1, Math.abs(want))) { bad++; firstBad ??= { t, r, got: got[t * R + r], want }; }
  }
  let ms = null;
  if (reps && !bad) { const t0 = performance.now(); await kern.dispatch(reps); ms = (performance.now() - t0) / reps; }
  for (const x of all) x.destroy();
  return { compiled: true, bad, firstBad, ms, tops: ms ? +(2 * T * R * K / ms / 1e9).toFixed(1) : null };
}

if (cfgs?.some((c) => c.componentType === 'i8' && c.M === 16 && c.N === 16 && c.K === 32)) {
  let found = null;
  for (const src of ['wg', 'storage']) {
    for (const [OU, SU] of [[1, 1], [4, 4], [4, 1], [1, 4]]) {
      const r = await runBlocked(blocked(OU, SU, src), 128, 128, 256, 0);
      out({ blocked: 'units', src, offset_unit: OU, stride_unit: SU, ...r });
      if (r.compiled && !r.bad) { found ??= {}; found[src] ??= [OU, SU]; }
    }
  }
  for (const src of Object.keys(found ?? {})) {
    const [OU, SU] = found[src];
    for (const [T, R, K, what] of [[512, 3072, 3072, 'Phi-3 Wo 512 tokens'], [512, 16384, 3072, 'Phi-3 gate+up'], [512, 3072, 8192, 'Phi-3 down'], [4096, 4096, 4096, 'square']]) {
      out({ blocked: what, src, T, R, K, ...(await runBlocked(blocked(OU, SU, src), T, R, K, 10)) });
    }
  }
}
out({ done_blocked: true });
