import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Hostile input through the `three-lnn` command, run as a child process: states the engine cannot
 * solve are reported (not printed as q̈ = 0), names from the command line never reach an object's
 * prototype, damaged models are bad input, and every unbounded input or run is refused before work
 * starts with one line naming the limit and the flag that raises it.
 */

const BIN = join(import.meta.dirname, '..', 'bin', 'three-lnn.mjs');
const dir = mkdtempSync(join(tmpdir(), 'three-lnn-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A line of a JavaScript stack trace. */
const STACK_FRAME = /^\s*at \S.*:\d+:\d+\)?$/m;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run `node bin/three-lnn.mjs ...args`, optionally feeding `input` on stdin. */
function cli(args: string[], input?: string | Buffer): Promise<Result> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { maxBuffer: 1 << 28, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - t0 });
      },
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** A file in the test's scratch directory. */
function scratch(name: string, content?: string): string {
  const path = join(dir, name);
  if (content !== undefined) writeFileSync(path, content);
  return path;
}

/** The stderr of a refusal: exactly one line, no stack trace; returns it. */
function oneLine(r: Result): string {
  expect(r.stderr.trim().split('\n').length, `one line: ${r.stderr}`).toBe(1);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  return r.stderr.trim();
}

/** Exit status 2 (bad input, nothing run), one line matching `message`, nothing on stdout. */
function refused(r: Result, message: RegExp): void {
  expect(r.code, `${r.stderr}${r.stdout.slice(0, 200)}`).toBe(2);
  expect(oneLine(r)).toMatch(message);
  expect(r.stdout).toBe('');
}

const states = (q: number[][], qd: number[][]): string => JSON.stringify({ q, qd });

/** `accel` of the shipped relativistic LNN on states read from standard input. */
const RELATIVISTIC_ACCEL = [
  'accel',
  '--system',
  'relativistic-particle',
  '--engine',
  'lnn',
  '--model',
  'relativistic-lnn',
  '--states',
  '-',
];

