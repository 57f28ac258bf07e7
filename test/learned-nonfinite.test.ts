/**
 * Hostile states on every learned engine and every route Node has (js, wasm, cpu): each q̈ is finite,
 * and a state that is non-finite, whose network input leaves the float32 range, or (rapidity) has
 * |q̇_i| ≥ 1 is flagged failed with q̈ = 0 (docs/model-format.md, "Solving for q̈"). Normal states in the
 * same batch keep exactly the q̈ and flag they get without hostile neighbours. Steps (staged and
 * GPU-resident) flag the same states failed and coast them with q̈ = 0. A network without hidden layer
 * runs (baseline) or is refused at load with a ModelFormatError naming the fix (lnn, lgn).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/learned/backend';
import type { LearnedEngine } from '../src/learned/LearnedEngine';
import '../src/engines/learned';
import { createEngine } from '../src/engines/registry';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { loadModel } from '../src/model/loadModel';
import { ModelFormatError } from '../src/model/ModelFormatError';
import type { LoadedModel } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations } from '../src/model/reference';
import { createSystem } from '../src/systems/registry';

const FLOAT32_MAX = 3.4028234663852886e38;
const FAILED = 2;

const shipped = resolve(import.meta.dirname, '..', 'assets', 'models');
const names = existsSync(shipped)
  ? readdirSync(shipped)
      .filter((d) => existsSync(join(shipped, d, 'model.json')))
      .sort()
  : [];

/** [route, backend] pairs available in Node. */
const ROUTES = [
  ['js', 'wasm'],
  ['wasm', 'wasm'],
  ['cpu', 'cpu'],
] as const;

/** The learned engines (createEngine returns them as plain `Engine`s). */
type Learned = LearnedEngine;

/**
 * Whether the format calls a state failed, written from docs/model-format.md independently of the
 * engines: a non-finite coordinate; a network input, scaled or not, beyond float32 (angles enter
 * wrapped or as cos/sin, so a finite angle never is); under `rapidity`, |q̇_i| ≥ 1.
 */
function hostile(model: LoadedModel, q: ArrayLike<number>, qd: ArrayLike<number>): boolean {
  const meta = model.metadata;
  const lgn = meta.kind === 'lgn';
  const rapidity = meta.input.velocityEmbedding === 'rapidity';
  const scaleOf = (s: readonly number[], i: number) =>
    lgn ? Math.max(Math.abs(s[0]), Math.abs(s[1])) : Math.abs(s[i]);
  for (let i = 0; i < q.length; i++) {
    if (!Number.isFinite(q[i]) || !Number.isFinite(qd[i])) return true;
    const angle = lgn ? meta.angles[0] : meta.angles[i];
    const aq = Math.abs(q[i]);
    if (!angle && (aq > FLOAT32_MAX || aq * scaleOf(meta.input.qScale, i) > FLOAT32_MAX)) return true;
    const av = Math.abs(qd[i]);
    if (rapidity ? av >= 1 : av > FLOAT32_MAX || av * scaleOf(meta.input.qdScale, i) > FLOAT32_MAX)
      return true;
  }
  return false;
}

/** One state of a test batch; hostile grid states carry a label. */
interface State {
  q: number[];
  qd: number[];
  label?: string;
}

/** A state inside the training box. */
function baseState(model: LoadedModel, n: number, t: number): State {
  const r = model.metadata.trainingRanges;
  const at = (box: [number, number][] | undefined, i: number, f: number) => {
    const [lo, hi] = box?.[Math.min(i, box.length - 1)] ?? [-1, 1];
    return lo + f * (hi - lo);
  };
  const q: number[] = [];
  const qd: number[] = [];
  for (let i = 0; i < n; i++) {
    q.push(at(r?.q, i, (0.37 + 0.11 * i + 0.13 * t) % 1));
    qd.push(at(r?.qd, i, (0.61 + 0.07 * i + 0.17 * t) % 1));
  }
  return { q, qd };
}

