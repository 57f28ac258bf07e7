import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/model/artifacts';
import { loadModel } from '../src/model/loadModel';
import type { LoadedModel } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations, referenceEnergy } from '../src/model/reference';
import { writeModel } from '../src/model/saveModel';

const repo = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'three-lnn-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The numpy reader printed in docs/model-format.md, plus a small driver. */
function readerScript(): string {
  const doc = readFileSync(join(repo, 'docs', 'model-format.md'), 'utf8');
  const block = /```python\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/model-format.md has no ```python block (the independent reader)');
  const driver = `
import sys
meta, layers = load(sys.argv[1])
q, qd = json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {"qdd": [float(v) for v in accelerations(meta, layers, q, qd)]}
if meta["kind"] != "baseline":
    out["energy"] = energy(meta, layers, q, qd)
print(json.dumps(out))
`;
  const file = join(dir, 'reader.py');
  writeFileSync(file, block[1] + driver);
  return file;
}

function python(): string {
  for (const exe of ['python3', 'python']) {
    try {
      execFileSync(exe, ['-c', 'import numpy'], { stdio: 'ignore' });
      return exe;
    } catch {
      // try the next name
    }
  }
  throw new Error(
    'This test needs Python 3 with numpy (pip install numpy): it runs the reader from the docs.',
  );
}

describe('the numpy reader in docs/model-format.md reproduces the TypeScript evaluator', () => {
  const script = readerScript();
  const exe = python();
  const cases: [string, () => Promise<LoadedModel>, number[], number[]][] = [
    [
      'lnn softplus n=2 (wrapped angles)',
      async () => createRandomModel({ hidden: [16, 16], seed: 3, biasStd: 0.3 }),
      [0.3, 5],
      [1, -2],
    ],
    [
      'lnn tanh n=3',
      async () => createRandomModel({ dof: 3, hidden: [8, 8, 8], activation: 'tanh', seed: 4, biasStd: 0.3 }),
      [0.3, 5, -7],
      [1, -2, 3],
    ],
    [
      'lnn sincos n=2 (angles as cos, sin), input scales ≠ 1',
      async () =>
        createRandomModel({
          angleEmbedding: 'sincos',
          hidden: [16, 16],
          seed: 8,
          biasStd: 0.3,
          qScale: 0.7,
          qdScale: 0.25,
          outputScale: 1.9,
        }),
      [0.3 + 4 * Math.PI, -2.9],
      [1, -2],
    ],
    [
      'lnn sincos n=3, one coordinate not an angle',
      async () =>
        createRandomModel({
          dof: 3,
          angles: [true, false, true],
          angleEmbedding: 'sincos',
          hidden: [8, 8],
          activation: 'tanh',
          seed: 9,
          biasStd: 0.3,
        }),
      [3.1, 0.6, -7],
      [1, -2, 3],
    ],
    [
      'lnn rapidity velocities (atanh q̇), sincos angles',
      async () => {
        const m = createRandomModel({
          angleEmbedding: 'sincos',
          hidden: [16, 16],
          seed: 10,
          biasStd: 0.3,
          qdScale: 0.5,
        });
        return createModel(
          { ...m.metadata, input: { ...m.metadata.input, velocityEmbedding: 'rapidity' } },
          m.layers,
        );
      },
      [0.3, -2.9],
      [0.6, -0.85],
    ],
    [
      'lgn, 4 nodes',
      async () => createRandomModel({ kind: 'lgn', hidden: [8, 8], seed: 5, biasStd: 0.3 }),
      [0.1, 0.2, -0.3, 0.05],
      [1, -2, 0.5, 0.3],
    ],
    [
      'baseline relu',
      async () => createRandomModel({ kind: 'baseline', hidden: [8, 8], activation: 'relu', seed: 6 }),
      [0.3, 5],
      [1, -2],
    ],
  ];
  // Every shipped model, at a state inside its training box.
  const shipped = join(repo, 'assets', 'models');
  for (const name of existsSync(shipped) ? readdirSync(shipped) : []) {
    if (!existsSync(join(shipped, name, 'model.json'))) continue;
    const meta = JSON.parse(readFileSync(join(shipped, name, 'model.json'), 'utf8')).userDefinedMetadata
      .threeLnn;
    const n = meta.kind === 'lgn' ? 5 : meta.dof;
    const box = (r: [number, number][] | undefined, i: number, t: number) => {
      const [lo, hi] = r?.[Math.min(i, (r?.length ?? 1) - 1)] ?? [-1, 1];
      return lo + t * (hi - lo);
    };
    const q = Array.from({ length: n }, (_, i) => box(meta.trainingRanges?.q, i, 0.3 + 0.1 * i));
    const qd = Array.from({ length: n }, (_, i) => box(meta.trainingRanges?.qd, i, 0.6 - 0.1 * i));
    cases.push([`shipped ${name}`, () => loadModel(join(shipped, name)), q, qd]);
  }
  for (const [label, make, q, qd] of cases) {
    it(label, async () => {
      const model = await make();
      const path = join(dir, label.replace(/\W+/g, '-'));
      await writeModel(path, model);
      const out = JSON.parse(
        execFileSync(exe, [script, path, JSON.stringify(q), JSON.stringify(qd)], { encoding: 'utf8' }),
      ) as { qdd: number[]; energy?: number };
      const ref = new Float64Array(q.length);
      referenceAccelerations(model, q, qd, ref, 1);
      out.qdd.forEach((v, i) => {
        expect(Math.abs(v - ref[i]), `q̈[${i}]: numpy ${v}, TypeScript ${ref[i]}`).toBeLessThan(
          1e-9 * Math.max(1, Math.abs(ref[i])),
        );
      });
      if (model.metadata.kind !== 'baseline') {
        const e = referenceEnergy(model, q, qd);
        expect(Math.abs((out.energy ?? Number.NaN) - e), 'learned energy').toBeLessThan(
          1e-9 * Math.max(1, Math.abs(e)),
        );
      }
    });
  }
});
