import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrate } from '../src/integrators/integrate';
import { createRng } from '../src/math/random';
import {
  defineScene,
  runScene,
  type Scene,
  SceneError,
  type SceneRun,
  SceneRunner,
} from '../src/scene/index';
import '../src/engines/learned';
import { loadModel } from '../src/model/loadModel';
import { createRandomModel } from '../src/model/randomModel';
import { referenceEnergy } from '../src/model/reference';
import { writeModel } from '../src/model/saveModel';
import { createSystem } from '../src/systems/registry';

/** Scene scripting: the docs' example, determinism, event semantics, failures and validation. */

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'three-lnn.mjs');
const SCENE_API = pathToFileURL(join(ROOT, 'src', 'scene', 'index.ts')).href;
const dir = mkdtempSync(join(tmpdir(), 'three-lnn-scene-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Write a scene module to the scratch directory, with `three-lnn` imports pointing at this checkout. */
function sceneFile(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source.replaceAll(`from 'three-lnn'`, `from ${JSON.stringify(SCENE_API)}`));
  return path;
}

/** Run the CLI; resolves with the exit status and output. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { maxBuffer: 1 << 28, encoding: 'utf8' },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** The example between the scene-example markers of docs/scenes.md. */
function docsExample(): string {
  const md = readFileSync(join(ROOT, 'docs', 'scenes.md'), 'utf8');
  const block = /<!-- scene-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- scene-example:end -->/.exec(md);
  if (!block) throw new Error('docs/scenes.md: the scene-example block is missing');
  return block[1];
}

/** A one-system scene of a double pendulum. */
function pendulum(extra: Partial<Parameters<typeof defineScene>[0]> = {}): Scene {
  return defineScene({
    name: 'one',
    dt: 0.01,
    duration: 2,
    systems: [{ id: 'dp', system: 'double-pendulum', q0: [2, 1], qd0: [0, 0.5] }],
    recorders: [{ target: 'dp', every: 10, quantities: ['q', 'qd', 'energy'] }],
    ...extra,
  });
}

describe('the docs/scenes.md example', () => {
  it('runs headless in-process and through `three-lnn scene` with identical numbers', async () => {
    const file = sceneFile('kick.scene.mts', docsExample());
    const scene = (await import(pathToFileURL(file).href)).default as Scene;
    const out = join(dir, 'run.json');
    const [inProcess, viaCli] = await Promise.all([runScene(scene), cli(['scene', file, '--out', out])]);
    expect(viaCli.code, viaCli.stderr).toBe(0);
    const fromCli = JSON.parse(readFileSync(out, 'utf8')) as SceneRun;
    expect(fromCli, 'CLI run equals the in-process run, number for number').toEqual(
      JSON.parse(JSON.stringify(inProcess)),
    );

    const run = inProcess;
    expect(run.steps).toBe(2000);
    expect(run.duration).toBe(10);
    expect(run.failures).toEqual([]);
    expect(run.events.map((e) => [e.type, e.t, e.step])).toEqual([
      ['marker', 4.5, 900],
      ['impulse', 5, 1000],
      ['perturb', 7, 1400],
    ]);
    const calm = run.recordings.calm;
    const kicked = run.recordings.kicked;
    expect(kicked.t.length, 'records every 20 steps, t = 0 included').toBe(101);
    expect(kicked.positions![0][0].length, 'positions: [T][count][3 points × 3]').toBe(9);
    expect(run.recordings.fan.q![0].length, 'fan: 8 copies').toBe(8);
    const k5 = kicked.t.indexOf(5);
    for (let k = 0; k < k5; k++) expect(kicked.q![k], `t = ${kicked.t[k]}`).toEqual(calm.q![k]);
    const sys = createSystem('double-pendulum');
    const e0 = calm.energy![0][0]!;
    for (let k = 0; k < k5; k++) {
      expect(Math.abs(kicked.energy![k][0]! - e0), 'energy constant before the kick').toBeLessThan(
        1e-6 * 29.4,
      );
    }
    // The record at t = 5 shows the state right after the kick: calm's velocity + Δq̇.
    const qdKicked = [calm.qd![k5][0][0] + 3, calm.qd![k5][0][1]];
    expect(kicked.qd![k5][0]).toEqual(qdKicked);
    expect(kicked.energy![k5][0]).toBe(sys.energy(calm.q![k5][0], qdKicked));
    expect(kicked.energy![k5][0]! - e0, 'the kick adds energy').toBeGreaterThan(1);
  });
});

describe('runScene', () => {
  it('records exactly what the integrator computes on its own (the runner does not disturb stepping)', async () => {
    const run = await runScene(pendulum());
    const sys = createSystem('double-pendulum');
    const q = Float64Array.of(2, 1);
    const qd = Float64Array.of(0, 0.5);
    const expected: number[][] = [[2, 1]];
    integrate(sys.accelerations.bind(sys), q, qd, 2, 1, {
      t1: 2,
      dt: 0.01,
      integrator: 'rk4',
      onStep: (k, _t, qs) => {
        if (k % 10 === 0) expected.push(Array.from(qs));
      },
    });
    expect(run.recordings.dp.q!.map((r) => r[0])).toEqual(expected);
  });

  it('gives the same numbers when a renderer drives the world with irregular frame times', async () => {
    const scene = defineScene({
      ...pendulum(),
      systems: [
        {
          id: 'dp',
          system: 'double-pendulum',
          q0: [2, 1],
          count: 2,
          qd0: [
            [0, 0.5],
            [1, 0],
          ],
        },
      ],
      events: [
        { at: 0.5, type: 'impulse', target: 'dp', index: 1, qd: [0.5, -0.5] },
        { at: 1, type: 'perturb', target: 'dp', q: 0.01, qd: 0.1, seed: 3 },
        { at: 1.2, type: 'pause', target: 'dp' },
        { at: 1.4, type: 'resume', target: 'dp' },
      ],
    });
    const headless = await runScene(scene);
    const runner = await SceneRunner.create(scene, { world: { maxSubSteps: 1000 } });
    const rng = createRng(99);
    while (runner.stepIndex < runner.steps) {
      // Frames of 5–40 ms; the last frame is cut so that the run ends exactly at the scene's duration.
      const frame = Math.min(0.005 + 0.035 * rng(), (runner.steps - runner.stepIndex) * runner.dt + 1e-12);
      runner.world.step(runner.dt, frame);
    }
    const live = runner.result();
    runner.dispose();
    expect(live.steps).toBe(headless.steps);
    expect(live.recordings, 'accumulator-driven run = headless run').toEqual(headless.recordings);
    expect(live.events).toEqual(headless.events);
  });

  it('is deterministic, and a --duration override runs longer than the scene', async () => {
    const a = await runScene(pendulum(), { duration: 3 });
    const b = await runScene(pendulum(), { duration: 3 });
    expect(a).toEqual(b);
    expect(a.recordings.dp.t.at(-1)).toBe(3);
    await expect(runScene(pendulum(), { duration: 3.005 })).rejects.toThrow(
      /not a positive whole number of dt/,
    );
  });
});

describe('events', () => {
  it('impulse adds Δq̇ at its boundary; setState replaces the state of one copy', async () => {
    const base = await runScene(pendulum());
    const kicked = await runScene(
      pendulum({
        events: [
          { at: 0.5, type: 'impulse', target: 'dp', qd: [1, -2] },
          { at: 1.5, type: 'setState', target: 'dp', q: [0.1, 0.2], qd: [0, 0] },
        ],
      }),
    );
    const i = base.recordings.dp.t.indexOf(0.5);
    expect(kicked.recordings.dp.qd![i][0]).toEqual([
      base.recordings.dp.qd![i][0][0] + 1,
      base.recordings.dp.qd![i][0][1] - 2,
    ]);
    expect(kicked.recordings.dp.q![i]).toEqual(base.recordings.dp.q![i]);
    const j = base.recordings.dp.t.indexOf(1.5);
    expect(kicked.recordings.dp.q![j][0]).toEqual([0.1, 0.2]);
    expect(kicked.recordings.dp.qd![j][0]).toEqual([0, 0]);
  });

  it('perturb is seeded: the same seed gives the same noise, another seed other noise', async () => {
    const ev = (seed: number) =>
      pendulum({ events: [{ at: 0.5, type: 'perturb', target: 'dp', q: 0.01, qd: 0.1, seed }] });
    const [a, b, c, base] = await Promise.all([
      runScene(ev(5)),
      runScene(ev(5)),
      runScene(ev(6)),
      runScene(pendulum()),
    ]);
    const i = base.recordings.dp.t.indexOf(0.5);
    expect(a.recordings.dp.q).toEqual(b.recordings.dp.q);
    expect(a.recordings.dp.q![i]).not.toEqual(c.recordings.dp.q![i]);
    const dq = Math.abs(a.recordings.dp.q![i][0][0] - base.recordings.dp.q![i][0][0]);
    expect(dq, 'noise of the stated size').toBeGreaterThan(0);
    expect(dq).toBeLessThan(0.05);
  });

  it('pause with a target holds that system (others move); a scene pause pauses the world; markers are logged', async () => {
    const scene = defineScene({
      name: 'hold',
      dt: 0.01,
      duration: 2,
      systems: [
        { id: 'a', system: 'double-pendulum', q0: [1, 1] },
        { id: 'b', system: 'simple-pendulum', q0: [1] },
      ],
      events: [
        { at: 0.5, type: 'pause', target: 'a' },
        { at: 1, type: 'resume', target: 'a' },
        { at: 1.5, type: 'pause' },
        { at: 1.6, type: 'marker', label: 'look' },
      ],
      recorders: [
        { target: 'a', every: 10, quantities: ['q', 'qd'] },
        { target: 'b', every: 10, quantities: ['q'] },
      ],
    });
    const seen: string[] = [];
    const runner = await SceneRunner.create(scene, { onEvent: (e) => seen.push(e.type) });
    runner.advance(runner.steps);
    const run = runner.result();
    expect(runner.world.paused, 'a scene pause pauses the world for renderers').toBe(true);
    runner.dispose();
    const a = run.recordings.a;
    const at = (t: number) => a.t.indexOf(t);
    for (const t of [0.6, 0.7, 0.8, 0.9, 1]) {
      expect(a.q![at(t)], `held at t = ${t}`).toEqual(a.q![at(0.5)]);
      expect(a.qd![at(t)]).toEqual(a.qd![at(0.5)]);
    }
    expect(a.q![at(1.1)]).not.toEqual(a.q![at(1)]);
    const b = run.recordings.b;
    expect(b.q![b.t.indexOf(0.6)]).not.toEqual(b.q![b.t.indexOf(0.5)]);
    expect(seen).toEqual(['pause', 'resume', 'pause', 'marker']);
    expect(run.events[3]).toMatchObject({ type: 'marker', label: 'look', t: 1.6 });
    expect(run.steps, 'headless runs continue through a scene pause').toBe(200);
  });
});

describe('failures and validation', () => {
  it('a copy that fails is frozen at its last finite state and listed; the others run on', async () => {
    const run = await runScene(
      defineScene({
        name: 'fail',
        dt: 0.1,
        duration: 1,
        systems: [
          {
            id: 'p',
            system: 'relativistic-particle',
            params: { g: 100 },
            integrator: 'symplectic-euler',
            count: 1,
            q0: [0],
            qd0: [0],
          },
          { id: 'ok', system: 'simple-pendulum', q0: [1] },
        ],
        recorders: [
          { target: 'p', quantities: ['q', 'qd'] },
          { target: 'ok', quantities: ['q'] },
        ],
      }),
    );
    expect(run.failures.length).toBe(1);
    expect(run.failures[0]).toMatchObject({ target: 'p', index: 0, step: 2 });
    expect(run.recordings.p.qd!.at(-1)![0][0], 'frozen at its last finite state').toBeCloseTo(10, 12);
    expect(run.recordings.ok.q!.at(-1)![0][0]).not.toBe(1);
    expect(run.recordings.p.q!.flat(2).every(Number.isFinite)).toBe(true);
  });

  const bad: [string, () => unknown, RegExp][] = [
    [
      'unknown event target',
      () => pendulum({ events: [{ at: 1, type: 'impulse', target: 'dq', qd: [1, 0] }] }),
      /events\[0\]\.target "dq".*use one of dp/,
    ],
    [
      'unknown event type',
      () => pendulum({ events: [{ at: 1, type: 'explode', target: 'dp' } as never] }),
      /events\[0\]\.type 'explode'.*impulse/,
    ],
    [
      'duration not a multiple of dt',
      () => pendulum({ duration: 1.005 }),
      /duration 1\.005 is not a whole number of dt = 0\.01 steps; use 1/,
    ],
    [
      'duplicate system id',
      () =>
        pendulum({
          systems: [
            { id: 'x', system: 'double-pendulum' },
            { id: 'x', system: 'double-pendulum' },
          ],
        }),
      /'x' is used twice/,
    ],
    [
      'NaN in q0',
      () => pendulum({ systems: [{ id: 'dp', system: 'double-pendulum', q0: [1, Number.NaN] }] }),
      /q0.*finite numbers/,
    ],
    [
      'unknown quantity',
      () => pendulum({ recorders: [{ target: 'dp', quantities: ['speed' as never] }] }),
      /'speed' is unknown/,
    ],
  ];
  it.each(bad)('defineScene rejects: %s', (_name, make, message) => {
    expect(make).toThrow(SceneError);
    expect(make).toThrow(message);
  });

  it('runs reject physics mismatches with the scene system named', async () => {
    await expect(runScene(pendulum({ systems: [{ id: 'dp', system: 'triple-pendulum' }] }))).rejects.toThrow(
      /systems\[0\] \('dp'\): Unknown system 'triple-pendulum'/,
    );
    await expect(
      runScene(pendulum({ systems: [{ id: 'dp', system: 'double-pendulum', q0: [1, 2, 3] }] })),
    ).rejects.toThrow(/q0 has 3 numbers; double-pendulum has 2 degrees of freedom/);
    await expect(
      runScene(pendulum({ events: [{ at: 1, type: 'impulse', target: 'dp', qd: [1] }] })),
    ).rejects.toThrow(/events\[0\]\.qd has 1 numbers; 'dp' has 2/);
    await expect(
      runScene(pendulum({ systems: [{ id: 'dp', system: 'double-pendulum', engine: 'magic' }] })),
    ).rejects.toThrow(/'dp'.*Unknown engine 'magic'/);
  });

  it('`three-lnn scene` reports a bad scene file in one line and exits non-zero', async () => {
    const noDefault = sceneFile('nodefault.mts', 'export const x = 1;\n');
    const badTarget = sceneFile(
      'badtarget.mts',
      "import { defineScene } from 'three-lnn';\nexport default { name: 's', dt: 0.1, duration: 1, systems: [{ id: 'a', system: 'double-pendulum' }], recorders: [{ target: 'b' }] };\n",
    );
    const good = sceneFile(
      'good.mts',
      "export default { name: 'g', dt: 0.1, duration: 1, systems: [{ id: 'a', system: 'double-pendulum' }] };\n",
    );
    const results = await Promise.all([
      cli(['scene', noDefault]),
      cli(['scene', badTarget]),
      cli(['scene', join(dir, 'missing.mts')]),
      cli(['scene', good, '--duration', '0.25']),
    ]);
    const messages = [
      /no default export/,
      /recorders\[0\]\.target "b"/,
      /does not exist/,
      /--duration 0\.25 is not a whole number/,
    ];
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(messages[i]);
      expect(r.stderr.trim().split('\n').length, r.stderr).toBe(1);
    });
  });
});