/** The hostile grid: each value in q_0, q̇_0, q_{n−1}, q̇_{n−1}, all of q and all of q̇ of a base state. */
function grid(model: LoadedModel, n: number): State[] {
  const values = [1e308, -1e308, 1e40, -1e40, Number.NaN, Infinity, -Infinity, 1e-300];
  if (model.metadata.input.velocityEmbedding === 'rapidity') values.push(1, -1, 0.999999, -0.999999);
  const slots: [string, 'q' | 'qd', number[]][] = [
    ['q0', 'q', [0]],
    ['qd0', 'qd', [0]],
  ];
  if (n > 1) {
    slots.push([`q${n - 1}`, 'q', [n - 1]], [`qd${n - 1}`, 'qd', [n - 1]]);
    const all = Array.from({ length: n }, (_, i) => i);
    slots.push(['q*', 'q', all], ['qd*', 'qd', all]);
  }
  const states: State[] = [];
  for (const v of values) {
    for (const [name, which, coords] of slots) {
      const s = baseState(model, n, states.length);
      for (const i of coords) s[which][i] = v;
      states.push({ ...s, label: `${name}=${v}` });
    }
  }
  return states;
}

function systemFor(model: LoadedModel) {
  const meta = model.metadata;
  return createSystem(meta.system.id, meta.kind === 'lgn' ? { ...meta.system.params } : meta.system.params);
}

/** Per model × route: states, hostile states, failed among them, states with a finite q̈. */
const summary: string[] = [];
const totals = { states: 0, hostile: 0, flagged: 0, finite: 0 };

