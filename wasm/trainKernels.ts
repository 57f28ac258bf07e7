// Elementwise kernels of the exact LNN loss gradient (src/train/fast/lnnLossGradient.ts), float32, wasm SIMD.
// AssemblyScript; compiled by scripts/build-wasm.mjs into src/generated/trainKernelsWasm.ts.
//
// Every pointer is a byte offset into this module's memory, 16-byte aligned; every row length `h` may be
// any width (the last h % 4 entries of a row take the same vector path on one lane). Layouts follow
// lnnLossGradient: B-row blocks, row-major [B, h]; tangent blocks direction-major, (i·B + b)·h; per-state
// coefficients [B, k]; the Hessian [B, k, k] float64.

/** First free byte after the module's static data: the arena starts here. */
export function heapBase(): usize {
  return __heap_base;
}

// ---- vector maths -------------------------------------------------------------------------------------

const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

/** e^x for x ≤ 0 (clamped at −87), float32 accuracy: x = k ln2 + r, e^r by degree 6, 2^k by exponent bits. */
// @ts-ignore: decorator
@inline
function expNonPositive(x: v128): v128 {
  const xc = f32x4.max(x, f32x4.splat(-87.0));
  const kf = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(kf, f32x4.splat(LN2_HI))), f32x4.mul(kf, f32x4.splat(LN2_LO)));
  let p = f32x4.add(f32x4.splat(1.0 / 120.0), f32x4.mul(r, f32x4.splat(1.0 / 720.0)));
  p = f32x4.add(f32x4.splat(1.0 / 24.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0 / 6.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(0.5), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0), f32x4.mul(r, p));
  const bits = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(kf), i32x4.splat(127)), 23);
  return f32x4.mul(p, bits);
}

/** log(1 + t) for t in [0, 1]: 2 atanh(s), s = t / (2 + t) ≤ 1/3, odd series to s¹³ (relative error < 2e-8). */
// @ts-ignore: decorator
@inline
function log1pUnit(t: v128): v128 {
  const s = f32x4.div(t, f32x4.add(f32x4.splat(2.0), t));
  const x = f32x4.mul(s, s);
  let p = f32x4.add(f32x4.splat(1.0 / 11.0), f32x4.mul(x, f32x4.splat(1.0 / 13.0)));
  p = f32x4.add(f32x4.splat(1.0 / 9.0), f32x4.mul(x, p));
  p = f32x4.add(f32x4.splat(1.0 / 7.0), f32x4.mul(x, p));
  p = f32x4.add(f32x4.splat(1.0 / 5.0), f32x4.mul(x, p));
  p = f32x4.add(f32x4.splat(1.0 / 3.0), f32x4.mul(x, p));
  p = f32x4.add(f32x4.splat(1.0), f32x4.mul(x, p));
  return f32x4.mul(f32x4.add(s, s), p);
}

// @ts-ignore: decorator
@inline
function ld(p: usize): v128 {
  return v128.load(p);
}

// @ts-ignore: decorator
@inline
function st(p: usize, v: v128): void {
  v128.store(p, v);
}

