import type { Forces, System } from '../core/types.js';

/**
 * A user generalized force: add Q(t, q, q̇) of `batch` states into `out` `[batch * dof]` (already holding
 * the constant and damping parts; add, do not overwrite). `first` is the index of the first copy.
 */
export type ForceCallback = (
  t: number,
  q: Float64Array,
  qd: Float64Array,
  out: Float64Array,
  batch: number,
  first: number,
) => void;

/** What {@link createForces} builds a {@link Forces} from; every part is optional. */
export interface ForceSpec {
  /**
   * Rayleigh damping Q = −C q̇ in the system's units (N·m·s/rad for angles): one coefficient C ≥ 0 for
   * every coordinate, or one per coordinate `[dof]`.
   */
  damping?: number | ArrayLike<number>;
  /** A constant generalized force: `[dof]` (the same on every copy) or `[count * dof]`. */
  constant?: ArrayLike<number>;
  /** Any Q(t, q, q̇), evaluated at every integrator stage on the CPU. */
  callback?: ForceCallback;
}

/** Error of a bad {@link ForceSpec}: one line naming the part and what is expected. */
export class ForceSpecError extends Error {
  override readonly name = 'ForceSpecError';
}

/**
 * Generalized forces Q = constant − C q̇ + callback(t, q, q̇) on `count` copies of a `dof`-coordinate
 * system (see `Forces` in the core contract). Mutable in place between steps — {@link setConstant},
 * {@link setDamping} — so a drag that changes every frame allocates nothing.
 */
export class GeneralizedForces implements Forces {
  readonly dof: number;
  readonly count: number;
  private dampingArr: Float64Array | null = null;
  private constantArr: Float64Array | null = null;
  private callbackFn: ForceCallback | null = null;

  constructor(dof: number, count = 1, spec: ForceSpec = {}) {
    if (!(Number.isInteger(dof) && dof >= 1))
      throw new ForceSpecError(`forces: dof must be an integer >= 1, got ${dof}`);
    if (!(Number.isInteger(count) && count >= 1)) {
      throw new ForceSpecError(`forces: count must be an integer >= 1, got ${count}`);
    }
    this.dof = dof;
    this.count = count;
    if (spec.damping !== undefined) this.setDamping(spec.damping);
    if (spec.constant !== undefined) this.setConstant(spec.constant);
    if (spec.callback !== undefined) this.setCallback(spec.callback);
  }

  get damping(): Float64Array | null {
    return this.dampingArr;
  }

  get constant(): Float64Array | null {
    return this.constantArr;
  }

  /** The callback, or null. */
  get callback(): ForceCallback | null {
    return this.callbackFn;
  }

  get varying(): boolean {
    return this.callbackFn !== null;
  }

  get zero(): boolean {
    return this.dampingArr === null && this.constantArr === null && this.callbackFn === null;
  }

  /**
   * Set Rayleigh damping (one C ≥ 0 for every coordinate, or `[dof]`); 0 everywhere or null removes it.
   * @throws ForceSpecError for a negative, non-finite or wrongly sized C
   */
  setDamping(c: number | ArrayLike<number> | null): this {
    if (c === null) {
      this.dampingArr = null;
      return this;
    }
    const n = this.dof;
    if (typeof c === 'number') {
      checkCoefficient(c, 'damping');
      if (c === 0) {
        this.dampingArr = null;
        return this;
      }
      this.dampingArr ??= new Float64Array(n);
      this.dampingArr.fill(c);
      return this;
    }
    if (c.length !== n) {
      throw new ForceSpecError(
        `forces: damping must be one number or ${n} (one per coordinate), got ${c.length}`,
      );
    }
    let any = false;
    for (let i = 0; i < n; i++) {
      checkCoefficient(c[i], `damping[${i}]`);
      if (c[i] !== 0) any = true;
    }
    if (!any) {
      this.dampingArr = null;
      return this;
    }
    this.dampingArr ??= new Float64Array(n);
    for (let i = 0; i < n; i++) this.dampingArr[i] = c[i];
    return this;
  }

