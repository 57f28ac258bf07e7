/**
 * max |a − b| / max(floor, max |b|): a scale-aware error for comparing a float32 result with a float64
 * reference (the floor keeps near-zero references from inflating it).
 */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1): number {
  let num = 0;
  let den = floor;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}
