import type { Engine } from '../core/types.js';
import { GeneralizedForces } from './GeneralizedForces.js';

/** An engine that solves its own mass matrix exactly (the CPU engines). */
interface MassSolving {
  massSolve(q: Float64Array, qd: Float64Array, rhs: Float64Array, out: Float64Array, batch: number): void;
}

function solvesMass(engine: Engine): engine is Engine & MassSolving {
  return typeof (engine as Partial<MassSolving>).massSolve === 'function';
}

/** Most RK4 substeps of the momentum path of {@link ImpulseSolver.jump} (doubled from 1). */
export const IMPULSE_MAX_SUBSTEPS = 64;

/**
 * Generalized impulses through an engine's mass matrix H_vv (exact for the CPU engines; for a learned
 * engine its learned H_vv in physical units, through the same route as its forces: q̈ under a force p
 * minus q̈ without, which is H_vv⁻¹ p because q̈ is linear in Q).
 *
 * - {@link velocityChange}: the linear response H_vv(q, q̇)⁻¹ p at the state (a mobility: what a unit
 *   impulse would do to first order; used for effective masses).
 * - {@link jump}: the velocity after an impulse: the generalized momentum ∂L/∂q̇ jumps by p at fixed q,
 *   so q̇ follows dq̇/ds = H_vv(q, q̇(s))⁻¹ p for s from 0 to 1, and the energy changes by exactly
 *   W = ∫₀¹ q̇(s)·p ds (dE = q̇·d(∂L/∂q̇) at fixed q). Where H_vv does not depend on q̇ (L quadratic in
 *   q̇: every mechanical system) this is one solve, Δq̇ = H_vv⁻¹ p and W = p·(q̇⁻ + q̇⁺)/2; otherwise (a
 *   relativistic particle, a learned L) RK4 in s with step doubling and Richardson extrapolation until
 *   two results agree.
 */
export class ImpulseSolver {
  readonly engine: Engine;
  private readonly unit: GeneralizedForces;
  private readonly n: number;
  private readonly q: Float64Array;
  private readonly qd: Float64Array;
  private readonly a0: Float64Array;
  private readonly a1: Float64Array;
  private readonly p: Float64Array;
  // Momentum-path scratch.
  private readonly v: Float64Array;
  private readonly vs: Float64Array;
  private readonly k: Float64Array[];
  private readonly prev: Float64Array;
  private readonly cur: Float64Array;
  private readonly ext: Float64Array;
  /** Why the last stage that threw did (for the error of a jump with no finite path). */
  private lastError = '';

  constructor(engine: Engine) {
    this.engine = engine;
    const n = engine.system.dof;
    this.n = n;
    this.unit = new GeneralizedForces(n, 1);
    this.q = new Float64Array(n);
    this.qd = new Float64Array(n);
    this.a0 = new Float64Array(n);
    this.a1 = new Float64Array(n);
    this.p = new Float64Array(n);
    this.v = new Float64Array(n);
    this.vs = new Float64Array(n);
    this.k = [0, 1, 2, 3].map(() => new Float64Array(n));
    this.prev = new Float64Array(n);
    this.cur = new Float64Array(n);
    this.ext = new Float64Array(n);
  }

  /**
   * The linear response H_vv⁻¹ p `[dof]` to the impulse `p` `[dof]` at the state at `offset` of `q`,
   * `qd`, into `out`.
   * @throws Error when the engine takes no forces, or its mass matrix is singular there
   */
  velocityChange(
    q: ArrayLike<number>,
    qd: ArrayLike<number>,
    p: ArrayLike<number>,
    out: Float64Array,
    offset = 0,
    t = 0,
  ): Float64Array {
    this.load(q, qd, p, offset);
    this.solve(this.qd, out, t, false);
    for (let i = 0; i < this.n; i++) {
      if (!Number.isFinite(out[i])) throw this.singular();
    }
    return out;
  }