describe('learned engines in scenes', () => {
  it('runs an lnn system from a model path, records the learned energy, and is deterministic', async () => {
    const modelDir = join(dir, 'lnn');
    await writeModel(modelDir, createRandomModel({ kind: 'lnn', hidden: [16, 16], seed: 4 }));
    const scene = defineScene({
      name: 'learned',
      dt: 0.01,
      duration: 0.1,
      systems: [
        { id: 'exact', system: 'double-pendulum', q0: [0.1, 0.2] },
        {
          id: 'net',
          system: 'double-pendulum',
          engine: 'lnn',
          model: modelDir,
          backend: 'js',
          q0: [0.1, 0.2],
        },
      ],
      recorders: [{ target: 'net', every: 5, quantities: ['q', 'qd', 'energy', 'engineEnergy'] }],
    });
    const [a, b] = [await runScene(scene), await runScene(scene)];
    expect(a.recordings).toEqual(b.recordings);
    expect(a.systems[1].engine).toBe('lnn');
    const rec = a.recordings.net;
    const model = await loadModel(modelDir);
    rec.t.forEach((t, k) => {
      const learned = referenceEnergy(model, rec.q![k][0], rec.qd![k][0]);
      expect(rec.engineEnergy![k][0]!, `learned energy at t = ${t}`).toBeCloseTo(learned, 3);
      expect(rec.energy![k][0]).toBe(createSystem('double-pendulum').energy(rec.q![k][0], rec.qd![k][0]));
    });
  });

  describe('a learned system on params other than its training values', () => {
    const trainedDir = join(dir, 'lnn-trained-g98');
    /** The scene: an lnn trained on g = 9.8 asked to run with g = 1.6, given `outsideTraining` as written. */
    function moonScene(outsideTraining?: 'error' | 'run'): Scene {
      return defineScene({
        name: 'moon',
        dt: 0.01,
        duration: 0.1,
        systems: [
          {
            id: 'net',
            system: 'double-pendulum',
            params: { g: 1.6 },
            engine: 'lnn',
            model: trainedDir,
            backend: 'js',
            q0: [0.4, -0.2],
            ...(outsideTraining ? { outsideTraining } : {}),
          },
        ],
        recorders: [{ target: 'net', every: 2, quantities: ['q', 'qd'] }],
      });
    }

    beforeAll(async () => {
      const params = { ...createSystem('double-pendulum').params };
      await writeModel(
        trainedDir,
        createRandomModel({
          kind: 'lnn',
          hidden: [16, 16],
          seed: 5,
          system: { id: 'double-pendulum', params },
        }),
      );
    });

    it('is refused by default; runs with outsideTraining on the system or in the engine defaults, alike', async () => {
      await expect(runScene(moonScene())).rejects.toThrow(
        /systems\[0\] \('net'\): .*g = 1\.6 \(trained on 9\.8\)/,
      );
      const refused = await runScene(moonScene('error')).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SceneError);
      expect((refused as SceneError).cause, 'the model error is kept as the cause').toMatchObject({
        name: 'ModelFormatError',
        problem: 'param-mismatch',
      });
      const viaField = await runScene(moonScene('run'));
      expect(viaField.systems[0].params.g).toBe(1.6);
      expect(viaField.recordings.net.q).toHaveLength(6);
      // The app's way: engineDefaults.outsideTraining for every engine; the same numbers.
      const viaDefaults = await runScene(moonScene(), { engineDefaults: { outsideTraining: 'run' } });
      expect(viaDefaults).toEqual(viaField);
      // A system's own setting wins over the defaults.
      await expect(
        runScene(moonScene('error'), { engineDefaults: { outsideTraining: 'run' } }),
      ).rejects.toThrow(/param-mismatch|other parameter values/);
      expect(() =>
        defineScene({
          name: 'bad',
          dt: 0.01,
          duration: 0.1,
          systems: [{ id: 'net', system: 'double-pendulum', outsideTraining: 'maybe' as 'run' }],
        }),
      ).toThrow(/systems\[0\]\.outsideTraining must be 'error' or 'run', got "maybe"/);
    });

    it('`three-lnn scene` refuses it, naming --outside-training; with the flag it gives the in-process numbers', async () => {
      const file = join(dir, 'moon.json');
      writeFileSync(file, JSON.stringify(moonScene()));
      const [refused, ran] = await Promise.all([
        cli(['scene', file]),
        cli(['scene', file, '--outside-training']),
      ]);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(
        /g = 1\.6 \(trained on 9\.8\).*add --outside-training, or set outsideTraining: 'run' on the scene system/,
      );
      expect(refused.stderr.trim().split('\n').length, refused.stderr).toBe(1);
      expect(ran.code, ran.stderr).toBe(0);
      const inProcess = await runScene(moonScene(), { engineDefaults: { outsideTraining: 'run' } });
      expect(JSON.parse(ran.stdout), 'headless with the flag = the app’s engine defaults').toEqual(
        JSON.parse(JSON.stringify(inProcess)),
      );
    });
  });
});