  /**
   * Set the constant generalized force: `[dof]` (every copy alike) or `[count * dof]`; null removes it.
   * The array is copied (allocation only the first time).
   * @throws ForceSpecError for a wrong length or a non-finite entry
   */
  setConstant(q: ArrayLike<number> | null): this {
    if (q === null) {
      this.constantArr = null;
      return this;
    }
    const n = this.dof;
    const total = n * this.count;
    if (q.length !== n && q.length !== total) {
      throw new ForceSpecError(
        `forces: constant must have ${n} numbers (one per coordinate)` +
          (this.count > 1 ? ` or ${total} (count × dof)` : '') +
          `, got ${q.length}`,
      );
    }
    for (let i = 0; i < q.length; i++) {
      if (typeof q[i] !== 'number' || !Number.isFinite(q[i])) {
        throw new ForceSpecError(`forces: constant[${i}] must be a finite number, got ${q[i]}`);
      }
    }
    this.constantArr ??= new Float64Array(total);
    for (let i = 0; i < total; i++) this.constantArr[i] = q.length === total ? q[i] : q[i % n];
    return this;
  }

  /** Set the constant force of copy `copy` only, `[dof]` (the others keep theirs, zero at first). */
  setConstantOf(copy: number, q: ArrayLike<number>): this {
    checkCopy(copy, this.count);
    const n = this.dof;
    if (q.length !== n)
      throw new ForceSpecError(`forces: a copy's constant force has ${n} numbers, got ${q.length}`);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(q[i]))
        throw new ForceSpecError(`forces: constant[${i}] must be a finite number, got ${q[i]}`);
    }
    this.constantArr ??= new Float64Array(n * this.count);
    for (let i = 0; i < n; i++) this.constantArr[copy * n + i] = q[i];
    return this;
  }

  /** Set or remove (null) the callback. @throws ForceSpecError when not a function */
  setCallback(fn: ForceCallback | null): this {
    if (fn !== null && typeof fn !== 'function') {
      throw new ForceSpecError(`forces: callback must be a function (t, q, qd, out, batch, first) => void`);
    }
    this.callbackFn = fn;
    return this;
  }

  /** Remove every part. */
  clear(): this {
    this.dampingArr = null;
    this.constantArr = null;
    this.callbackFn = null;
    return this;
  }

  evaluate(t: number, q: Float64Array, qd: Float64Array, out: Float64Array, batch: number, first = 0): void {
    const n = this.dof;
    const size = batch * n;
    const c = this.constantArr;
    if (c === null) out.fill(0, 0, size);
    else for (let i = 0; i < size; i++) out[i] = c[first * n + i];
    const d = this.dampingArr;
    if (d !== null) for (let i = 0; i < size; i++) out[i] -= d[i % n] * qd[i];
    if (this.callbackFn !== null) {
      this.callbackFn(t, q, qd, out, batch, first);
      for (let i = 0; i < size; i++) {
        if (!Number.isFinite(out[i])) {
          throw new ForceSpecError(
            `forces: the callback gave a non-finite Q (${out[i]}) for copy ${first + Math.floor(i / n)}, coordinate ${i % n} at t = ${t}`,
          );
        }
      }
    }
  }
}

/**
 * Forces from a spec for `count` copies of `system`.
 * @example const forces = createForces(system, { damping: 0.1 });
 */
export function createForces(
  system: Pick<System, 'dof'>,
  spec: ForceSpec = {},
  count = 1,
): GeneralizedForces {
  if (typeof spec !== 'object' || spec === null)
    throw new ForceSpecError('forces: the spec must be an object');
  const known = new Set(['damping', 'constant', 'callback']);
  for (const k of Object.keys(spec)) {
    if (!known.has(k))
      throw new ForceSpecError(`forces: unknown key '${k}'; expected damping, constant or callback`);
  }
  return new GeneralizedForces(system.dof, count, spec);
}

function checkCoefficient(c: number, what: string): void {
  if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) {
    throw new ForceSpecError(`forces: ${what} must be a finite number >= 0, got ${c}`);
  }
}

function checkCopy(copy: number, count: number): void {
  if (!(Number.isInteger(copy) && copy >= 0 && copy < count)) {
    throw new ForceSpecError(`forces: copy index ${copy} is out of range [0, ${count})`);
  }
}