describe('accel reports the states it could not solve (exit 1, results still printed)', () => {
  it('relativistic-lnn at |q̇| = 1: null, not a silent q̈ = 0', async () => {
    const r = await cli(RELATIVISTIC_ACCEL, states([[0], [0], [0], [0.1]], [[1], [0.5], [-1], [0.2]]));
    expect(r.code, r.stderr).toBe(1);
    const { qdd } = JSON.parse(r.stdout) as { qdd: (number | null)[][] };
    expect(qdd.length).toBe(4);
    expect(qdd[0]).toEqual([null]);
    expect(qdd[2]).toEqual([null]);
    expect(Number.isFinite(qdd[1][0]), 'the good states keep their numbers').toBe(true);
    expect(Number.isFinite(qdd[3][0])).toBe(true);
    expect(oneLine(r)).toMatch(/2 of 4 states failed under --engine lnn \(states 0, 2\): 2 flagged failed/);
  });

  it.concurrent.each([
    ['double-pendulum', 'double-pendulum-lnn', 2],
    ['chain', 'chain3-lnn', 3],
  ])('%s LNN at q̇ = ±1e308', async (system, model, dof) => {
    const big = Array.from({ length: dof }, (_, i) => (i % 2 === 0 ? 1e308 : -1e308));
    const r = await cli(
      ['accel', '--system', system, '--engine', 'lnn', '--model', model, '--states', '-'],
      states([new Array(dof).fill(0), new Array(dof).fill(0.1)], [big, new Array(dof).fill(0)]),
    );
    expect(r.code, r.stderr).toBe(1);
    const { qdd } = JSON.parse(r.stdout) as { qdd: (number | null)[][] };
    expect(qdd[0]).toEqual(new Array(dof).fill(null));
    expect(qdd[1].every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    expect(oneLine(r)).toMatch(/1 of 2 states failed under --engine lnn \(state 0\)/);
  });

  it('an exact engine that throws for one state: the others are still computed', async () => {
    const args = ['accel', '--system', 'relativistic-particle', '--engine', 'analytic', '--states', '-'];
    const [r, alone] = await Promise.all([
      cli(args, states([[0], [0], [0]], [[1], [0.5], [-2]])),
      cli(args, states([[0]], [[0.5]])),
    ]);
    expect(r.code, r.stderr).toBe(1);
    const { qdd } = JSON.parse(r.stdout) as { qdd: (number | null)[][] };
    expect(qdd[0]).toEqual([null]);
    expect(qdd[2]).toEqual([null]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(qdd[1], 'the good state, as if alone').toEqual(JSON.parse(alone.stdout).qdd[0]);
    expect(oneLine(r)).toMatch(
      /2 of 3 states failed .*\(states 0, 2\): 2 where the engine threw \(first: .*\|q̇\|/,
    );
  });

  it('one state the engine throws for: a row of null, not an engine failure', async () => {
    const r = await cli(
      ['accel', '--system', 'relativistic-particle', '--engine', 'analytic', '--states', '-'],
      states([[0]], [[1]]),
    );
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ qdd: [[null]] });
    expect(oneLine(r)).toMatch(/1 of 1 state failed .*\(state 0\).*Its q̈ is written as null\./);
  });

  it('lists the first few of many failed states', async () => {
    const n = 12;
    const r = await cli(
      RELATIVISTIC_ACCEL,
      states(
        Array.from({ length: n }, () => [0]),
        Array.from({ length: n }, (_, i) => [i === 5 ? 0.3 : 1]),
      ),
    );
    expect(r.code).toBe(1);
    expect(oneLine(r)).toMatch(/11 of 12 states failed .*\(states 0, 1, 2, 3, 4, … \(6 more\)\)/);
  });
});

describe('rollout reports states the engine could not solve', () => {
  const rel = ['--system', 'relativistic-particle', '--engine', 'lnn', '--model', 'relativistic-lnn'];
  it('one start: stops at the step, writes what it had, exit 1', async () => {
    const r = await cli(['rollout', ...rel, '--q0', '0', '--qd0', '1', '--dt', '0.01', '--duration', '0.05']);
    expect(r.code, r.stderr).toBe(1);
    const data = JSON.parse(r.stdout);
    expect(data.t).toEqual([0]);
    expect(data.failure).toMatchObject({ step: 1, index: 0, count: 1, indices: [0], cause: 'solve' });
    expect(oneLine(r)).toMatch(
      /stopped at t = 0\.01 s \(step 1\): the engine found no finite q̈.*training box/,
    );
  });

  it('a batch: names how many starts failed and which', async () => {
    const file = scratch('rel-batch.json', states([[0], [0], [0], [0.1]], [[0.5], [1], [-1], [0.2]]));
    const r = await cli([
      'rollout',
      ...rel,
      '--states',
      file,
      '--dt',
      '0.01',
      '--duration',
      '0.05',
      '--format',
      'csv',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('t,b,q_0,qd_0,energy');
    expect(oneLine(r)).toMatch(/in 2 of 4 starts \(1, 2\): the engine found no finite q̈/);
  });
});

describe('names from the command line never index an object prototype', () => {
  const st = states([[0, 0]], [[0, 0]]);
  it.concurrent.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])(
    '--engine %s',
    async (name) => {
      const r = await cli(['accel', '--system', 'double-pendulum', '--engine', name, '--states', '-'], st);
      refused(r, new RegExp(`--engine: unknown engine '${name}'. Available engines: analytic`));
    },
  );
  it.concurrent.each(['toString', '__proto__'])(
    '%s as --system, a --params key and a command',
    async (name) => {
      const sys = await cli(['accel', '--system', name, '--engine', 'analytic', '--states', '-'], st);
      refused(sys, new RegExp(`--system: unknown system '${name}'`));
      const params = await cli(
        [
          'accel',
          '--system',
          'double-pendulum',
          '--engine',
          'analytic',
          '--params',
          `{"${name}":1}`,
          '--states',
          '-',
        ],
        st,
      );
      refused(params, new RegExp(`--params: double-pendulum: unknown parameter '${name}'`));
      const cmd = await cli([name]);
      refused(cmd, new RegExp(`unknown command '${name}'`));
    },
  );
});

describe('damaged models are bad input (exit 2, one line)', () => {
  const model = (name: string, text: string): string => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'model.json'), text);
    return d;
  };
  it.concurrent.each([
    ['truncated JSON', '{"format":"layers-model",', /not valid JSON/],
    ['null', 'null', /has no userDefinedMetadata.threeLnn/],
    ['an array', '[1,2]', /has no userDefinedMetadata.threeLnn/],
  ])('%s: inspect, eval and accel --model', async (name, text, message) => {
    const d = model(`m-${name.replace(/\W/g, '')}`, text);
    const runs = await Promise.all([
      cli(['inspect', '--model', d]),
      cli(['eval', '--model', d, '--quick']),
      cli(
        ['accel', '--system', 'double-pendulum', '--engine', 'lnn', '--model', d, '--states', '-'],
        states([[0, 0]], [[0, 0]]),
      ),
    ]);
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(2);
      oneLine(r);
    }
    expect(runs[0].stderr).toMatch(message);
  });

  it('a manifest of the wrong shape', async () => {
    const d = model(
      'm-manifest',
      JSON.stringify({
        userDefinedMetadata: { threeLnn: { kind: 'lnn', system: { id: 'double-pendulum' }, dof: 2 } },
        weightsManifest: [{ paths: 'weights.bin', weights: 7 }],
      }),
    );
    refused(
      await cli(['inspect', '--model', d]),
      /weightsManifest\[0\]\.paths must be an array of file names/,
    );
  });

  it('a model.json over --max-input-bytes', async () => {
    refused(
      await cli(['inspect', '--model', 'double-pendulum-lnn', '--max-input-bytes', '100']),
      /model\.json' is [\d,]+ bytes, over the limit --max-input-bytes 100; .* raise the limit with --max-input-bytes <n>/,
    );
  });
});

