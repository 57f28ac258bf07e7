import { afterEach, describe, expect, it, vi } from 'vitest';
import { LNNEngine } from '../src/engines/LNNEngine';
import { createRandomModel } from '../src/model/randomModel';
import { createSystem } from '../src/systems/registry';

const dp = createSystem('double-pendulum');

function states(batch: number): { q: Float64Array; qd: Float64Array } {
  const q = new Float64Array(2 * batch);
  const qd = new Float64Array(2 * batch);
  for (let i = 0; i < 2 * batch; i++) {
    q[i] = Math.sin(1.7 * i) * 3;
    qd[i] = Math.cos(0.9 * i) * 2;
  }
  return { q, qd };
}

describe('learned engine worker threads when they cannot run or stop answering (Node, wasm)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** The pool inside an engine, for the failure cases (private fields). */
  type PoolInside = { generation: number; workers: { terminate(): void; dead(): string | null } };
  const poolOf = (e: LNNEngine) => (e as unknown as { lnn: { pool: PoolInside | null } }).lnn.pool;

  for (const [label, breakIt] of [
    // The worker fails inside a run (it is told of buffers it never receives): it answers "failed".
    ['a worker that fails a run', (p: PoolInside) => void p.generation++],
    // The workers are gone before the call (as after a crash between calls): no wait at all.
    ['workers that are gone', (p: PoolInside) => p.workers.terminate()],
  ] as const) {
    it(`${label}: the call finishes on this thread with bitwise the same q̈, warns once, and stays there`, async () => {
      const model = createRandomModel({ hidden: [32, 32], seed: 5, biasStd: 0.2 });
      const one = await LNNEngine.load(model, dp, { backend: 'wasm', jsBelow: 0 });
      const two = await LNNEngine.load(model, dp, {
        backend: 'wasm',
        jsBelow: 0,
        threads: 2,
        parallelAbove: 16,
      });
      const batch = 200;
      const { q, qd } = states(batch);
      const a = new Float64Array(2 * batch);
      const b = new Float64Array(2 * batch);
      one.accelerations(q, qd, a, batch);
      two.accelerations(q, qd, b, batch);
      expect(two.lastReport.threads).toBe(2);
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      breakIt(poolOf(two)!);
      const t0 = Date.now();
      b.fill(0);
      two.accelerations(q, qd, b, batch);
      expect(Date.now() - t0, 'no long wait (ms)').toBeLessThan(5_000);
      expect(Array.from(b), 'q̈ of the call that met the failure').toEqual(Array.from(a));
      expect(two.threads, 'pool dropped').toBe(1);
      expect(two.lastReport.threads).toBe(1);
      expect(two.threadsProblem).toMatch(/worker threads stopped/);
      expect(warn.mock.calls.filter((c) => String(c[0]).includes('worker threads stopped'))).toHaveLength(1);
      two.accelerations(q, qd, b, batch);
      expect(Array.from(b), 'next call').toEqual(Array.from(a));
      errors.mockRestore();
      one.dispose();
      two.dispose();
    });
  }

  it("threads > 1 where no batch is split throws naming why; 'auto' there stays on one thread quietly", async () => {
    const model = createRandomModel({ hidden: [16], seed: 6 });
    await expect(LNNEngine.load(model, dp, { backend: 'js', threads: 2 })).rejects.toThrow(
      /threads: 2 cannot run here: the batch is split only on the wasm route \(backend js/,
    );
    await expect(LNNEngine.load(model, dp, { backend: 'wasm', route: 'js', threads: 2 })).rejects.toThrow(
      /only on the wasm route \(backend wasm, route 'js'\)/,
    );
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const auto = await LNNEngine.load(model, dp, { backend: 'js', threads: 'auto' });
    expect(auto.threads).toBe(1);
    expect(warn).not.toHaveBeenCalled();
    auto.dispose();
  });
});
