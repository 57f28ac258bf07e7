import type { Params } from '../../core/types';

/**
 * One classic RK4 step of a batch of double pendulums with the closed-form q̈ inlined: all four
 * stages of one state run in registers, with no intermediate arrays and no calls between stages.
 *
 * It performs, operation for operation, what `RungeKutta4.step` does with
 * `DoublePendulum.accelerations`, so results are bitwise identical to that generic path
 * (test/engines.test.ts pins this); only memory traffic and call overhead are removed. The closed form
 * remains the single source of truth: if it changes, that test fails until this kernel follows.
 * Angles are sin/cos-bound: 16 Math.sin/cos calls per state-step dominate the cost.
 * @param params double-pendulum parameters `{ m1, m2, l1, l2, g }`
 * @param q `[batch * 2]` (θ1, θ2), updated in place @param qd `[batch * 2]` (ω1, ω2), updated in place
 */
export function rk4DoublePendulum(
  params: Params,
  q: Float64Array,
  qd: Float64Array,
  batch: number,
  dt: number,
): void {
  const m1 = params.m1;
  const m2 = params.m2;
  const l1 = params.l1;
  const l2 = params.l2;
  const g = params.g;
  const M = m1 + m2;
  // Hoisted products keep the closed form's left-to-right evaluation order exactly.
  const nm2l2 = -m2 * l2;
  const Mg = M * g;
  const h2 = 0.5 * dt;
  const h6 = dt / 6;
  const n = batch * 2;
  for (let i = 0; i < n; i += 2) {
    const q1 = q[i];
    const q2 = q[i + 1];
    const v1 = qd[i];
    const v2 = qd[i + 1];

    // Stage 1 at (q, q̇).
    let t1 = q1;
    let t2 = q2;
    let w1 = v1;
    let w2 = v2;
    let s = Math.sin(t1 - t2);
    let c = Math.cos(t1 - t2);
    let f1 = nm2l2 * s * w2 * w2 - Mg * Math.sin(t1);
    let f2 = l1 * s * w1 * w1 - g * Math.sin(t2);
    let den = m1 + m2 * s * s;
    let a1 = (f1 - m2 * c * f2) / (l1 * den);
    let a2 = (M * f2 - c * f1) / (l2 * den);
    let sv1 = w1;
    let sv2 = w2;
    let sa1 = a1;
    let sa2 = a2;
    t1 = q1 + h2 * w1;
    t2 = q2 + h2 * w2;
    w1 = v1 + h2 * a1;
    w2 = v2 + h2 * a2;

    // Stage 2 at the half step.
    s = Math.sin(t1 - t2);
    c = Math.cos(t1 - t2);
    f1 = nm2l2 * s * w2 * w2 - Mg * Math.sin(t1);
    f2 = l1 * s * w1 * w1 - g * Math.sin(t2);
    den = m1 + m2 * s * s;
    a1 = (f1 - m2 * c * f2) / (l1 * den);
    a2 = (M * f2 - c * f1) / (l2 * den);
    sv1 += 2 * w1;
    sv2 += 2 * w2;
    sa1 += 2 * a1;
    sa2 += 2 * a2;
    t1 = q1 + h2 * w1;
    t2 = q2 + h2 * w2;
    w1 = v1 + h2 * a1;
    w2 = v2 + h2 * a2;

    // Stage 3 at the half step, corrected.
    s = Math.sin(t1 - t2);
    c = Math.cos(t1 - t2);
    f1 = nm2l2 * s * w2 * w2 - Mg * Math.sin(t1);
    f2 = l1 * s * w1 * w1 - g * Math.sin(t2);
    den = m1 + m2 * s * s;
    a1 = (f1 - m2 * c * f2) / (l1 * den);
    a2 = (M * f2 - c * f1) / (l2 * den);
    sv1 += 2 * w1;
    sv2 += 2 * w2;
    sa1 += 2 * a1;
    sa2 += 2 * a2;
    t1 = q1 + dt * w1;
    t2 = q2 + dt * w2;
    w1 = v1 + dt * a1;
    w2 = v2 + dt * a2;

    // Stage 4 at the full step.
    s = Math.sin(t1 - t2);
    c = Math.cos(t1 - t2);
    f1 = nm2l2 * s * w2 * w2 - Mg * Math.sin(t1);
    f2 = l1 * s * w1 * w1 - g * Math.sin(t2);
    den = m1 + m2 * s * s;
    a1 = (f1 - m2 * c * f2) / (l1 * den);
    a2 = (M * f2 - c * f1) / (l2 * den);
    q[i] = q1 + h6 * (sv1 + w1);
    q[i + 1] = q2 + h6 * (sv2 + w2);
    qd[i] = v1 + h6 * (sa1 + a1);
    qd[i + 1] = v2 + h6 * (sa2 + a2);
  }
}