/** One row segment of `n` lanes (1 … 4) as a vector: lanes past `n` read as 0. */
// @ts-ignore: decorator
@inline
function ldn(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Store the first `n` lanes (1 … 4) of `v` at `p`. */
// @ts-ignore: decorator
@inline
function stn(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Lanes per step at row offset `w` of a row of `h`. */
// @ts-ignore: decorator
@inline
function lanes(w: i32, h: i32): i32 {
  return min(4, h - w);
}

// ---- kernels ------------------------------------------------------------------------------------------

/**
 * a = σ(z + bias) (0: softplus, 1: tanh) and σ′, σ″, σ‴ for the B primal rows of Z, and the k·B tangent rows
 * of `next` = σ′ ⊙ Ż. `next` holds [a; tangents] ((1 + k)·B rows of h).
 */
export function activate(
  act: i32,
  Z: usize,
  bias: usize,
  B: i32,
  h: i32,
  k: i32,
  next: usize,
  s1: usize,
  s2: usize,
  s3: usize,
): void {
  const block = (<usize>B * <usize>h) << 2;
  const one = f32x4.splat(1.0);
  const two = f32x4.splat(2.0);
  const zero = f32x4.splat(0.0);
  for (let b = 0; b < B; b++) {
    const row = (<usize>b * <usize>h) << 2;
    for (let w = 0; w < h; w += 4) {
      const n = lanes(w, h);
      const e = row + (<usize>w << 2);
      const z = f32x4.add(ldn(Z + e, n), ldn(bias + (<usize>w << 2), n));
      let a: v128, d1: v128, d2: v128, d3: v128;
      if (act == 0) {
        // softplus(z) = max(z, 0) + log1p(e^{−|z|}); σ′ = sigmoid(z).
        const t = expNonPositive(f32x4.neg(f32x4.abs(z)));
        const pos = f32x4.ge(z, zero);
        const p = f32x4.div(v128.bitselect(one, t, pos), f32x4.add(one, t));
        a = f32x4.add(f32x4.max(z, zero), log1pUnit(t));
        d1 = p;
        d2 = f32x4.mul(p, f32x4.sub(one, p));
        d3 = f32x4.mul(d2, f32x4.sub(one, f32x4.add(p, p)));
      } else {
        let t = f32x4.splat(0);
        t = f32x4.replace_lane(t, 0, Mathf.tanh(f32x4.extract_lane(z, 0)));
        t = f32x4.replace_lane(t, 1, Mathf.tanh(f32x4.extract_lane(z, 1)));
        t = f32x4.replace_lane(t, 2, Mathf.tanh(f32x4.extract_lane(z, 2)));
        t = f32x4.replace_lane(t, 3, Mathf.tanh(f32x4.extract_lane(z, 3)));
        const tt = f32x4.mul(t, t);
        a = t;
        d1 = f32x4.sub(one, tt);
        d2 = f32x4.mul(f32x4.mul(f32x4.splat(-2.0), t), d1);
        d3 = f32x4.mul(d1, f32x4.sub(f32x4.mul(f32x4.splat(4.0), tt), f32x4.mul(two, d1)));
      }
      stn(next + e, a, n);
      stn(s1 + e, d1, n);
      stn(s2 + e, d2, n);
      stn(s3 + e, d3, n);
      for (let i = 1; i <= k; i++) {
        const o = e + <usize>i * block;
        stn(next + o, f32x4.mul(d1, ldn(Z + o, n)), n);
      }
    }
  }
}

/**
 * δ = ḡ σ′, c = ḡ σ″, and the Hessian block of this layer, H_b += Ż_bᵀ diag(c_b) Ż_b, for the entries
 * the solve reads: the n × n velocity block and the column n (u direction) above it (k = n + 1; H float64,
 * the symmetric partner written too).
 */
export function curvatureHessian(
  G: usize,
  s1: usize,
  s2: usize,
  Zd: usize,
  B: i32,
  h: i32,
  k: i32,
  delta: usize,
  c: usize,
  H: usize,
): void {
  const block = (<usize>B * <usize>h) << 2;
  for (let b = 0; b < B; b++) {
    const row = (<usize>b * <usize>h) << 2;
    for (let w = 0; w < h; w += 4) {
      const n = lanes(w, h);
      const e = row + (<usize>w << 2);
      const g = ldn(G + e, n);
      stn(delta + e, f32x4.mul(g, ldn(s1 + e, n)), n);
      stn(c + e, f32x4.mul(g, ldn(s2 + e, n)), n);
    }
    const hb = H + ((<usize>b * <usize>k * <usize>k) << 3);
    for (let i = 0; i < k - 1; i++) {
      const ri = Zd + <usize>i * block + row;
      for (let j = i; j < k; j++) {
        const rj = Zd + <usize>j * block + row;
        let acc = f32x4.splat(0);
        for (let w = 0; w < h; w += 4) {
          const n = lanes(w, h);
          const o = <usize>w << 2;
          acc = f32x4.add(acc, f32x4.mul(f32x4.mul(ldn(ri + o, n), ldn(c + row + o, n)), ldn(rj + o, n)));
        }
        const s: f64 =
          <f64>f32x4.extract_lane(acc, 0) +
          <f64>f32x4.extract_lane(acc, 1) +
          <f64>f32x4.extract_lane(acc, 2) +
          <f64>f32x4.extract_lane(acc, 3);
        const pij = hb + ((<usize>(i * k + j)) << 3);
        store<f64>(pij, load<f64>(pij) + s);
        if (j != i) {
          const pji = hb + ((<usize>(j * k + i)) << 3);
          store<f64>(pji, load<f64>(pji) + s);
        }
      }
    }
  }
}

/**
 * Adjoints of one layer of the reverse sweep, with the two contractions R = ρ·Ż and A = ν·Ż (ρ, ν: [B, k]
 * float32): c̄ = −R A, ḡ̄ = δ̄ σ′ + c̄ σ″ (→ gb), z̄ = ḡ (δ̄ σ″ + c̄ σ‴) (→ zb).
 */
export function reverseAdjoint(
  dbar: usize,
  Zd: usize,
  rho: usize,
  nu: usize,
  s1: usize,
  s2: usize,
  s3: usize,
  G: usize,
  B: i32,
  h: i32,
  k: i32,
  R: usize,
  A: usize,
  gb: usize,
  zb: usize,
): void {
  const block = (<usize>B * <usize>h) << 2;
  for (let b = 0; b < B; b++) {
    const row = (<usize>b * <usize>h) << 2;
    const coef = (<usize>b * <usize>k) << 2;
    for (let w = 0; w < h; w += 4) {
      const n = lanes(w, h);
      const e = row + (<usize>w << 2);
      let r = f32x4.splat(0);
      let a = f32x4.splat(0);
      for (let j = 0; j < k; j++) {
        const zj = ldn(Zd + <usize>j * block + e, n);
        r = f32x4.add(r, f32x4.mul(f32x4.splat(load<f32>(rho + coef + (<usize>j << 2))), zj));
        a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(nu + coef + (<usize>j << 2))), zj));
      }
      stn(R + e, r, n);
      stn(A + e, a, n);
      const cbar = f32x4.neg(f32x4.mul(r, a));
      const db = ldn(dbar + e, n);
      const d2 = ldn(s2 + e, n);
      stn(gb + e, f32x4.add(f32x4.mul(db, ldn(s1 + e, n)), f32x4.mul(cbar, d2)), n);
      stn(
        zb + e,
        f32x4.mul(ldn(G + e, n), f32x4.add(f32x4.mul(db, d2), f32x4.mul(cbar, ldn(s3 + e, n)))),
        n,
      );
    }
  }
}

