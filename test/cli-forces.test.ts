import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../cli/io';
import { main } from '../cli/main';

/**
 * `three-lnn rollout --damping/--impulse` and forces in `three-lnn scene` files, run in-process through
 * the CLI's `main` (the same code as `bin/three-lnn.mjs`, without needing `npm run build`).
 */

const dir = mkdtempSync(join(tmpdir(), 'three-lnn-cli-forces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `three-lnn …args` in this process, capturing its output. */
async function cli(args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    stdin: async () => '',
  };
  const code = await main(['node', 'three-lnn', ...args], io);
  return { code, stdout, stderr };
}

/** A failure: exit status 2 (bad input), one line on stderr naming the command, nothing on stdout. */
function expectUsageError(r: Result, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^three-lnn rollout: error: /);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

interface RolloutJson {
  t: number[];
  q: number[][];
  qd: number[][];
  energy: number[];
  work?: number[];
  ledger?: number[];
  damping?: number;
  impulses?: { step: number; t: number; p?: number[]; point?: number; J?: number[] }[];
}

/** Simple pendulum m = 2, l = 0.5 (m l² = 0.5) from θ = 1 at rest, 10 s of RK4 at dt = 1 ms. */
const PENDULUM = [
  'rollout',
  '--system',
  'simple-pendulum',
  '--params',
  '{"m":2,"l":0.5}',
  '--q0',
  '1',
  '--qd0',
  '0',
  '--dt',
  '0.001',
];
const ML2 = 0.5;

async function rollout(engine: string, extra: string[]): Promise<RolloutJson> {
  const r = await cli([...PENDULUM, '--engine', engine, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as RolloutJson;
}

describe('three-lnn rollout --damping', () => {
  it('energy decays and the ledger E − E(0) − W stays within 1e-9 (RK4, dt = 1 ms, 10 s)', async () => {
    const run = await rollout('analytic', ['--duration', '10', '--every', '10', '--damping', '0.2']);
    expect(run.damping).toBe(0.2);
    const { energy, work, ledger } = run;
    expect(work).toHaveLength(energy.length);
    expect(ledger).toHaveLength(energy.length);
    // dE/dt = −C θ̇² ≤ 0: never rising (to round-off), and most of the swing's energy gone after 10 s.
    for (let k = 1; k < energy.length; k++) expect(energy[k]).toBeLessThanOrEqual(energy[k - 1] + 1e-12);
    const lost = energy[0] - energy.at(-1)!;
    expect(lost).toBeGreaterThan(4);
    // The work is what was lost; the ledger closes to 1e-9 (it reaches ~4e-11 here: O(dt⁴)).
    expect(work!.at(-1)!).toBeCloseTo(-lost, 8);
    for (const v of ledger!) expect(Math.abs(v)).toBeLessThan(1e-9);
    expect(ledger![0]).toBe(0);
  });

  it('--engine lagrangian gives the same damped trajectory to 1e-9', async () => {
    const args = ['--duration', '5', '--every', '10', '--damping', '0.2', '--impulse', '2.5:0.3'];
    const a = await rollout('analytic', args);
    const b = await rollout('lagrangian', args);
    expect(b.t).toEqual(a.t);
    for (let k = 0; k < a.t.length; k++) {
      expect(Math.abs(a.q[k][0] - b.q[k][0])).toBeLessThan(1e-9);
      expect(Math.abs(a.qd[k][0] - b.qd[k][0])).toBeLessThan(1e-9);
      expect(Math.abs(a.ledger![k] - b.ledger![k])).toBeLessThan(1e-9);
    }
  });

  it('without forces the output has no work or ledger (unchanged format)', async () => {
    const run = await rollout('analytic', ['--duration', '0.01']);
    expect(run.work).toBeUndefined();
    expect(run.ledger).toBeUndefined();
    expect(run.damping).toBeUndefined();
  });

  it('CSV gains the columns work and ledger', async () => {
    const r = await cli([
      ...PENDULUM,
      '--engine',
      'analytic',
      '--duration',
      '0.01',
      '--damping',
      '0.2',
      '--format',
      'csv',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('t,q_0,qd_0,energy,work,ledger');
    expect(lines).toHaveLength(12); // the header and t = 0, 0.001, …, 0.01
    const last = lines.at(-1)!.split(',').map(Number);
    expect(last).toHaveLength(6);
    expect(Math.abs(last[5])).toBeLessThan(1e-12);
    expect(last[3] - Number(lines[1].split(',')[3]) - last[4]).toBeCloseTo(last[5], 15);
  });

  const bad: [string, string[], RegExp][] = [
    [
      '--damping -1',
      ['--damping', '-1'],
      /option '--damping <C>' argument '-1' is invalid\. It must be ≥ 0 .*got -1\./,
    ],
    [
      '--damping abc',
      ['--damping', 'abc'],
      /option '--damping <C>' argument 'abc' is invalid\. 'abc' is not a finite number/,
    ],
    ['--damping Infinity', ['--damping', 'Infinity'], /'Infinity' is not a finite number/],
    ['--damping 1e7', ['--damping', '1e7'], /It must be at most 1,000,000, got 10000000/],
    [
      '--damping with too many values',
      ['--damping', '0.1,0.2'],
      /--damping has 2 values; give one for every coordinate or 1/,
    ],
    [
      '--impulse with wrong dof',
      ['--impulse', '0.005:1,2'],
      /--impulse 0\.005:1,2: the impulse has 2 values; simple-pendulum has 1 degree of freedom, so give 1 \(T:P1\)/,
    ],
    [
      '--impulse after the run',
      ['--impulse', '3:1'],
      /--impulse 3:1: t = 3 s is after the end of the run \(--duration 0\.01\)/,
    ],
    [
      '--impulse without a time',
      ['--impulse', '0.5'],
      /argument '0\.5' is invalid\. No ':' after the time\. Write T:P1,P2,…/,
    ],
    ['--impulse with a negative time', ['--impulse', '-1:1'], /The time '-1' must be a finite number ≥ 0/],
    ['--impulse not a number', ['--impulse', '0:x'], /The impulse entry 1 \('x'\) is not a finite number/],
    [
      '--impulse on a missing point',
      ['--impulse', '0:point=5:1,0,0'],
      /point 5 does not exist; simple-pendulum has 2 drawn points/,
    ],
    [
      '--impulse J of 2 numbers',
      ['--impulse', '0:point=1:1,0'],
      /A point impulse has 3 numbers Jx,Jy,Jz, got 2/,
    ],
  ];
  it.each(bad)('%s is refused with one line (exit 2)', async (_name, extra, message) => {
    const r = await cli([...PENDULUM, '--engine', 'analytic', '--duration', '0.01', ...extra]);
    expectUsageError(r, message);
  });

  it('baseline + --damping is refused, naming the engine and why', async () => {
    const r = await cli([
      'rollout',
      '--system',
      'double-pendulum',
      '--engine',
      'baseline',
      '--model',
      'double-pendulum-baseline',
      '--q0',
      '1,0',
      '--qd0',
      '0,0',
      '--dt',
      '0.01',
      '--duration',
      '0.1',
      '--damping',
      '0.1',
    ]);
    expectUsageError(r, /--damping: --engine baseline takes no forces: .*baseline/);
  });
});

describe('three-lnn rollout --impulse', () => {
  it('a generalized impulse p at T changes θ̇ by p/(m l²) at the record of T; its work keeps the ledger at ~0', async () => {
    const p = 0.3;
    const base = ['--duration', '2', '--damping', '0.2'];
    const kicked = await rollout('analytic', [...base, '--impulse', `1:${p}`]);
    const plain = await rollout('analytic', base);
    const k = 1000;
    expect(kicked.t[k]).toBe(1);
    expect(kicked.qd.slice(0, k)).toEqual(plain.qd.slice(0, k));
    expect(kicked.qd[k][0] - plain.qd[k][0]).toBeCloseTo(p / ML2, 12);
    expect(kicked.impulses).toEqual([{ step: k, t: 1, p: [p] }]);
    for (const v of kicked.ledger!) expect(Math.abs(v)).toBeLessThan(1e-9);
  });

  it('a point impulse and an impulse between steps: fires at the first boundary k·dt ≥ T', async () => {
    const run = await rollout('analytic', [
      '--duration',
      '0.01',
      '--impulse',
      '0.0025:point=1:0.4,0,0',
      '--impulse',
      '0:0.1',
    ]);
    expect(run.impulses).toEqual([
      { step: 0, t: 0, p: [0.1] },
      { step: 3, t: 0.003, point: 1, J: [0.4, 0, 0] },
    ]);
    // The impulse at t = 0 is in the first record, and its work in the ledger (E(0) is before it).
    expect(run.qd[0][0]).toBeCloseTo(0.1 / ML2, 14);
    expect(Math.abs(run.ledger![0])).toBeLessThan(1e-15);
    for (const v of run.ledger!) expect(Math.abs(v)).toBeLessThan(1e-12);
  });

  it('is bitwise reproducible', async () => {
    const args = [
      ...PENDULUM,
      '--engine',
      'analytic',
      '--duration',
      '1',
      '--damping',
      '0.2',
      '--impulse',
      '0.5:0.3',
    ];
    const a = await cli(args);
    const b = await cli(args);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });
});

describe('three-lnn scene with forces', () => {
  const scene = (system: Record<string, unknown>, events: unknown[] = []) =>
    JSON.stringify({
      name: 'cli-forces',
      dt: 0.001,
      duration: 2,
      systems: [system],
      events,
      recorders: [{ target: 'p', every: 100, quantities: ['qd', 'energy', 'work', 'ledger'] }],
    });
  const pendulum = {
    id: 'p',
    system: 'simple-pendulum',
    params: { m: 2, l: 0.5 },
    q0: [1],
    forces: { damping: 0.2 },
  };

  it('a JSON scene with damping and a timed impulse runs: the jump and the ledger', async () => {
    const file = join(dir, 'forces.json');
    writeFileSync(file, scene(pendulum, [{ at: 1, type: 'impulse', target: 'p', p: [0.3] }]));
    const a = await cli(['scene', file]);
    expect(a.code, a.stderr).toBe(0);
    const run = JSON.parse(a.stdout);
    const rec = run.recordings.p;
    expect(rec.t[10]).toBe(1);
    for (const row of rec.ledger) expect(Math.abs(row[0])).toBeLessThan(1e-9);
    expect(rec.energy.at(-1)[0]).toBeLessThan(rec.energy[0][0]);
    expect(run.systems[0].forces).toEqual({ damping: 0.2 });
    const b = await cli(['scene', file]);
    expect(b.stdout).toBe(a.stdout);
  });

  it('hostile forces in a scene file are bad input (exit 2, one line)', async () => {
    const file = join(dir, 'bad-forces.json');
    writeFileSync(file, scene({ ...pendulum, forces: { damping: -1 } }));
    const r = await cli(['scene', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /three-lnn scene: error: .*systems\[0\]\.forces \('p'\)\.damping must be a coefficient/,
    );
  });

  it('forces on the baseline engine in a scene file are refused naming the engine (exit 2)', async () => {
    const file = join(dir, 'baseline-forces.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'baseline-forces',
        dt: 0.01,
        duration: 0.1,
        systems: [
          {
            id: 'b',
            system: 'double-pendulum',
            engine: 'baseline',
            model: join(import.meta.dirname, '..', 'assets', 'models', 'double-pendulum-baseline'),
            forces: { damping: 0.1 },
          },
        ],
      }),
    );
    const r = await cli(['scene', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/engine 'baseline' takes no forces/);
  });
});
