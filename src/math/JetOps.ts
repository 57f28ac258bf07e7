import type { Ops } from '../core/types.js';
import { Jet } from './Jet.js';

/**
 * {@link Ops} over second-order {@link Jet}s of n degrees of freedom: evaluating a Lagrangian with these
 * ops yields L, ∇L and the q̇ rows of ∇²L exactly (to rounding), by forward-mode automatic
 * differentiation.
 *
 * Jets come from an internal pool that is rewound by {@link JetOps.variables}, so repeated evaluations
 * allocate nothing once the pool has grown to the size of one evaluation. Jets from an earlier evaluation
 * are overwritten; copy out what is needed first.
 * @example
 * const ops = new JetOps(1);
 * const { q, qd } = ops.variables([0.3], [2]);
 * const L = ops.sub(ops.scale(ops.mul(qd[0], qd[0]), 0.5), ops.scale(ops.mul(q[0], q[0]), 0.5));
 * L.g[0]; // ∂L/∂q = −0.3;  L.h![1] = ∂²L/∂q̇² = 1
 */
export class JetOps implements Ops<Jet> {
  /** Degrees of freedom; gradients have 2n entries. */
  readonly n: number;
  private readonly pool: Jet[] = [];
  private top = 0;
  private readonly qVars: Jet[] = [];
  private readonly qdVars: Jet[] = [];
  private readonly vars = { q: this.qVars as readonly Jet[], qd: this.qdVars as readonly Jet[] };

