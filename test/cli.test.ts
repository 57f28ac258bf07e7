import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/model/loadModel';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations } from '../src/model/reference';
import { writeModel } from '../src/model/saveModel';

/** End-to-end tests of the `three-lnn` command, run as a child process exactly as a user runs it. */

/** A line of a JavaScript stack trace, e.g. `    at main (file:///…/main.ts:12:3)`. */
const STACK_FRAME = /^\s*at \S.*:\d+:\d+\)?$/m;

const BIN = join(import.meta.dirname, '..', 'bin', 'three-lnn.mjs');
const dir = mkdtempSync(join(tmpdir(), 'three-lnn-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `node bin/three-lnn.mjs ...args`, optionally feeding `input` on stdin. */
function cli(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { maxBuffer: 1 << 28, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** A file in the test's scratch directory. */
function scratch(name: string, content?: string): string {
  const path = join(dir, name);
  if (content !== undefined) writeFileSync(path, content);
  return path;
}

// Independent float64 reference: the textbook double-pendulum equations (absolute angles; written
// differently from the library's closed form) integrated with classic RK4 at a step far below the CLI's.
const G = 9.8;
function dpAccel(t1: number, t2: number, w1: number, w2: number): [number, number] {
  const m1 = 1;
  const m2 = 1;
  const l1 = 1;
  const l2 = 1;
  const d = t1 - t2;
  const den = 2 * m1 + m2 - m2 * Math.cos(2 * t1 - 2 * t2);
  const a1 =
    (-G * (2 * m1 + m2) * Math.sin(t1) -
      m2 * G * Math.sin(t1 - 2 * t2) -
      2 * Math.sin(d) * m2 * (w2 * w2 * l2 + w1 * w1 * l1 * Math.cos(d))) /
    (l1 * den);
  const a2 =
    (2 *
      Math.sin(d) *
      (w1 * w1 * l1 * (m1 + m2) + G * (m1 + m2) * Math.cos(t1) + w2 * w2 * l2 * m2 * Math.cos(d))) /
    (l2 * den);
  return [a1, a2];
}
function dpEnergy(q: number[], qd: number[]): number {
  const [t1, t2] = q;
  const [w1, w2] = qd;
  return w1 * w1 + 0.5 * w2 * w2 + w1 * w2 * Math.cos(t1 - t2) - 2 * G * Math.cos(t1) - G * Math.cos(t2);
}
/** States at t = k·every·h·sub for k = 0..records−1, RK4 with step h/sub. */
function reference(q0: number[], qd0: number[], h: number, records: number, sub: number): number[][] {
  let y = [q0[0], q0[1], qd0[0], qd0[1]];
  const f = (s: number[]): number[] => [s[2], s[3], ...dpAccel(s[0], s[1], s[2], s[3])];
  const out = [y.slice()];
  const dt = h / sub;
  for (let k = 1; k < records; k++) {
    for (let j = 0; j < sub; j++) {
      const k1 = f(y);
      const k2 = f(y.map((v, i) => v + 0.5 * dt * k1[i]));
      const k3 = f(y.map((v, i) => v + 0.5 * dt * k2[i]));
      const k4 = f(y.map((v, i) => v + dt * k3[i]));
      y = y.map((v, i) => v + (dt / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
    }
    out.push(y.slice());
  }
  return out;
}

const MUST_SHOW = [
  'rollout',
  '--system',
  'double-pendulum',
  '--engine',
  'analytic',
  '--q0',
  '2.0,1.0',
  '--qd0',
  '0,0',
  '--dt',
  '0.001',
  '--duration',
  '5',
];

/** The single-start JSON of a roll-out. */
interface Single {
  system: string;
  engine: string;
  integrator: string;
  dt: number;
  t: number[];
  q: number[][];
  qd: number[][];
  energy: number[];
  failure?: { t: number; step: number; index: number; reason: string };
}

describe('three-lnn rollout', () => {
  it('matches an independent float64 integration of the double pendulum to 1e-6 rad (5 s, dt = 0.001)', async () => {
    const r = await cli(MUST_SHOW);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Single;
    expect(out.system).toBe('double-pendulum');
    expect(out.engine).toBe('analytic');
    expect(out.integrator).toBe('rk4');
    expect(out.dt).toBe(0.001);
    expect(out.t.length, 'records t = 0 … 5 s').toBe(5001);
    expect(out.t[5000]).toBe(5);
    expect(out.q.length).toBe(5001);
    expect(out.q[0]).toEqual([2, 1]);
    expect(out.qd[17].length).toBe(2);
    expect(out.energy.length).toBe(5001);

    // Reference at 1/10 of the step; its own error is checked against 1/20 of the step.
    const ref = reference([2, 1], [0, 0], 0.001, 5001, 10);
    const fine = reference([2, 1], [0, 0], 0.001 * 500, 11, 10 * 500 * 2).at(-1)!;
    const refSelf = Math.max(...[0, 1].map((i) => Math.abs(ref[5000][i] - fine[i])));
    expect(refSelf, 'the reference itself is converged').toBeLessThan(1e-9);
    let maxErr = 0;
    for (let k = 0; k < 5001; k++) {
      for (let i = 0; i < 2; i++) maxErr = Math.max(maxErr, Math.abs(out.q[k][i] - ref[k][i]));
    }
    console.log(`rollout vs independent reference: max |Δq| over 5 s = ${maxErr.toExponential(3)} rad`);
    expect(maxErr, 'max |q − q_ref| over the whole trajectory (rad)').toBeLessThan(1e-6);
    for (let k = 0; k < 5001; k += 1000) {
      expect(out.energy[k], `true energy at t = ${out.t[k]}`).toBeCloseTo(dpEnergy(out.q[k], out.qd[k]), 10);
    }
  });

  it('runs a batch from --states with [T][B][n] and [T][B] arrays, each start as if alone', async () => {
    const starts = {
      q: [
        [2, 1],
        [0.3, -0.2],
        [3, 3],
      ],
      qd: [
        [0, 0],
        [1, -1],
        [0.5, 0],
      ],
    };
    const file = scratch('starts.json', JSON.stringify(starts));
    const args = ['--system', 'double-pendulum', '--engine', 'analytic', '--dt', '0.01', '--duration', '1'];
    const [batch, alone] = await Promise.all([
      cli(['rollout', ...args, '--states', file]),
      cli(['rollout', ...args, '--q0', '0.3,-0.2', '--qd0', '1,-1']),
    ]);
    expect(batch.code, batch.stderr).toBe(0);
    const b = JSON.parse(batch.stdout);
    const a = JSON.parse(alone.stdout) as Single;
    expect(b.t.length).toBe(101);
    expect(b.q.length).toBe(101);
    expect(b.q[0]).toEqual(starts.q);
    expect(b.qd[0]).toEqual(starts.qd);
    expect(b.q[50].length, 'B').toBe(3);
    expect(b.q[50][2].length, 'n').toBe(2);
    expect(b.energy[100].length, 'energy is [T][B]').toBe(3);
    for (let k = 0; k <= 100; k += 25) {
      for (let i = 0; i < 2; i++) expect(b.q[k][1][i]).toBeCloseTo(a.q[k][i], 12);
      expect(b.energy[k][1]).toBeCloseTo(a.energy[k], 12);
    }
  });

  it('--every k records t = 0 and every k-th step, identical to the full run', async () => {
    const args = ['--system', 'double-pendulum', '--engine', 'analytic', '--q0', '1,0.5', '--qd0', '0,1'];
    const [full, sparse] = await Promise.all([
      cli(['rollout', ...args, '--dt', '0.01', '--duration', '2']),
      cli(['rollout', ...args, '--dt', '0.01', '--duration', '2', '--every', '20']),
    ]);
    expect(sparse.code, sparse.stderr).toBe(0);
    const f = JSON.parse(full.stdout) as Single;
    const s = JSON.parse(sparse.stdout) as Single;
    expect(s.t).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2]);
    s.t.forEach((_, j) => {
      expect(s.q[j]).toEqual(f.q[20 * j]);
      expect(s.qd[j]).toEqual(f.qd[20 * j]);
      expect(s.energy[j]).toBe(f.energy[20 * j]);
    });
  });

  it('--format csv writes the documented header and the same numbers as JSON', async () => {
    const args = ['--system', 'double-pendulum', '--engine', 'analytic', '--dt', '0.05', '--duration', '1'];
    const file = scratch(
      'two.json',
      JSON.stringify({
        q: [
          [1, 2],
          [0, 0.1],
        ],
        qd: [
          [0, 0],
          [0, 0],
        ],
      }),
    );
    const [json, csv, csvBatch] = await Promise.all([
      cli(['rollout', ...args, '--q0', '1,2', '--qd0', '0,0']),
      cli([
        'rollout',
        ...args,
        '--q0',
        '1,2',
        '--qd0',
        '0,0',
        '--format',
        'csv',
        '--out',
        scratch('out.csv'),
      ]),
      cli(['rollout', ...args, '--states', file, '--format', 'csv']),
    ]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout, 'with --out nothing goes to stdout').toBe('');
    const lines = readFileSync(scratch('out.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('t,q_0,q_1,qd_0,qd_1,energy');
    expect(lines.length).toBe(1 + 21);
    const j = JSON.parse(json.stdout) as Single;
    const row = lines[11].split(',').map(Number);
    expect(row).toEqual([j.t[10], ...j.q[10], ...j.qd[10], j.energy[10]]);
    const b = csvBatch.stdout.trim().split('\n');
    expect(b[0]).toBe('t,b,q_0,q_1,qd_0,qd_1,energy');
    expect(b.length, 'one row per start per record').toBe(1 + 21 * 2);
    expect(b[1 + 2 * 10].split(',').map(Number)).toEqual([j.t[10], 0, ...j.q[10], ...j.qd[10], j.energy[10]]);
  });

  it('stops on a non-finite state, names the time and the start, and still writes what was computed', async () => {
    // Symplectic Euler far beyond its stability limit on a linear string: start 1 overflows, start 0 rests.
    const file = scratch(
      'string.json',
      JSON.stringify({
        q: [
          [0, 0, 0, 0],
          [0, 0.1, 0, 0],
        ],
        qd: [
          [0, 0, 0, 0],
          [0, 0, 0, 0],
        ],
      }),
    );
    const out = scratch('diverged.json');
    const r = await cli([
      'rollout',
      '--system',
      'string',
      '--params',
      '{"nodes":4}',
      '--engine',
      'analytic',
      '--states',
      file,
      '--dt',
      '1',
      '--duration',
      '400',
      '--integrator',
      'symplectic-euler',
      '--every',
      '1000',
      '--out',
      out,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr).toMatch(/stopped at t = \d+ s \(step \d+\) in start 1 of the batch/);
    const data = JSON.parse(readFileSync(out, 'utf8'));
    expect(data.failure.index).toBe(1);
    expect(data.t[0]).toBe(0);
    expect(data.t.length, 't = 0 plus the last finite state').toBe(2);
    expect(data.t[1]).toBe(data.failure.t - 1);
    expect(data.q[1].flat().every(Number.isFinite), 'the last state written is finite').toBe(true);
    expect(data.q[1][0]).toEqual([0, 0, 0, 0]);
  });

  it('stops when the engine throws mid-run and keeps the states before it', async () => {
    const r = await cli([
      'rollout',
      '--system',
      'relativistic-particle',
      '--params',
      '{"g":100}',
      '--engine',
      'analytic',
      '--q0',
      '0',
      '--qd0',
      '0',
      '--dt',
      '0.1',
      '--duration',
      '2',
      '--integrator',
      'symplectic-euler',
      '--every',
      '5',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n').length, r.stderr).toBe(1);
    // Step 1 leaves |q̇| = 10 > c (finite but unphysical); step 2's q̈ throws.
    expect(r.stderr).toMatch(/stopped at t = 0\.2 s \(step 2\): the engine failed: .*\|q̇\|/);
    const data = JSON.parse(r.stdout) as Single;
    expect(data.failure?.step).toBe(2);
    expect(data.t, 't = 0 and the last state before the failure').toEqual([0, 0.1]);
    expect(data.qd[1][0]).toBeCloseTo(10, 12);
    expect(data.energy[1], 'an energy JSON cannot hold is written as null').toBeNull();
  });
});

describe('three-lnn accel, systems, help', () => {
  it('accel reads states from stdin or a file and prints {"qdd": [B][n]}', async () => {
    const states = {
      q: [
        [2, 1],
        [0.1, -0.4],
      ],
      qd: [
        [0, 0],
        [3, -2],
      ],
    };
    const file = scratch('accel.json', JSON.stringify(states));
    const args = ['accel', '--system', 'double-pendulum', '--engine', 'analytic', '--states'];
    const [fromStdin, fromFile] = await Promise.all([
      cli([...args, '-'], JSON.stringify(states)),
      cli([...args, file]),
    ]);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    const { qdd } = JSON.parse(fromStdin.stdout) as { qdd: number[][] };
    expect(JSON.parse(fromFile.stdout).qdd).toEqual(qdd);
    expect(qdd.length).toBe(2);
    for (let b = 0; b < 2; b++) {
      const want = dpAccel(states.q[b][0], states.q[b][1], states.qd[b][0], states.qd[b][1]);
      expect(qdd[b][0]).toBeCloseTo(want[0], 11);
      expect(qdd[b][1]).toBeCloseTo(want[1], 11);
    }
  });

  it('systems lists ids, dof and parameter defaults (table and --json)', async () => {
    const [text, json] = await Promise.all([cli(['systems']), cli(['systems', '--json'])]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/double-pendulum\s+2\s/);
    expect(text.stdout).toMatch(/double-pendulum\s+g\s+9\.8/);
    const list = JSON.parse(json.stdout) as {
      id: string;
      dof: number | string;
      params: { name: string; default: number }[];
    }[];
    const dp = list.find((s) => s.id === 'double-pendulum')!;
    expect(dp.dof).toBe(2);
    expect(Object.fromEntries(dp.params.map((p) => [p.name, p.default]))).toEqual({
      m1: 1,
      m2: 1,
      l1: 1,
      l2: 1,
      g: 9.8,
    });
  });

  it('--help works for the program and every command; --version prints the package version', async () => {
    const version = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).version;
    const runs = await Promise.all([
      cli(['--help']),
      cli(['--version']),
      ...['rollout', 'accel', 'systems', 'inspect'].map((c) => cli([c, '--help'])),
    ]);
    const [help, ver, ...cmds] = runs;
    expect(help.code).toBe(0);
    for (const c of ['rollout', 'accel', 'systems', 'inspect']) expect(help.stdout).toContain(c);
    expect(ver.stdout.trim()).toBe(version);
    for (const c of cmds) {
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/^Usage: three-lnn \w+/);
    }
    expect(cmds[0].stdout).toContain('--duration');
  });
});

describe('bad input: one clear line, non-zero exit, no stack trace', () => {
  const dp = ['--system', 'double-pendulum', '--engine', 'analytic'];
  const ok = ['--q0', '2,1', '--qd0', '0,0', '--dt', '0.01', '--duration', '1'];
  const cases: [string, string[], RegExp][] = [
    [
      'unknown system',
      ['rollout', '--system', 'triple-pendulum', '--engine', 'analytic', ...ok],
      /unknown system 'triple-pendulum'.*double-pendulum/,
    ],
    [
      'wrong vector length',
      ['rollout', ...dp, '--q0', '2,1,0', '--qd0', '0,0', '--dt', '0.01', '--duration', '1'],
      /--q0 has 3 values.*2 degrees of freedom/,
    ],
    [
      'NaN in --q0',
      ['rollout', ...dp, '--q0', '2,NaN', '--qd0', '0,0', '--dt', '0.01', '--duration', '1'],
      /--q0.*not a finite number/,
    ],
    [
      'Infinity in --qd0',
      ['rollout', ...dp, '--q0', '2,1', '--qd0', 'Infinity,0', '--dt', '0.01', '--duration', '1'],
      /--qd0.*not a finite number/,
    ],
    [
      'dt = 0',
      ['rollout', ...dp, '--q0', '2,1', '--qd0', '0,0', '--dt', '0', '--duration', '1'],
      /--dt.*> 0/,
    ],
    [
      'dt < 0',
      ['rollout', ...dp, '--q0', '2,1', '--qd0', '0,0', '--dt=-0.01', '--duration', '1'],
      /--dt.*> 0/,
    ],
    [
      'duration not a multiple of dt',
      ['rollout', ...dp, '--q0', '2,1', '--qd0', '0,0', '--dt', '0.003', '--duration', '1'],
      /--duration 1 is not a whole number of --dt 0\.003 steps.*0\.999 and 1\.002/,
    ],
    ['bad --params JSON', ['rollout', ...dp, ...ok, '--params', '{g:1}'], /--params.*not valid JSON/i],
    [
      'unknown parameter',
      ['rollout', ...dp, ...ok, '--params', '{"mass":2}'],
      /--params.*unknown parameter 'mass'.*m1, m2, l1, l2, g/,
    ],
    ['unknown integrator', ['rollout', ...dp, ...ok, '--integrator', 'euler'], /--integrator.*'euler'.*rk4/],
    [
      'unknown engine',
      ['rollout', '--system', 'double-pendulum', '--engine', 'magic', ...ok],
      /unknown engine 'magic'.*analytic/,
    ],
    ['unknown flag', ['rollout', ...dp, ...ok, '--fromat', 'csv'], /unknown option '--fromat'.*--format/],
    [
      'missing --dt',
      ['rollout', ...dp, '--q0', '2,1', '--qd0', '0,0', '--duration', '1'],
      /--dt.*not specified/,
    ],
    ['no initial state', ['rollout', ...dp, '--dt', '0.01', '--duration', '1'], /--q0.*--states/],
    ['--every 0', ['rollout', ...dp, ...ok, '--every', '0'], /--every.*integer ≥ 1/],
    ['bad --format', ['rollout', ...dp, ...ok, '--format', 'xml'], /--format.*json, csv/],
    ['missing model', ['rollout', ...dp, ...ok, '--model', '/nonexistent/model'], /--model.*does not exist/],
    ['unknown command', ['simulate'], /unknown command 'simulate'/],
    [
      'accel with a wrong row length',
      ['accel', ...dp, '--states', '-'],
      /"q"\[0\] has 3 entries.*2 degrees of freedom/,
    ],
  ];
  const stdin = JSON.stringify({ q: [[1, 2, 3]], qd: [[0, 0]] });
  it.concurrent.each(cases)('%s', async (_name, args, message) => {
    const r = await cli(args, stdin);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').length, `one line: ${r.stderr}`).toBe(1);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stdout).toBe('');
  });

  it('a model trained on another system is refused', async () => {
    const model = join(dir, 'sp-model');
    await import('node:fs').then((fs) => fs.mkdirSync(model, { recursive: true }));
    writeFileSync(
      join(model, 'model.json'),
      JSON.stringify({
        format: 'three-lnn',
        modelTopology: {},
        weightsManifest: [],
        userDefinedMetadata: {
          threeLnn: { formatVersion: 1, kind: 'lnn', system: { id: 'simple-pendulum', params: {} }, dof: 1 },
        },
      }),
    );
    const r = await cli([
      'rollout',
      '--system',
      'double-pendulum',
      '--engine',
      'lnn',
      '--model',
      model,
      ...ok,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/trained on 'simple-pendulum', not 'double-pendulum'/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});

describe('learned engines through the CLI', () => {
  const lnnDir = join(dir, 'lnn-model');
  const baselineDir = join(dir, 'baseline-model');
  beforeAll(async () => {
    await writeModel(lnnDir, createRandomModel({ kind: 'lnn', hidden: [16, 16], seed: 2 }));
    await writeModel(baselineDir, createRandomModel({ kind: 'baseline', hidden: [16, 16], seed: 2 }));
  });

  it('accel --engine lnn matches the float64 reference of the model (float32 tolerance)', async () => {
    const states = {
      q: [
        [0.1, 0.2],
        [2, -1],
      ],
      qd: [
        [0, 0],
        [0.5, -0.3],
      ],
    };
    const r = await cli(
      [
        'accel',
        '--system',
        'double-pendulum',
        '--engine',
        'lnn',
        '--model',
        lnnDir,
        '--backend',
        'wasm',
        '--states',
        '-',
      ],
      JSON.stringify(states),
    );
    expect(r.code, r.stderr).toBe(0);
    const { qdd } = JSON.parse(r.stdout) as { qdd: number[][] };
    const want = new Float64Array(4);
    referenceAccelerations(await loadModel(lnnDir), states.q.flat(), states.qd.flat(), want, 2);
    const scale = Math.max(...want.map(Math.abs));
    qdd.flat().forEach((v, i) => {
      expect(Math.abs(v - want[i]), `q̈[${i}] = ${v} vs reference ${want[i]}`).toBeLessThan(1e-4 * scale);
    });
  });

  it('rollout --engine lnn records the true energy; a model of another kind is refused', async () => {
    const common = [
      '--system',
      'double-pendulum',
      '--q0',
      '0.1,0.2',
      '--qd0',
      '0,0',
      '--dt',
      '0.01',
      '--duration',
      '0.05',
    ];
    const [run, wrongKind, noModel] = await Promise.all([
      cli(['rollout', '--engine', 'lnn', '--model', lnnDir, '--backend', 'js', ...common]),
      cli(['rollout', '--engine', 'lnn', '--model', baselineDir, ...common]),
      cli(['rollout', '--engine', 'lnn', ...common]),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as Single & { model: string };
    expect(out.engine).toBe('lnn');
    expect(out.model).toBe(lnnDir);
    expect(out.t.length).toBe(6);
    out.t.forEach((_, k) => {
      expect(out.energy[k], 'true (closed-form) energy').toBeCloseTo(dpEnergy(out.q[k], out.qd[k]), 10);
    });
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toMatch(/is a 'baseline' model; use --engine baseline/);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/--engine lnn needs a trained model: add --model <dir>/);
  });

  it('rollout with --params other than the training values is refused, and runs with --outside-training (one policy)', async () => {
    const earth = join(dir, 'earth-model');
    await writeModel(
      earth,
      createRandomModel({
        hidden: [8],
        seed: 4,
        system: { id: 'double-pendulum', params: { g: 9.8, l1: 1, l2: 1, m1: 1, m2: 1 } },
      }),
    );
    const args = ['--q0', '0.1,0.2', '--qd0', '0,0', '--dt', '0.01', '--duration', '0.02', '--backend', 'js'];
    const base = [
      'rollout',
      '--system',
      'double-pendulum',
      '--engine',
      'lnn',
      '--model',
      earth,
      '--params',
      '{"g":1.6}',
    ];
    const refused = await cli([...base, ...args]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(
      /was trained on other parameter values: g=1\.6 \(trained on 9\.8\)\. Train a model for these values, or add --outside-training/,
    );
    const r = await cli([...base, '--outside-training', ...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /g = 1\.6 differs from the training value 9\.8; the model knows only the training value/,
    );
    expect(JSON.parse(r.stdout).t).toHaveLength(3);
  });

  it('scene: a learned system on other params than its training values is refused, and runs with --outside-training', async () => {
    // The app's relativistic-particle scene with the force slider moved (g = 2; the model was trained on
    // g = 1): the app runs it, so headless runs it too when asked.
    const sceneModule = pathToFileURL(
      join(import.meta.dirname, '..', 'scenes', 'relativisticParticle.ts'),
    ).href;
    const file = scratch(
      'relativistic-force-2.mts',
      `import { relativisticParticleScene } from ${JSON.stringify(sceneModule)};\n` +
        'export default relativisticParticleScene({ force: 2, duration: 0.05 });\n',
    );
    const [refused, ran] = await Promise.all([
      cli(['scene', file]),
      cli(['scene', file, '--outside-training']),
    ]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(
      /systems\[1\] \('lnn'\): .*g = 2 \(trained on 1\).*add --outside-training, or set outsideTraining: 'run' on the scene system/,
    );
    expect(refused.stderr).not.toMatch(STACK_FRAME);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toMatch(/g = 2 differs from the training value 1/);
    const run = JSON.parse(ran.stdout) as { steps: number; systems: { id: string; params: { g: number } }[] };
    expect(run.steps).toBe(6);
    expect(run.systems.map((x) => [x.id, x.params.g])).toEqual([
      ['analytic', 2],
      ['lnn', 2],
      ['newtonian', 2],
    ]);
    const help = await cli(['scene', '--help']);
    expect(help.stdout).toMatch(/--outside-training/);
  });

  it('inspect reports the metadata and the parameter count', async () => {
    const r = await cli(['inspect', '--model', lnnDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.metadata.kind).toBe('lnn');
    expect(s.metadata.system.id).toBe('double-pendulum');
    expect(s.parameterCount, '4·16 + 16 + 16·16 + 16 + 16·1 + 1').toBe(369);
    expect(s.shards[0].bytes).toBe(369 * 4);
  });
});

describe('inspect', () => {
  const MODELS = join(import.meta.dirname, '..', 'assets', 'models');

  /** The `label  value` rows of the text output (labels padded to one width). */
  function rows(stdout: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const line of stdout.trimEnd().split('\n')) {
      const m = /^(\S(?:.*?\S)?)\s{2,}(.*)$/.exec(line);
      if (m) out.set(m[1], m[2]);
    }
    return out;
  }

  /**
   * The network inputs a model's metadata describes (docs/model-format.md, "Inputs"), written out
   * independently of src/model/inputMap.ts.
   */
  function expectedInputs(meta: {
    kind: string;
    dof: number;
    angles: boolean[];
    input: { angleEmbedding?: string; velocityEmbedding?: string };
  }): string[] {
    if (meta.kind === 'lgn') {
      const q = meta.angles[0] ? ['wrap(q_a)', 'wrap(q_b)'] : ['q_a', 'q_b'];
      return [...q, 'q̇_a', 'q̇_b'];
    }
    const qs: string[] = [];
    const vs: string[] = [];
    for (let i = 1; i <= meta.dof; i++) {
      if (!meta.angles[i - 1]) qs.push(`q${i}`);
      else if (meta.input.angleEmbedding === 'sincos') qs.push(`cos q${i}`, `sin q${i}`);
      else qs.push(`wrap(q${i})`);
      vs.push(meta.input.velocityEmbedding === 'rapidity' ? `atanh(q̇${i})` : `q̇${i}`);
    }
    return [...qs, ...vs];
  }

  it('inspect prints the input layout of every shipped model in words, not as JSON', async () => {
    const dirs = readdirSync(MODELS, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(MODELS, d.name));
    expect(dirs.length).toBeGreaterThanOrEqual(5);
    const runs = await Promise.all(dirs.map((d) => cli(['inspect', '--model', d])));
    dirs.forEach((d, k) => {
      const r = runs[k];
      expect(r.code, `${d}: ${r.stderr}`).toBe(0);
      const json = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
      const meta = json.userDefinedMetadata.threeLnn;
      const row = rows(r.stdout);
      const input = row.get('input');
      expect(input, `${d}: an input row`).toBeDefined();
      const names = expectedInputs(meta);
      expect(names.length, `${d}: one name per network input`).toBe(meta.architecture.layers[0]);
      expect(input).toContain(`x = (${names.join(', ')}) · input scale`);
      expect(input, 'words, not the stored JSON').not.toMatch(/[{}"]/);
      if (meta.input.angleEmbedding === 'sincos') expect(input).toMatch(/^sin\/cos of angles/);
      if (meta.input.velocityEmbedding === 'rapidity')
        expect(input).toContain('rapidity velocities (|q̇| < 1)');
      expect(row.get('input scale')).toMatch(/^q \[.*\], q̇ \[.*\]$/);
      expect(row.get('network')).toBe(
        `${meta.architecture.layers.join('→')} ${meta.architecture.activation}`,
      );
      const numbers = json.weightsManifest
        .flatMap((g: { weights: { shape: number[] }[] }) => g.weights)
        .reduce((a: number, w: { shape: number[] }) => a + w.shape.reduce((x, y) => x * y, 1), 0);
      expect(row.get('weights')).toBe(
        `${numbers.toLocaleString('en-US')} numbers, ${(4 * numbers).toLocaleString('en-US')} bytes`,
      );
      expect(row.get('shards')).not.toContain('MISSING');
    });
  });

  it('inspect names (cos, sin) inputs under sincos and atanh(q̇) inputs under rapidity', async () => {
    const sincos = createRandomModel({ kind: 'lnn', hidden: [8], seed: 3, angleEmbedding: 'sincos' });
    const rapidity = createRandomModel({
      kind: 'lnn',
      dof: 1,
      hidden: [8],
      seed: 4,
      angles: [false],
      system: { id: 'relativistic-particle', params: {} },
    });
    rapidity.metadata.input.velocityEmbedding = 'rapidity';
    const both = createRandomModel({ kind: 'lnn', hidden: [8], seed: 5, angleEmbedding: 'sincos' });
    both.metadata.input.velocityEmbedding = 'rapidity';
    const dirs = [join(dir, 'inspect-sincos'), join(dir, 'inspect-rapidity'), join(dir, 'inspect-both')];
    await Promise.all([sincos, rapidity, both].map((m, k) => writeModel(dirs[k], m)));
    const [a, b, c] = await Promise.all(dirs.map((d) => cli(['inspect', '--model', d])));
    for (const r of [a, b, c]) expect(r.code, r.stderr).toBe(0);
    expect(rows(a.stdout).get('input')).toBe(
      'sin/cos of angles: x = (cos q1, sin q1, cos q2, sin q2, q̇1, q̇2) · input scale',
    );
    expect(rows(b.stdout).get('input')).toBe(
      'coordinates as given, rapidity velocities (|q̇| < 1): x = (q1, atanh(q̇1)) · input scale',
    );
    expect(rows(c.stdout).get('input')).toBe(
      'sin/cos of angles, rapidity velocities (|q̇| < 1): x = (cos q1, sin q1, cos q2, sin q2, atanh(q̇1), atanh(q̇2)) · input scale',
    );
    expect(rows(a.stdout).get('network')).toBe('6→8→1 softplus');
  });

  it('inspect prints invalid metadata as stored, then fails naming the problem', async () => {
    const d = join(dir, 'inspect-invalid');
    await writeModel(d, createRandomModel({ kind: 'lnn', hidden: [8], seed: 6 }));
    const path = join(d, 'model.json');
    const json = JSON.parse(readFileSync(path, 'utf8'));
    json.userDefinedMetadata.threeLnn.input.angleEmbedding = 'polar';
    writeFileSync(path, JSON.stringify(json));
    const r = await cli(['inspect', '--model', d]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^input\s+\{.*"angleEmbedding":"polar"/m);
    expect(r.stderr).toMatch(/is not a valid three-lnn model: .*angleEmbedding/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