describe('inspect reads nothing outside the model folder and bounds the manifest', () => {
  const shipped = JSON.parse(
    readFileSync(join(import.meta.dirname, '..', 'assets/models/double-pendulum-lnn/model.json'), 'utf8'),
  );
  const withPaths = (name: string, paths: string[]): string => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const json = structuredClone(shipped);
    json.weightsManifest[0].paths = paths;
    writeFileSync(join(d, 'model.json'), JSON.stringify(json));
    return d;
  };

  it.concurrent.each([
    ['../../../../../../etc/hostname', /has a "\.\." segment/],
    ['/etc/hostname', /paths\[0\] "\/etc\/hostname"/],
    ['sub/%2e%2e/%2e%2e/x.bin', /paths\[0\]/],
  ])('a shard path %s is refused without stat-ing it (exit 2)', async (path, message) => {
    const name = `esc-${Buffer.from(path).toString('hex')}`;
    refused(await cli(['inspect', '--model', withPaths(name, [path])]), message);
  });

  it('300,000 shard paths are refused by count, not by a stack overflow', async () => {
    const paths = Array.from({ length: 300_000 }, (_, i) => `w${i}.bin`);
    refused(await cli(['inspect', '--model', withPaths('many', paths)]), /lists more than 100000 entries/);
  });
});

describe('train and eval flags are validated against named limits', () => {
  it.concurrent.each([
    ['--hidden 0', ['--hidden', '0'], /Width 1 \('0'\) must be an integer from 1 to 4,096/],
    ['--hidden 1e11', ['--hidden', '1e11'], /Width 1 \('1e11'\) must be an integer from 1 to 4,096/],
    ['--hidden 64,,64', ['--hidden', '64,,64'], /Width 2/],
    ['17 layers', ['--hidden', Array(17).fill(8).join(',')], /17 hidden layers is over the limit of 16/],
    ['--seed abc', ['--seed', 'abc'], /--seed.*integer from 0 to 4,294,967,295/],
    ['--steps 1e9', ['--steps', '1e9'], /--steps.*integer from 1 to 100,000,000/],
    ['--batch 0', ['--batch', '0'], /--batch.*integer from 1 to 1,000,000/],
    ['--backend webgl', ['--backend', 'webgl'], /--backend.*wasm, cpu/],
  ])('train %s', async (_name, args, message) => {
    refused(await cli(['train', '--no-progress', ...args]), message);
  });
  it.concurrent.each([
    ['--starts 0', ['--starts', '0'], /--starts.*integer from 1 to 100,000/],
    ['--states 1e12', ['--states', '1e12'], /--states.*integer from 1 to 10,000,000/],
    ['--seconds 1e9', ['--seconds', '1e9'], /--seconds.*at most 100,000 seconds/],
    ['--backend webgl', ['--backend', 'webgl'], /--backend.*wasm, cpu, js/],
  ])('eval %s', async (_name, args, message) => {
    refused(await cli(['eval', '--model', 'double-pendulum-lnn', ...args]), message);
  });
});