/**
 * Adjoints of one layer of the tangent and primal passes into Y = [z̄; Ż̄_0 … Ż̄_{k−1}] (B-row blocks):
 * Ż̄_i = −c (ρ_i A + ν_i R) + J̄_i σ′, z̄ = z̄_reverse + ā σ′ + Σ_i J̄_i Ż_i σ″. `AJ` = [ā; J̄] from the layer
 * above, or 0 at the top.
 */
export function tangentAdjoint(
  Zd: usize,
  s1: usize,
  s2: usize,
  c: usize,
  zb: usize,
  AJ: usize,
  rho: usize,
  nu: usize,
  R: usize,
  A: usize,
  B: i32,
  h: i32,
  k: i32,
  Y: usize,
): void {
  const block = (<usize>B * <usize>h) << 2;
  for (let b = 0; b < B; b++) {
    const row = (<usize>b * <usize>h) << 2;
    const coef = (<usize>b * <usize>k) << 2;
    for (let w = 0; w < h; w += 4) {
      const n = lanes(w, h);
      const e = row + (<usize>w << 2);
      const d1 = ldn(s1 + e, n);
      const d2 = ldn(s2 + e, n);
      const cc = f32x4.neg(ldn(c + e, n));
      const r = ldn(R + e, n);
      const a = ldn(A + e, n);
      let y0 = ldn(zb + e, n);
      if (AJ != 0) y0 = f32x4.add(y0, f32x4.mul(ldn(AJ + e, n), d1));
      for (let i = 0; i < k; i++) {
        const o = e + <usize>(i + 1) * block;
        const p = f32x4.splat(load<f32>(rho + coef + (<usize>i << 2)));
        const v = f32x4.splat(load<f32>(nu + coef + (<usize>i << 2)));
        let yi = f32x4.mul(cc, f32x4.add(f32x4.mul(p, a), f32x4.mul(v, r)));
        if (AJ != 0) {
          const jb = ldn(AJ + o, n);
          yi = f32x4.add(yi, f32x4.mul(jb, d1));
          y0 = f32x4.add(y0, f32x4.mul(f32x4.mul(jb, ldn(Zd + <usize>i * block + e, n)), d2));
        }
        stn(Y + o, yi, n);
      }
      stn(Y + e, y0, n);
    }
  }
}