  /** @param n degrees of freedom (n ≥ 1) */
  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`JetOps: dof must be a positive integer, got ${n}`);
    this.n = n;
    // The independent variables live outside the pool: their unit gradients and zero Hessians are set
    // once here, and arithmetic never writes to its operands, so each evaluation only sets their values.
    for (let i = 0; i < n; i++) {
      const a = new Jet(n);
      a.dep = 1;
      a.g[i] = 1;
      this.qVars.push(a);
      const b = new Jet(n);
      b.dep = 2;
      b.g[n + i] = 1;
      b.h = new Float64Array(2 * n * n);
      this.qdVars.push(b);
    }
  }

  /**
   * Rewind the pool and return the independent variables q_i, q̇_i as jets (seeded with unit gradients).
   * The returned arrays are reused by the next call.
   * @param q `[… n …]` @param qd `[… n …]` @param offset index of q_0 and q̇_0 in the arrays
   */
  variables(
    q: ArrayLike<number>,
    qd: ArrayLike<number>,
    offset = 0,
  ): { q: readonly Jet[]; qd: readonly Jet[] } {
    this.top = 0;
    const qv = this.qVars;
    const qdv = this.qdVars;
    for (let i = 0; i < this.n; i++) {
      qv[i].v = q[offset + i];
      qdv[i].v = qd[offset + i];
    }
    return this.vars;
  }

  /** Number of jets handed out since the last {@link JetOps.variables} (for sizing and tests). */
  get used(): number {
    return this.top;
  }

  private alloc(dep: 0 | 1 | 2): Jet {
    let j = this.pool[this.top];
    if (j === undefined) {
      j = new Jet(this.n);
      this.pool.push(j);
    }
    this.top++;
    j.dep = dep;
    if (dep === 2 && j.h === null) j.h = new Float64Array(2 * this.n * this.n);
    return j;
  }

  c(x: number): Jet {
    const j = this.alloc(0);
    j.v = x;
    return j;
  }

  add(a: Jet, b: Jet): Jet {
    return this.lin(a, 1, b, 1);
  }

  sub(a: Jet, b: Jet): Jet {
    return this.lin(a, 1, b, -1);
  }

  neg(a: Jet): Jet {
    return this.scale(a, -1);
  }

  scale(a: Jet, k: number): Jet {
    const c = this.alloc(a.dep);
    c.v = a.v * k;
    if (a.dep === 0) return c;
    const g = c.g;
    const ag = a.g;
    for (let i = 0; i < ag.length; i++) g[i] = ag[i] * k;
    if (a.dep === 2) {
      const h = c.h!;
      const ah = a.h!;
      for (let i = 0; i < ah.length; i++) h[i] = ah[i] * k;
    }
    return c;
  }

  /** α a + β b. */
  private lin(a: Jet, al: number, b: Jet, be: number): Jet {
    if (a.dep === 0 && b.dep === 0) return this.c(al * a.v + be * b.v);
    if (b.dep === 0) {
      const c = this.scale(a, al);
      c.v += be * b.v;
      return c;
    }
    if (a.dep === 0) {
      const c = this.scale(b, be);
      c.v += al * a.v;
      return c;
    }
    const dep = Math.max(a.dep, b.dep) as 0 | 1 | 2;
    const c = this.alloc(dep);
    c.v = al * a.v + be * b.v;
    const g = c.g;
    const ag = a.g;
    const bg = b.g;
    for (let i = 0; i < g.length; i++) g[i] = al * ag[i] + be * bg[i];
    if (dep === 2) {
      const h = c.h!;
      if (a.dep === 2 && b.dep === 2) {
        const ah = a.h!;
        const bh = b.h!;
        for (let i = 0; i < h.length; i++) h[i] = al * ah[i] + be * bh[i];
      } else {
        const src = a.dep === 2 ? a.h! : b.h!;
        const k = a.dep === 2 ? al : be;
        for (let i = 0; i < h.length; i++) h[i] = k * src[i];
      }
    }
    return c;
  }

  mul(a: Jet, b: Jet): Jet {
    if (a.dep === 0) return this.scale(b, a.v);
    if (b.dep === 0) return this.scale(a, b.v);
    const dep = Math.max(a.dep, b.dep) as 0 | 1 | 2;
    const c = this.alloc(dep);
    const av = a.v;
    const bv = b.v;
    c.v = av * bv;
    const g = c.g;
    const ag = a.g;
    const bg = b.g;
    const m = g.length;
    for (let i = 0; i < m; i++) g[i] = av * bg[i] + bv * ag[i];
    if (dep === 2) {
      // c_rj = a b_rj + b a_rj + a_r b_j + b_r a_j, with r a q̇ row (gradient index n + r).
      const n = this.n;
      const h = c.h!;
      if (a.dep === 2 && b.dep === 2) {
        const ah = a.h!;
        const bh = b.h!;
        for (let r = 0; r < n; r++) {
          const ar = ag[n + r];
          const br = bg[n + r];
          const o = r * m;
          for (let j = 0; j < m; j++) h[o + j] = av * bh[o + j] + bv * ah[o + j] + ar * bg[j] + br * ag[j];
        }
      } else {
        // One factor depends on q only: its q̇ entries and Hessian rows vanish.
        const x = a.dep === 2 ? a : b;
        const y = a.dep === 2 ? b : a;
        const xh = x.h!;
        const xg = x.g;
        const yg = y.g;
        const yv = y.v;
        for (let r = 0; r < n; r++) {
          const xr = xg[n + r];
          const o = r * m;
          for (let j = 0; j < m; j++) h[o + j] = yv * xh[o + j] + xr * yg[j];
        }
      }
    }
    return c;
  }

  div(a: Jet, b: Jet): Jet {
    if (b.dep === 0) return this.scale(a, 1 / b.v);
    // c = a/b: c_j = (a_j − c b_j)/b; c_rj = (a_rj − c_r b_j − c_j b_r − c b_rj)/b.
    const dep = Math.max(a.dep, b.dep) as 0 | 1 | 2;
    const c = this.alloc(dep);
    const bv = b.v;
    const cv = a.v / bv;
    c.v = cv;
    const g = c.g;
    const bg = b.g;
    const m = g.length;
    if (a.dep === 0) for (let i = 0; i < m; i++) g[i] = (-cv * bg[i]) / bv;
    else {
      const ag = a.g;
      for (let i = 0; i < m; i++) g[i] = (ag[i] - cv * bg[i]) / bv;
    }
    if (dep === 2) {
      const n = this.n;
      const h = c.h!;
      const ah = a.dep === 2 ? a.h! : null;
      const bh = b.dep === 2 ? b.h! : null;
      for (let r = 0; r < n; r++) {
        const cr = g[n + r];
        const br = bg[n + r];
        const o = r * m;
        for (let j = 0; j < m; j++) {
          let s = -cr * bg[j] - g[j] * br;
          if (ah !== null) s += ah[o + j];
          if (bh !== null) s -= cv * bh[o + j];
          h[o + j] = s / bv;
        }
      }
    }
    return c;
  }

  /** c = f(a) given f(a), f′(a), f″(a). */
  private unary(a: Jet, f0: number, f1: number, f2: number): Jet {
    const c = this.alloc(a.dep);
    c.v = f0;
    if (a.dep === 0) return c;
    const g = c.g;
    const ag = a.g;
    const m = g.length;
    for (let i = 0; i < m; i++) g[i] = f1 * ag[i];
    if (a.dep === 2) {
      const n = this.n;
      const h = c.h!;
      const ah = a.h!;
      for (let r = 0; r < n; r++) {
        const k = f2 * ag[n + r];
        const o = r * m;
        for (let j = 0; j < m; j++) h[o + j] = f1 * ah[o + j] + k * ag[j];
      }
    }
    return c;
  }

  pow(a: Jet, p: number): Jet {
    const x = a.v;
    if (p === 2) return this.unary(a, x * x, 2 * x, 2);
    if (p === 1) return this.unary(a, x, 1, 0);
    if (p === 0) return this.unary(a, 1, 0, 0);
    return this.unary(a, x ** p, p * x ** (p - 1), p * (p - 1) * x ** (p - 2));
  }

  sqrt(a: Jet): Jet {
    const s = Math.sqrt(a.v);
    const d1 = 0.5 / s;
    return this.unary(a, s, d1, -d1 / (2 * a.v));
  }

  exp(a: Jet): Jet {
    const e = Math.exp(a.v);
    return this.unary(a, e, e, e);
  }

  log(a: Jet): Jet {
    const x = a.v;
    return this.unary(a, Math.log(x), 1 / x, -1 / (x * x));
  }

  sin(a: Jet): Jet {
    const s = Math.sin(a.v);
    return this.unary(a, s, Math.cos(a.v), -s);
  }

  cos(a: Jet): Jet {
    const c = Math.cos(a.v);
    return this.unary(a, c, -Math.sin(a.v), -c);
  }

  tanh(a: Jet): Jet {
    const t = Math.tanh(a.v);
    const d1 = 1 - t * t;
    return this.unary(a, t, d1, -2 * t * d1);
  }
}