  /**
   * The velocity change Δq̇ `[dof]` of the impulse `p` `[dof]` applied at the state at `offset` of `q`,
   * `qd` (the momentum ∂L/∂q̇ jumps by p; see the class), into `out`. Returns the work of the impulse,
   * the exact energy change E(q, q̇⁺) − E(q, q̇⁻).
   * @throws Error when the engine takes no forces, or no finite velocity follows (a singular mass
   *   matrix, a jump out of the system's domain: faster than light)
   */
  jump(
    q: ArrayLike<number>,
    qd: ArrayLike<number>,
    p: ArrayLike<number>,
    out: Float64Array,
    offset = 0,
    t = 0,
  ): number {
    const n = this.n;
    this.load(q, qd, p, offset);
    this.lastError = '';
    if (solvesMass(this.engine)) return this.newton(out);
    const [k1, k2] = this.k;
    // One solve where H_vv does not change along the jump (checked at the jump's end).
    this.solve(this.qd, k1, t, false);
    for (let i = 0; i < n; i++) this.vs[i] = this.qd[i] + k1[i];
    this.solve(this.vs, k2, t);
    if (finite(k1) && finite(k2) && maxDiff(k1, k2) <= this.flatTolerance() * maxAbs(k1)) {
      let w = 0;
      for (let i = 0; i < n; i++) {
        out[i] = k1[i];
        w += this.p[i] * (this.qd[i] + 0.5 * k1[i]);
      }
      return w;
    }
    // Otherwise the momentum path: RK4 with 1, 2, 4, … substeps, each result extrapolated with the one
    // before (Richardson, r + (r − r_prev)/15), until two extrapolations agree.
    const tol = this.pathTolerance();
    const { cur, prev, ext } = this;
    let level = 0; // finite results in a row: 1 = cur only, 2 = an extrapolation in ext
    let prevW = 0;
    let extW = 0;
    for (let m = 1; m <= IMPULSE_MAX_SUBSTEPS; m *= 2) {
      const w = this.path(m, t);
      if (!Number.isFinite(w)) {
        level = 0;
        continue;
      }
      for (let i = 0; i < n; i++) cur[i] = this.v[i] - this.qd[i];
      if (level >= 1) {
        let diff = 0;
        for (let i = 0; i < n; i++) {
          const e = cur[i] + (cur[i] - prev[i]) / 15;
          if (level >= 2) diff = Math.max(diff, Math.abs(e - ext[i]));
          ext[i] = e;
        }
        const we = w + (w - prevW) / 15;
        // Both the velocity and the work settled.
        const settled =
          diff <= tol * Math.max(maxAbs(ext), 1e-300) &&
          Math.abs(we - extW) <= tol * Math.max(Math.abs(we), 1e-300);
        if (level >= 2 && settled) {
          out.set(ext);
          return we;
        }
        extW = we;
        level = 2;
      } else {
        level = 1;
      }
      prev.set(cur);
      prevW = w;
    }
    if (level === 2) {
      // Finite but not settled to the tolerance (a learned mass matrix's float32 noise): the finest.
      out.set(ext);
      return extW;
    }
    throw new Error(
      `impulse: the '${this.engine.id}' engine gives no finite velocity after this impulse (a singular mass matrix, or a jump out of the system's domain${this.lastError ? `: ${this.lastError}` : ''}); the state is left as it was`,
    );
  }

  /**
   * An engine with an exact mass solve (its system's momentum and energy in closed form): Newton on
   * ∂L/∂q̇(q, q̇⁺) = ∂L/∂q̇(q, q̇⁻) + p from q̇⁻ + H⁻¹p (exact at once where H does not depend on q̇), each
   * step halved while it leaves the domain; the work is E(q, q̇⁺) − E(q, q̇⁻).
   */
  private newton(out: Float64Array): number {
    const n = this.n;
    const sys = this.engine.system;
    const { q, qd, p, v, vs, cur, prev } = this;
    const [target, r, dv] = this.k;
    sys.momentum(q, qd, target);
    let scale = 0;
    for (let i = 0; i < n; i++) {
      target[i] += p[i];
      scale = Math.max(scale, Math.abs(target[i]), Math.abs(p[i]));
    }
    v.set(qd);
    r.set(p);
    for (let iter = 0; iter < 60; iter++) {
      this.solve(v, dv, 0, iter === 0 ? false : true);
      if (!finite(dv)) break;
      // Halve the step while the new velocity has no finite momentum (outside the domain).
      let ok = false;
      for (let lambda = 1; lambda >= 2 ** -20; lambda *= 0.5) {
        for (let i = 0; i < n; i++) vs[i] = v[i] + lambda * dv[i];
        if (!this.momentumAt(vs, cur)) continue;
        ok = true;
        break;
      }
      if (!ok) break;
      v.set(vs);
      let res = 0;
      for (let i = 0; i < n; i++) {
        r[i] = target[i] - cur[i];
        res = Math.max(res, Math.abs(r[i]));
      }
      if (res <= 1e-13 * scale || res === 0) {
        for (let i = 0; i < n; i++) out[i] = v[i] - qd[i];
        const w = sys.energy(q, v) - sys.energy(q, qd);
        if (Number.isFinite(w) && finite(out)) return w;
        break;
      }
      // The next solve takes the residual.
      p.set(r);
      prev.set(v);
    }
    throw new Error(
      `impulse: the '${this.engine.id}' engine gives no finite velocity after this impulse (a singular mass matrix, or a jump out of the system's domain${this.lastError ? `: ${this.lastError}` : ''}); the state is left as it was`,
    );
  }