describe('learned engines: hostile states give a finite q̈ or the failed flag, on every route', () => {
  beforeAll(async () => {
    expect((await initBackend({ backend: 'wasm' })).name, 'wasm backend').toBe('wasm');
  });

  afterAll(() => {
    console.log(
      `hostile-state grid (model × route: hostile flagged failed / hostile, finite q̈ / states)\n  ${summary.join('\n  ')}\n  total: ${totals.flagged}/${totals.hostile} hostile flagged failed, ${totals.finite}/${totals.states} finite q̈`,
    );
  });

  it('finds the shipped models', () => {
    expect(names.length, `models under ${shipped}`).toBeGreaterThanOrEqual(5);
  });

  for (const name of names) {
    for (const [route, backend] of ROUTES) {
      it(`${name} on route ${route}: every q̈ finite, hostile states failed with q̈ = 0, normal states untouched`, async () => {
        const model = await loadModel(join(shipped, name));
        const system = systemFor(model);
        const n = system.dof;
        const states = grid(model, n);
        // Hostile states interleaved with normal ones, against the normal ones alone.
        const normals = Array.from({ length: 6 }, (_, t) => baseState(model, n, 100 + t));
        const mixed = states.flatMap((s, k) => (k % 8 === 0 ? [normals[(k / 8) % 6], s] : [s]));
        const batch = mixed.length;
        const q = Float64Array.from(mixed.flatMap((s) => s.q));
        const qd = Float64Array.from(mixed.flatMap((s) => s.qd));
        const engine = (await createEngine(model.metadata.kind, system, {
          model,
          backend,
          route,
        })) as Learned;
        const qdd = new Float64Array(batch * n).fill(Number.NaN);
        engine.accelerations(q, qd, qdd, batch);
        const flags = Array.from(engine.lastReport.flags);
        expect(flags.length, 'lastReport.flags holds one flag per state').toBe(batch);

        const nq = Float64Array.from(normals.flatMap((s) => s.q));
        const nqd = Float64Array.from(normals.flatMap((s) => s.qd));
        const nqdd = new Float64Array(normals.length * n);
        engine.accelerations(nq, nqd, nqdd, normals.length);
        const nflags = Array.from(engine.lastReport.flags);
        engine.dispose();

        const ref = new Float64Array(batch * n);
        const refFlags = new Uint8Array(batch);
        referenceAccelerations(model, q, qd, ref, batch, { flags: refFlags });

        let hostileCount = 0;
        let flagged = 0;
        let finite = 0;
        const problems: string[] = [];
        for (let b = 0; b < batch; b++) {
          const s = mixed[b];
          const a = Array.from(qdd.subarray(b * n, (b + 1) * n));
          const ok = a.every(Number.isFinite);
          if (ok) finite++;
          else problems.push(`${s.label ?? 'normal'}: q̈ ${a} (flag ${flags[b]})`);
          if (hostile(model, s.q, s.qd)) {
            hostileCount++;
            if (flags[b] === FAILED && a.every((v) => v === 0)) flagged++;
            else problems.push(`${s.label}: hostile but flag ${flags[b]}, q̈ ${a}`);
          } else if (flags[b] === FAILED) {
            problems.push(`${s.label ?? 'normal'}: not hostile but failed`);
          } else if (flags[b] === refFlags[b]) {
            // Legal (if extreme) states: the float64 evaluation of the file, to float32 accuracy.
            let scale = 1;
            for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(ref[b * n + i]));
            let err = 0;
            for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(a[i] - ref[b * n + i]) / scale);
            if (err > (route === 'js' ? 1e-9 : 2e-3))
              problems.push(`${s.label ?? 'normal'}: q̈ ${a} vs reference ${ref.subarray(b * n, b * n + n)}`);
          }
        }
        summary.push(
          `${name} × ${route}: ${flagged}/${hostileCount} hostile flagged failed, ${finite}/${batch} finite q̈`,
        );
        totals.states += batch;
        totals.hostile += hostileCount;
        totals.flagged += flagged;
        totals.finite += finite;
        expect(problems, `${name} × ${route}`).toEqual([]);
        expect(hostileCount, 'the grid holds hostile states').toBeGreaterThan(0);
        // Normal states beside hostile ones: bit for bit what they give alone.
        for (let t = 0; t < normals.length; t++) {
          const b = mixed.indexOf(normals[t]);
          if (b < 0) continue;
          expect(Array.from(qdd.subarray(b * n, (b + 1) * n)), `normal state ${t}: q̈`).toEqual(
            Array.from(nqdd.subarray(t * n, (t + 1) * n)),
          );
          expect(flags[b], `normal state ${t}: flag`).toBe(nflags[t]);
        }
      });
    }
  }

  for (const [label, backend, resident] of [
    ['staged RK4 on wasm', 'wasm', false],
    ['GPU-resident RK4 on wasm', 'wasm', true],
    ['GPU-resident RK4 on cpu', 'cpu', true],
  ] as const) {
    it(`steps (${label}): hostile states flagged failed and coasted with q̈ = 0, normal states as without them`, async () => {
      for (const name of names) {
        const model = await loadModel(join(shipped, name));
        const system = systemFor(model);
        const n = system.dof;
        const states = grid(model, n).filter((s) => hostile(model, s.q, s.qd));
        const normals = Array.from({ length: 4 }, (_, t) => baseState(model, n, 200 + t));
        const mixed = [normals[0], ...states.slice(0, 12), normals[1], normals[2], ...states.slice(12, 24)];
        mixed.push(normals[3]);
        const batch = mixed.length;
        const engine = (await createEngine(model.metadata.kind, system, {
          model,
          backend,
          route: backend,
          resident,
        })) as Learned;
        const rk4 = new RungeKutta4();
        const q = Float64Array.from(mixed.flatMap((s) => s.q));
        const qd = Float64Array.from(mixed.flatMap((s) => s.qd));
        const qd0 = qd.slice();
        engine.advance(q, qd, batch, 1 / 120, rk4, 2);
        const flags = Array.from(engine.lastReport.flags);
        expect(engine.lastReport.path, `${name}: path`).toBe(resident ? 'resident' : 'tensor');
        const nq = Float64Array.from(normals.flatMap((s) => s.q));
        const nqd = Float64Array.from(normals.flatMap((s) => s.qd));
        engine.advance(nq, nqd, normals.length, 1 / 120, rk4, 2);
        const nflags = Array.from(engine.lastReport.flags);
        engine.dispose();
        for (let b = 0; b < batch; b++) {
          const t = normals.indexOf(mixed[b]);
          if (t >= 0) {
            expect(Array.from(q.subarray(b * n, (b + 1) * n)), `${name}: normal ${t} q`).toEqual(
              Array.from(nq.subarray(t * n, (t + 1) * n)),
            );
            expect(Array.from(qd.subarray(b * n, (b + 1) * n)), `${name}: normal ${t} q̇`).toEqual(
              Array.from(nqd.subarray(t * n, (t + 1) * n)),
            );
            expect(flags[b], `${name}: normal ${t} flag`).toBe(nflags[t]);
            continue;
          }
          expect(flags[b], `${name}: ${mixed[b].label} flag`).toBe(FAILED);
          for (let i = b * n; i < (b + 1) * n; i++) {
            expect(Object.is(qd[i], qd0[i]), `${name}: ${mixed[b].label} q̇ unchanged (q̈ = 0)`).toBe(true);
          }
        }
      }
    });
  }

  it('a network without hidden layer: baseline runs on every route; lnn and lgn are refused at load with a ModelFormatError naming the fix', async () => {
    const cases = [
      ['baseline', createSystem('double-pendulum')],
      ['lnn', createSystem('double-pendulum')],
      ['lgn', createSystem('string', { nodes: 5 })],
    ] as const;
    for (const [kind, system] of cases) {
      const model = createRandomModel({
        kind,
        dof: system.dof,
        hidden: [],
        seed: 3,
        ...(kind === 'lgn' ? { system: { id: 'string', params: {} } } : {}),
      });
      for (const [route, backend] of ROUTES) {
        let engine: Learned | undefined;
        let error: unknown;
        try {
          engine = (await createEngine(kind, system, { model, backend, route })) as Learned;
        } catch (e) {
          error = e;
        }
        if (kind === 'baseline') {
          expect(error, `${kind} × ${route}: loads`).toBeUndefined();
        } else {
          expect(error, `${kind} × ${route}: refused with a typed error`).toBeInstanceOf(ModelFormatError);
          expect((error as ModelFormatError).problem, `${kind}: problem code`).toBe('bad-field');
          expect((error as Error).message, `${kind}: message names the cause and the fix`).toMatch(
            /no hidden layer.*H_vv.*--hidden/,
          );
          continue;
        }
        const n = system.dof;
        const q = Float64Array.from([0.1, 0.2, 0.3, 1e40]);
        const qd = Float64Array.from([0.4, -0.5, Number.NaN, 0.1]);
        const qdd = new Float64Array(2 * n);
        engine!.accelerations(q, qd, qdd, 2);
        expect(Array.from(qdd).every(Number.isFinite), `${kind} × ${route}: finite q̈`).toBe(true);
        expect(Array.from(engine!.lastReport.flags), `${kind} × ${route}: flags`).toEqual([0, FAILED]);
        engine!.dispose();
      }
    }
  });
});