describe('limits on inputs and work, checked before work starts', () => {
  const dp = ['--system', 'double-pendulum', '--engine', 'analytic'];

  it('an input file over 64 MiB is refused from its size, without reading it', async () => {
    const big = scratch('big-states.json');
    writeFileSync(big, '');
    truncateSync(big, 200 * 1024 * 1024); // sparse: 200 MB on paper, nothing on disk
    const r = await cli(['accel', ...dp, '--states', big]);
    refused(
      r,
      /--states: '.*big-states\.json' is 209,715,200 bytes, over the limit --max-input-bytes 67,108,864; .*raise the limit with --max-input-bytes <n>\./,
    );
    expect(r.ms, 'refused at once').toBeLessThan(20_000);
  });

  it('standard input is read with a byte cap; --max-input-bytes raises it', async () => {
    const text = states(
      Array.from({ length: 20 }, () => [0.1, 0.2]),
      Array.from({ length: 20 }, () => [0, 0]),
    );
    refused(
      await cli(['accel', ...dp, '--states', '-', '--max-input-bytes', '100'], text),
      /--states: standard input is more than 100 bytes, over the limit --max-input-bytes 100/,
    );
    const ok = await cli(['accel', ...dp, '--states', '-', '--max-input-bytes', String(text.length)], text);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).qdd.length).toBe(20);
  });

  it.runIf(existsSync('/dev/zero'))('an endless file (/dev/zero) stops at the cap', async () => {
    refused(
      await cli(['accel', ...dp, '--states', '/dev/zero', '--max-input-bytes', '1000000']),
      /'\/dev\/zero' is more than 1,000,000 bytes, over the limit --max-input-bytes 1,000,000/,
    );
  });

  it('--max-states bounds the batch; raising it lets the batch through', async () => {
    const file = scratch('twenty.json', states(Array(20).fill([0, 0]), Array(20).fill([0, 0])));
    refused(
      await cli(['accel', ...dp, '--states', file, '--max-states', '10']),
      /the number of states in "q" is 20, over the limit --max-states 10; raise the limit with --max-states <n>\./,
    );
    refused(
      await cli(['rollout', ...dp, '--states', file, '--dt', '0.1', '--duration', '1', '--max-states', '19']),
      /over the limit --max-states 19/,
    );
    const ok = await cli(['accel', ...dp, '--states', file, '--max-states', '20']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('--duration 1e15: refused at once by --max-steps, not started', async () => {
    const r = await cli([
      'rollout',
      ...dp,
      '--q0',
      '1,1',
      '--qd0',
      '0,0',
      '--dt',
      '0.01',
      '--duration',
      '1e15',
      '--every',
      '1e15',
    ]);
    refused(
      r,
      /--duration 1000000000000000 \/ --dt 0\.01 is 1e\+17 steps, over the limit --max-steps 10,000,000; shorten --duration or take a larger --dt, or raise the limit with --max-steps <n>\./,
    );
    expect(r.ms).toBeLessThan(20_000);
  });

  it('--max-steps counts steps × starts; raising it lets the run through', async () => {
    const file = scratch(
      'two.json',
      states(
        [
          [1, 1],
          [0.5, 0],
        ],
        [
          [0, 0],
          [0, 0],
        ],
      ),
    );
    const args = ['rollout', ...dp, '--states', file, '--dt', '0.01', '--duration', '1', '--every', '100'];
    refused(
      await cli([...args, '--max-steps', '150']),
      /for 2 starts is 200 steps \(steps × starts\), over the limit --max-steps 150; .*give fewer starts, or raise the limit with --max-steps <n>\./,
    );
    const ok = await cli([...args, '--max-steps', '200']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).t).toEqual([0, 1]);
  });

  it('--max-output-values bounds what a roll-out records, with the --every that fits', async () => {
    const args = ['rollout', ...dp, '--q0', '1,1', '--qd0', '0,0', '--dt', '0.001', '--duration', '10'];
    refused(
      await cli([...args, '--max-output-values', '1000']),
      /would record .* is 50,010 numbers, over the limit --max-output-values 1,000; record less often with --every 51 or more/,
    );
    const ok = await cli([...args, '--max-output-values', '1000', '--every', '51']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('limit flags take integers ≥ 1 only', async () => {
    refused(
      await cli(['accel', ...dp, '--states', '-', '--max-states', '0']),
      /--max-states.*integer from 1/,
    );
    refused(
      await cli(['accel', ...dp, '--states', '-', '--max-input-bytes', '1e300']),
      /--max-input-bytes.*integer from 1 to/,
    );
  });
});

describe('scene files: size, work and one-line validation errors', () => {
  const scene = (extra: Record<string, unknown> = {}, system: Record<string, unknown> = {}) =>
    JSON.stringify({
      name: 'limits',
      dt: 0.01,
      duration: 0.1,
      systems: [{ id: 'a', system: 'double-pendulum', q0: [1, 1], qd0: [0, 0], count: 3, ...system }],
      recorders: [{ target: 'a' }],
      ...extra,
    });

  it('runs a small scene', async () => {
    const r = await cli(['scene', scratch('ok.json', scene())]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).steps).toBe(10);
  });

  it('--max-input-bytes', async () => {
    refused(
      await cli(['scene', scratch('small.json', scene()), '--max-input-bytes', '10']),
      /<file>: '.*small\.json' is \d+ bytes, over the limit --max-input-bytes 10/,
    );
  });

  it('--max-steps counts steps × copies, before any engine is built', async () => {
    const huge = scratch('huge.json', scene({}, { count: 1e9, q0: [1, 1] }));
    refused(
      await cli(['scene', huge]),
      /scene 'limits' \(10 steps × 1,000,000,000 copies\) is 10,000,000,000 steps, over the limit --max-steps 10,000,000/,
    );
    refused(
      await cli(['scene', scratch('ok2.json', scene()), '--duration', '1e6']),
      /over the limit --max-steps/,
    );
  });

  it('--max-output-values bounds the recordings; raising it lets the run through', async () => {
    const file = scratch('rec.json', scene());
    refused(
      await cli(['scene', file, '--max-output-values', '100']),
      /what scene 'limits' would record is 187 numbers, over the limit --max-output-values 100/,
    );
    const ok = await cli(['scene', file, '--max-output-values', '187']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('validation errors quote bad values briefly, on one line', async () => {
    const bad = scratch(
      'bad.json',
      JSON.stringify({
        name: `multi\nline${'n'.repeat(500)}`,
        dt: 0.01,
        duration: 0.1,
        systems: [{ id: 'a', system: 'double-pendulum', q0: [1, 'x'.repeat(100_000)] }],
      }),
    );
    const r = await cli(['scene', bad]);
    refused(r, /systems\[0\]\.q0 \('a'\) must be an array of finite numbers, got \[1,"x+…\./);
    expect(r.stderr.length).toBeLessThan(400);
    refused(
      await cli(['scene', scratch('q.json', scene({ recorders: [{ target: 'a', quantities: 5 }] }))]),
      /recorders\[0\]\.quantities must be an array/,
    );
  });
});

describe('unexpected errors', () => {
  it('one line and exit status 1; the stack trace only with --debug', async () => {
    const index = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'src', 'index.js')).href;
    const file = scratch(
      'boom.mjs',
      `import { createSystem } from '${index}';
const system = Object.create(createSystem('simple-pendulum'));
system.positions = () => { throw new Error('boom\\nsecond line'); };
export default { name: 'boom', dt: 0.01, duration: 0.05, systems: [{ id: 'a', system, q0: [1], qd0: [0] }],
  recorders: [{ target: 'a', quantities: ['positions'] }] };
`,
    );
    const r = await cli(['scene', file]);
    expect(r.code, r.stderr).toBe(1);
    expect(oneLine(r)).toBe('three-lnn scene: error: boom second line (run with --debug for details)');
    const debug = await cli(['--debug', 'scene', file]);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(STACK_FRAME);
  });
});