  /** The system's momentum at (q, v) into `out`; false when it is not finite or v is outside the domain. */
  private momentumAt(v: Float64Array, out: Float64Array): boolean {
    try {
      this.engine.system.momentum(this.q, v, out);
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      return false;
    }
    return finite(out);
  }

  /** RK4 of dq̇/ds = H⁻¹ p, dW/ds = q̇·p over s ∈ [0, 1] in `m` substeps, from this.qd into this.v. */
  private path(m: number, t: number): number {
    const n = this.n;
    const { v, vs, p } = this;
    const [k1, k2, k3, k4] = this.k;
    const h = 1 / m;
    v.set(this.qd);
    let w = 0;
    for (let s = 0; s < m; s++) {
      const w1 = dot(v, p);
      this.solve(v, k1, t);
      for (let i = 0; i < n; i++) vs[i] = v[i] + 0.5 * h * k1[i];
      const w2 = dot(vs, p);
      this.solve(vs, k2, t);
      for (let i = 0; i < n; i++) vs[i] = v[i] + 0.5 * h * k2[i];
      const w3 = dot(vs, p);
      this.solve(vs, k3, t);
      for (let i = 0; i < n; i++) vs[i] = v[i] + h * k3[i];
      const w4 = dot(vs, p);
      this.solve(vs, k4, t);
      for (let i = 0; i < n; i++) v[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
      w += (h / 6) * (w1 + 2 * w2 + 2 * w3 + w4);
      if (!finite(v)) return Number.NaN;
    }
    return w;
  }

  /** Relative change of H⁻¹p over the jump below which H_vv counts as constant. */
  private flatTolerance(): number {
    // A learned mass matrix is float32 arithmetic and known to about 1 % (its massScale spread): a
    // change under 1e-4 is below both.
    return solvesMass(this.engine) ? 1e-12 : 1e-4;
  }

  /** Agreement of two momentum-path results that ends the doubling. */
  private pathTolerance(): number {
    return solvesMass(this.engine) ? 1e-10 : 1e-5;
  }

  private load(q: ArrayLike<number>, qd: ArrayLike<number>, p: ArrayLike<number>, offset: number): void {
    const e = this.engine;
    if (e.forceSupport !== null) {
      throw new Error(`impulse: ${e.forceSupport ?? `the '${e.id}' engine takes no forces`}`);
    }
    for (let i = 0; i < this.n; i++) {
      this.q[i] = q[offset + i];
      this.qd[i] = qd[offset + i];
      this.p[i] = p[i];
    }
  }

  /**
   * H_vv(q, qd)⁻¹ p into `out` (may hold non-finite values). On the momentum path a stage may leave the
   * system's domain (a trial velocity past c), where an engine throws: that stage is NaN (a finer path
   * follows), and the reason is kept for the error when no path stays finite.
   */
  private solve(qd: Float64Array, out: Float64Array, t: number, tolerant = true): void {
    const e = this.engine;
    try {
      if (solvesMass(e)) {
        e.massSolve(this.q, qd, this.p, out, 1);
        return;
      }
      this.unit.setConstant(this.p);
      e.accelerations(this.q, qd, this.a0, 1, t, null);
      e.accelerations(this.q, qd, this.a1, 1, t, this.unit);
      for (let i = 0; i < this.n; i++) out[i] = this.a1[i] - this.a0[i];
    } catch (err) {
      if (!tolerant) throw err;
      this.lastError = err instanceof Error ? err.message : String(err);
      out.fill(Number.NaN);
    }
  }

  private singular(): Error {
    return new Error(
      `impulse: the '${this.engine.id}' engine's mass matrix gives a non-finite velocity change here; the state is left as it was`,
    );
  }
}

function finite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