/** out[w] += Σ_b src[b, w] over `rows` rows of `cols` (float32). */
export function columnSum(src: usize, rows: i32, cols: i32, out: usize): void {
  for (let w = 0; w < cols; w += 4) {
    const n = lanes(w, cols);
    let acc = f32x4.splat(0);
    let p = src + (<usize>w << 2);
    const stride = <usize>cols << 2;
    for (let b = 0; b < rows; b++) {
      acc = f32x4.add(acc, ldn(p, n));
      p += stride;
    }
    const o = out + (<usize>w << 2);
    stn(o, f32x4.add(ldn(o, n), acc), n);
  }
}

/** out [cols, rows] = Aᵀ for A [rows, cols] (blocked: both sides stay in cache). */
export function transpose(A: usize, rows: i32, cols: i32, out: usize): void {
  const T = 16;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const src = A + ((<usize>r * <usize>cols) << 2);
        for (let c = c0; c < c1; c++) {
          store<f32>(out + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(src + (<usize>c << 2)));
        }
      }
    }
  }
}

/** C [m, n] = A [m, kk] · B [kk, n] for a small inner dimension kk (the input layer's width). */
export function mmSmallK(A: usize, m: i32, kk: i32, Bm: usize, n: i32, C: usize): void {
  for (let r = 0; r < m; r++) {
    const a = A + ((<usize>r * <usize>kk) << 2);
    const c = C + ((<usize>r * <usize>n) << 2);
    for (let w = 0; w < n; w += 4) {
      const ln = lanes(w, n);
      let acc = f32x4.splat(0);
      for (let p = 0; p < kk; p++) {
        const ap = load<f32>(a + (<usize>p << 2));
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(ap), ldn(Bm + ((<usize>p * <usize>n + <usize>w) << 2), ln)));
      }
      stn(c + (<usize>w << 2), acc, ln);
    }
  }
}

/** C [m, n] = A [m, kk] · B [kk, n] for n ≤ 4 (a product down to the input layer's width). */
export function mmSmallN(A: usize, m: i32, kk: i32, Bm: usize, n: i32, C: usize): void {
  for (let r = 0; r < m; r++) {
    const a = A + ((<usize>r * <usize>kk) << 2);
    let acc = f32x4.splat(0);
    for (let p = 0; p < kk; p++) {
      acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(a + (<usize>p << 2))), ldn(Bm + ((<usize>p * <usize>n) << 2), n)));
    }
    stn(C + ((<usize>r * <usize>n) << 2), acc, n);
  }
}

/** C [kk, n] = Aᵀ · B for A [m, kk] with a small kk, B [m, n]: C[p, :] = Σ_r A[r, p] B[r, :]. */
export function mmTNSmallK(A: usize, m: i32, kk: i32, Bm: usize, n: i32, C: usize): void {
  memory.fill(C, 0, (<usize>kk * <usize>n) << 2);
  for (let r = 0; r < m; r++) {
    const a = A + ((<usize>r * <usize>kk) << 2);
    const b = Bm + ((<usize>r * <usize>n) << 2);
    for (let p = 0; p < kk; p++) {
      const ap = load<f32>(a + (<usize>p << 2));
      if (ap == 0) continue;
      const s = f32x4.splat(ap);
      const c = C + ((<usize>p * <usize>n) << 2);
      for (let w = 0; w < n; w += 4) {
        const ln = lanes(w, n);
        const o = <usize>w << 2;
        stn(c + o, f32x4.add(ldn(c + o, ln), f32x4.mul(s, ldn(b + o, ln))), ln);
      }
    }
  }
}
