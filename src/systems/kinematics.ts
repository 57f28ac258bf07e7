import type { System } from '../core/types.js';

/** Scratch for the two displaced configurations; grown on demand, reused afterwards. */
let qPlus = new Float64Array(0);
let qMinus = new Float64Array(0);
let pPlus = new Float64Array(0);
let pMinus = new Float64Array(0);

/**
 * Velocities of the system's drawn points for one state: `out = J(q) q̇`, the directional derivative of
 * the forward kinematics along q̇. Computed with a central difference scaled so that the displacement
 * `ε·|q̇|∞` is 1e-5 rad (or length unit): truncation and rounding errors both stay near 1e-10 relative,
 * and no system has to supply its Jacobian.
 * @param q `[dof]` @param qd `[dof]` @param out `[pointCount * 3]` point velocities, y up
 * @example pointVelocities(system, q, qd, v); // v[3*i..3*i+2] is the velocity of point i
 */
export function pointVelocities(
  system: System,
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  out: Float64Array,
): Float64Array {
  const n = system.dof;
  const m = system.pointCount * 3;
  if (out.length < m) {
    throw new Error(`pointVelocities: out has length ${out.length}, needs pointCount * 3 = ${m}`);
  }
  let speed = 0;
  for (let i = 0; i < n; i++) speed = Math.max(speed, Math.abs(qd[i]));
  if (speed === 0) {
    out.fill(0, 0, m);
    return out;
  }
  if (qPlus.length < n) {
    qPlus = new Float64Array(n);
    qMinus = new Float64Array(n);
  }
  if (pPlus.length < m) {
    pPlus = new Float64Array(m);
    pMinus = new Float64Array(m);
  }
  const eps = 1e-5 / speed;
  for (let i = 0; i < n; i++) {
    qPlus[i] = q[i] + eps * qd[i];
    qMinus[i] = q[i] - eps * qd[i];
  }
  system.positions(qPlus.subarray(0, n), pPlus);
  system.positions(qMinus.subarray(0, n), pMinus);
  const inv = 1 / (2 * eps);
  for (let k = 0; k < m; k++) out[k] = (pPlus[k] - pMinus[k]) * inv;
  return out;
}

/**
 * Check a point index for `System.pointJacobian`.
 * @throws RangeError naming the index and the valid range
 */
export function checkPoint(point: number, pointCount: number): void {
  if (!(Number.isInteger(point) && point >= 0 && point < pointCount)) {
    throw new RangeError(`point index ${point} is out of range [0, ${pointCount})`);
  }
}
