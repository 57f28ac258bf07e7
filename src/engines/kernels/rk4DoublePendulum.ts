import type { Params } from '../../core/types.js';

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

    // Stages 1–3 each end by adding their slope to the running sums (weights 1, 2, 2) and placing the
    // next stage at (q + h w, q̇ + h a) with h = dt/2, dt/2, dt; stage 4 only evaluates.
    let t1 = q1;
    let t2 = q2;
    let w1 = v1;
    let w2 = v2;
    let sv1 = 0;
    let sv2 = 0;
    let sa1 = 0;
    let sa2 = 0;
    let a1 = 0;
    let a2 = 0;
    for (let stage = 0; stage < 4; stage++) {
      const s = Math.sin(t1 - t2);
      const c = Math.cos(t1 - t2);
      const f1 = nm2l2 * s * w2 * w2 - Mg * Math.sin(t1);
      const f2 = l1 * s * w1 * w1 - g * Math.sin(t2);
      const den = m1 + m2 * s * s;
      a1 = (f1 - m2 * c * f2) / (l1 * den);
      a2 = (M * f2 - c * f1) / (l2 * den);
      if (stage === 3) break;
      if (stage === 0) {
        sv1 = w1;
        sv2 = w2;
        sa1 = a1;
        sa2 = a2;
      } else {
        sv1 += 2 * w1;
        sv2 += 2 * w2;
        sa1 += 2 * a1;
        sa2 += 2 * a2;
      }
      const h = stage === 2 ? dt : h2;
      t1 = q1 + h * w1;
      t2 = q2 + h * w2;
      w1 = v1 + h * a1;
      w2 = v2 + h * a2;
    }
    q[i] = q1 + h6 * (sv1 + w1);
    q[i + 1] = q2 + h6 * (sv2 + w2);
    qd[i] = v1 + h6 * (sa1 + a1);
    qd[i + 1] = v2 + h6 * (sa2 + a2);
  }
}
