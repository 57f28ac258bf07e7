/**
 * Read-back for chains of rigid links whose coordinate q_k is the absolute angle of link k from the
 * downward vertical (pendulum, double pendulum, N-link chain): θ = atan2(Δx, −Δy). Angles are unwrapped
 * against the previous reading so a trajectory read back step by step is continuous (no jumps of 2π), as
 * the exact integration is.
 * @param links the point pairs `[from, to]` of link k, in coordinate order
 * @param q0 `[links.length]` the initial angles (the first unwrapping reference)
 * @returns `readQ` (q from point positions `[pointCount * 3]`) and `reset` (a new
 *   unwrapping reference, after the bodies were placed at a state)
 */
export function linkAngles(
  links: readonly (readonly [number, number])[],
  q0: ArrayLike<number>,
): {
  readQ: (points: Float64Array, q: Float64Array) => void;
  reset: (q: ArrayLike<number>) => void;
} {
  const last = new Float64Array(links.length);
  const reset = (q: ArrayLike<number>): void => {
    for (let k = 0; k < links.length; k++) last[k] = q[k] ?? 0;
  };
  reset(q0);
  const twoPi = 2 * Math.PI;
  const readQ = (p: Float64Array, q: Float64Array): void => {
    for (let k = 0; k < links.length; k++) {
      const [a, b] = links[k];
      const dx = p[3 * b] - p[3 * a];
      const dy = p[3 * b + 1] - p[3 * a + 1];
      const raw = Math.atan2(dx, -dy);
      const theta = raw + twoPi * Math.round((last[k] - raw) / twoPi);
      last[k] = theta;
      q[k] = theta;
    }
  };
  return { readQ, reset };
}
