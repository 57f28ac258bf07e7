/**
 * Return `buf` when it holds at least `n` numbers, otherwise a new, larger buffer. Integrators keep
 * their stage buffers this way: grown on the first call with a larger batch, then reused, so the hot
 * loop allocates nothing. Contents are not preserved.
 */
export function ensureLength(buf: Float64Array, n: number): Float64Array {
  return buf.length >= n ? buf : new Float64Array(n);
}

/** Throws unless `q` and `qd` hold `dof * batch` numbers; cheap enough to run on every step. */
export function checkStateShape(
  name: string,
  q: Float64Array,
  qd: Float64Array,
  dof: number,
  batch: number,
): void {
  const n = dof * batch;
  if (!(n >= 0) || q.length < n || qd.length < n) {
    throw new Error(
      `${name}.step: q and qd must hold dof * batch = ${dof} * ${batch} = ${n} numbers, ` +
        `got q.length = ${q.length}, qd.length = ${qd.length}`,
    );
  }
}