describe('the float64 reference follows the same policy (in float64: no float32 range)', () => {
  it('the baseline at q̇ = ±1e308 (q̈ = ∓Infinity before) and NaN states are failed with q̈ = 0', async () => {
    const model = await loadModel(
      join(resolve(import.meta.dirname, '..'), 'assets/models/double-pendulum-baseline'),
    );
    const q = [0, 0, 0.3, -0.2, Number.NaN, 0];
    const qd = [1e308, -1e308, 0.5, 0.1, 0, 0];
    const qdd = new Float64Array(6);
    const flags = new Uint8Array(3);
    const bad = referenceAccelerations(model, q, qd, qdd, 3, { flags });
    expect(Array.from(flags)).toEqual([2, 0, 2]);
    expect(bad).toBe(2);
    expect([qdd[0], qdd[1], qdd[4], qdd[5]]).toEqual([0, 0, 0, 0]);
    expect(Number.isFinite(qdd[2]) && Number.isFinite(qdd[3])).toBe(true);
    // Beyond float32 but finite in float64: the reference computes it, as a float64 oracle should.
    const far = new Float64Array(2);
    const farFlags = new Uint8Array(1);
    referenceAccelerations(model, [0, 0], [1e40, 0], far, 1, { flags: farFlags });
    expect(farFlags[0]).toBe(Number.isFinite(far[0]) && Number.isFinite(far[1]) ? 0 : 2);
  });
});
