// Float arithmetic rounded as the CPU path rounds it, from f32 operations
// only (a GPU's fma() need not be fused, its division and tanh may be ulps
// off): fma_once, div_cr, and tanh_libm / expm1_libm as glibc 2.36 computes tanhf and
// expm1f (fdlibm's float algorithms, which ggml's GELU table and the
// soft-capping reach through libm's tanhf; the port agreed with glibc's
// tanhf on every finite float). Used by exact attention (attend.wgsl), the
// GEGLU gate (gelu.wgsl) and the final soft-capping (mv_out.wgsl).
// fma(a, b, c) rounded once, from f32 operations only: WGSL's fma() need
// not be fused (SwiftShader's is a product and a sum). Dekker's product
// a * b = p + pl (every partial product exact, so contraction keeps it),
// TwoSum c + p = t + tl, tl + pl rounded to odd, one final rounding
// (Boldo and Melquiond, IEEE Trans. Computers 57(4), 2008).
fn two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  let bb = s - a;
  return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}
fn split12(a: f32) -> vec2<f32> {
  let t = 4097.0 * a;
  let h = t - (t - a);
  return vec2<f32>(h, a - h);
}
fn fma_once(a: f32, b: f32, c: f32) -> f32 {
  let p = a * b;
  let x = split12(a);
  let y = split12(b);
  let pl = ((x.x * y.x - p) + x.x * y.y + x.y * y.x) + x.y * y.y;
  // (p first: with a constant c first, SwiftShader folded (c + p) - c to p)
  let t = two_sum(p, c);
  let w = two_sum(t.y, pl);
  var v = w.x;
  if (w.y != 0.0) {
    let bits = bitcast<u32>(v);
    if ((bits & 1u) == 0u) { v = bitcast<f32>(select(bits - 1u, bits + 1u, (w.y > 0.0) == (v > 0.0))); }
  }
  return t.x + v;
}

