import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/learned/backend';
import '../src/engines/learned';
import { createEngine } from '../src/engines/registry';
import { createRng, uniform } from '../src/math/random';
import { loadModel } from '../src/model/loadModel';
import { referenceAccelerations } from '../src/model/reference';
import { createSystem } from '../src/systems/registry';

const shipped = resolve(import.meta.dirname, '..', 'assets', 'models');
const names = existsSync(shipped)
  ? readdirSync(shipped).filter((d) => existsSync(join(shipped, d, 'model.json')))
  : [];

describe('shipped models: engine q̈ (wasm, float32) equals the float64 evaluation of the files', () => {
  beforeAll(async () => {
    expect((await initBackend({ backend: 'wasm' })).name, 'wasm backend').toBe('wasm');
  });

  it('finds the shipped models', () => {
    expect(names.length, `models under ${shipped}`).toBeGreaterThan(0);
  });

  for (const name of names) {
    it(`${name}: 256 states from the training box agree to 1e-4 relative`, async () => {
      const model = await loadModel(join(shipped, name));
      const meta = model.metadata;
      const system = createSystem(
        meta.system.id,
        meta.kind === 'lgn' ? { ...meta.system.params } : meta.system.params,
      );
      const n = system.dof;
      const batch = 256;
      const rng = createRng(11);
      const q = new Float64Array(batch * n);
      const qd = new Float64Array(batch * n);
      const box = (r: [number, number][] | undefined, i: number): [number, number] =>
        r?.[Math.min(i, r.length - 1)] ?? [-1, 1];
      for (let b = 0; b < batch; b++) {
        for (let i = 0; i < n; i++) {
          q[b * n + i] = uniform(rng, ...box(meta.trainingRanges?.q, i));
          qd[b * n + i] = uniform(rng, ...box(meta.trainingRanges?.qd, i));
        }
      }
      const engine = await createEngine(meta.kind, system, { model, backend: 'wasm', jsBelow: 0 });
      const qdd = new Float64Array(batch * n);
      engine.accelerations(q, qd, qdd, batch);
      engine.dispose();
      const ref = new Float64Array(batch * n);
      const flags = new Uint8Array(batch);
      referenceAccelerations(model, q, qd, ref, batch, { flags });
      let worst = 0;
      for (let b = 0; b < batch; b++) {
        let scale = 1;
        for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(ref[b * n + i]));
        for (let i = 0; i < n; i++)
          worst = Math.max(worst, Math.abs(qdd[b * n + i] - ref[b * n + i]) / scale);
      }
      expect(worst, `${name}: max |q̈_engine − q̈_float64| / max(1, |q̈|)`).toBeLessThan(1e-4);
    });
  }
});