// ggml_v_expf (ggml_poly_expf in src/cpu/activation.c: exact attention's
// tiled softmax weights, exact mode's SiLU), FMAs rounded once; for x up to
// 192 ln 2 (callers keep larger x out: their results are then known).
fn poly_expf(x: f32) -> f32 {
  let r = 0x1.8p23f;
  let z = fma_once(x, 0x1.715476p+0f, r);
  let n = z - r;
  let b = fma_once(-n, 0x1.7f7d1cp-20f, fma_once(-n, 0x1.62e4p-1f, x));
  let u = b * b;
  let j = fma_once(fma_once(fma_once(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fma_once(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                   fma_once(0x1.ffffecp-1f, b, 1.0f));
  if (n < -192.0) { return 0.0; }
  // (two steps: each scale a normal float up to 2^192)
  let k = i32(n);
  return ldexp(ldexp(j, k / 2), k - k / 2);
}

// glibc's expf (sysdeps/ieee754/flt-32/e_expf.c, ARM's optimized
// routines; wasi-libc's musl has the same): x = (k + r) ln2 / 32, a table
// of 2^(i/32) and a cubic in r, in double, rounded to float once. Here the
// same table and cubic in pairs of f32 (hi + lo, about 48 bits), so that
// the one rounding lands where glibc's does but for results within ~2^-45
// of a float halfway point (a correctly rounded exp differs from glibc's
// in about 1 of 1600 floats, the f32 approximation used before in 1 of 20:
// each an ulp in a softmax weight that moved attention's sum). For
// -103.97 < x <= 88 (callers pass x <= 0; below, 0 as glibc's underflow).
const EXPF_INVLN2N = vec2<u32>(0x4238aa3bu, 0x35257060u);
const EXPF_C0 = vec2<u32>(0x35e357c2u, 0x29391239u);
const EXPF_C1 = vec2<u32>(0x3975fe73u, 0xacf053b1u);
const EXPF_C2 = vec2<u32>(0x3cb17218u, 0xae73ad2au);
const EXPF_T = array<vec2<u32>, 32>(
  vec2<u32>(0x3f800000u, 0x0u), vec2<u32>(0x3f82cd87u, 0xb34ea7a9u),
  vec2<u32>(0x3f85aac3u, 0x334f9891u), vec2<u32>(0x3f88980fu, 0xb37eda4bu),
  vec2<u32>(0x3f8b95c2u, 0xb260aba1u), vec2<u32>(0x3f8ea43au, 0xb3697465u),
  vec2<u32>(0x3f91c3d3u, 0x33675624u), vec2<u32>(0x3f94f4f0u, 0xb32e0212u),
  vec2<u32>(0x3f9837f0u, 0x33231b71u), vec2<u32>(0x3f9b8d3au, 0xb30c5563u),
  vec2<u32>(0x3f9ef532u, 0x33412342u), vec2<u32>(0x3fa27043u, 0x30c3125au),
  vec2<u32>(0x3fa5fed7u, 0xb32c9d5eu), vec2<u32>(0x3fa9a15bu, 0xb3162b08u),
  vec2<u32>(0x3fad583fu, 0xb22deaf6u), vec2<u32>(0x3fb123f6u, 0xb37c5aa8u),
  vec2<u32>(0x3fb504f3u, 0x32cfe77au), vec2<u32>(0x3fb8fbafu, 0x330ec5f7u),
  vec2<u32>(0x3fbd08a4u, 0xb3414fe8u), vec2<u32>(0x3fc12c4du, 0xb2d6663eu),
  vec2<u32>(0x3fc5672au, 0x320aa837u), vec2<u32>(0x3fc9b9beu, 0xb37323a2u),
  vec2<u32>(0x3fce248cu, 0x3228fc24u), vec2<u32>(0x3fd2a81eu, 0xb35c1daau),
  vec2<u32>(0x3fd744fdu, 0xb2d4a58au), vec2<u32>(0x3fdbfbb8u, 0xb3504a1cu),
  vec2<u32>(0x3fe0ccdfu, 0xb21eab59u), vec2<u32>(0x3fe5b907u, 0xb2441be6u),
  vec2<u32>(0x3feac0c7u, 0xb24116deu), vec2<u32>(0x3fefe4bau, 0xb348464au),
  vec2<u32>(0x3ff5257du, 0x32292436u), vec2<u32>(0x3ffa83b3u, 0xb2923758u));

fn expf_pair(b: vec2<u32>) -> vec2<f32> { return vec2<f32>(bitcast<f32>(b.x), bitcast<f32>(b.y)); }
// a * b exactly as hi + lo (Dekker; every partial product exact)
fn two_prod(a: f32, b: f32) -> vec2<f32> {
  let p = a * b;
  let x = split12(a);
  let y = split12(b);
  return vec2<f32>(p, ((x.x * y.x - p) + x.x * y.y + x.y * y.x) + x.y * y.y);
}
// hi + lo with |hi| >= |lo| renormalized (hi the rounded sum)
fn fast_two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  return vec2<f32>(s, b - (s - a));
}
fn pair_mul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let p = two_prod(a.x, b.x);
  return fast_two_sum(p.x, p.y + (a.x * b.y + a.y * b.x));
}
fn pair_add(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let s = two_sum(a.x, b.x);
  return fast_two_sum(s.x, s.y + (a.y + b.y));
}
fn expf_libm(x: f32) -> f32 {
  if (x < -103.97208) { return 0.0; }
  let z = pair_mul(expf_pair(EXPF_INVLN2N), vec2<f32>(x, 0.0)); // x * 32 / ln2
  let kd = round(z.x);
  let r = fast_two_sum(z.x - kd, z.y); // (exact difference: kd is z.x's nearest integer)
  let k = i32(kd);
  let r2 = pair_mul(r, r);
  // C2 r + C1 r^2 + C0 r^3 (glibc: (C0 r + C1) r^2 + (C2 r + 1))
  var w = pair_add(pair_mul(expf_pair(EXPF_C2), r), pair_mul(expf_pair(EXPF_C1), r2));
  w = pair_add(w, vec2<f32>(bitcast<f32>(EXPF_C0.x) * r2.x * r.x, 0.0));
  let y = pair_add(w, vec2<f32>(1.0, 0.0)); // (the constant second: see fma_once)
  let t = expf_pair(EXPF_T[u32(k) & 31u]);
  let v = pair_mul(y, t);
  // 2^(k >> 5) in two steps (each a normal float)
  let e = k >> 5u;
  return ldexp(ldexp(v.x, e / 2), e - e / 2);
}

// a / b rounded once (WGSL's division may be 2.5 ulps off; SwiftShader's
// was seen an ulp off): the quotient corrected by its exact remainder.
fn div_cr(a: f32, b: f32) -> f32 {
  let q = a / b;
  return q + fma_once(-q, b, a) / b;
}

// glibc's expm1f (sysdeps/ieee754/flt-32/s_expm1f.c) for |x| < 27 ln2 or x < 0.
fn expm1_libm(x_in: f32) -> f32 {
  var x = x_in;
  var hx = bitcast<u32>(x);
  let neg = (hx & 0x80000000u) != 0u;
  hx &= 0x7fffffffu;
  if (hx >= 0x4195b844u && neg) { return -1.0; }
  var k = 0i;
  var c = 0.0;
  if (hx > 0x3eb17218u) {
    var hi: f32;
    var lo: f32;
    if (hx < 0x3f851592u) {
      if (!neg) { hi = x - 6.9313812256e-01; lo = 9.0580006145e-06; k = 1i; }
      else { hi = x + 6.9313812256e-01; lo = -9.0580006145e-06; k = -1i; }
    } else {
      k = i32(1.4426950216 * x + select(0.5, -0.5, neg));
      let t = f32(k);
      hi = x - t * 6.9313812256e-01;
      lo = t * 9.0580006145e-06;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (hx < 0x33000000u) {
    return x;
  }
  let hfx = 0.5 * x;
  let hxs = x * hfx;
  let r1 = 1.0 + hxs * (-3.3333335072e-02 + hxs * (1.5873016091e-03 + hxs * (-7.9365076090e-05 + hxs * (4.0082177293e-06 + hxs * -2.0109921195e-07))));
  var t = 3.0 - r1 * hfx;
  var e = hxs * div_cr(r1 - t, 6.0 - x * t);
  if (k == 0i) { return x - (x * e - hxs); }
  e = x * (e - c) - c;
  e -= hxs;
  if (k == -1i) { return 0.5 * (x - e) - 0.5; }
  if (k == 1i) {
    if (x < -0.25) { return -2.0 * (e - (x + 0.5)); }
    return 1.0 + 2.0 * (x - e);
  }
  var y: f32;
  if (k <= -2i || k > 56i) {
    y = 1.0 - (e - x);
    return bitcast<f32>(bitcast<u32>(y) + (u32(k) << 23u)) - 1.0;
  }
  if (k < 23i) {
    t = bitcast<f32>(0x3f800000u - (0x1000000u >> u32(k)));
    y = t - (e - x);
  } else {
    t = bitcast<f32>(u32(0x7f - k) << 23u);
    y = x - (e + t);
    y += 1.0;
  }
  return bitcast<f32>(bitcast<u32>(y) + (u32(k) << 23u));
}

// glibc's tanhf (sysdeps/ieee754/flt-32/s_tanhf.c), for finite x.
fn tanh_libm(x: f32) -> f32 {
  let ix = bitcast<u32>(x) & 0x7fffffffu;
  var z = 1.0;
  if (ix < 0x41b00000u) {
    if (ix < 0x24000000u) { return x * (1.0 + x); }
    if (ix >= 0x3f800000u) {
      z = 1.0 - div_cr(2.0, expm1_libm(2.0 * abs(x)) + 2.0);
    } else {
      let t = expm1_libm(-2.0 * abs(x));
      z = div_cr(-t, t + 2.0);
    }
  }
  return select(z, -z, x < 0.0);
}
