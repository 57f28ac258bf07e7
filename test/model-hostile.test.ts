/**
 * Hostile model files: seeded mutations of the shipped models (test/support/hostileModels.ts) in seven
 * classes. For every case: it loads (and then its weights are finite, hold no sentinel value from outside
 * its folder, and its summary prints) or it throws a ModelFormatError whose message is one line under
 * 1000 characters; it never opens a file outside its folder (nor a file whose size alone refuses it), and
 * it settles within FUZZ_HANG_MS. A table per class is printed at the end.
 *
 * FUZZ_CASES (default 420) sets the number of cases, FUZZ_SEED (default 1) the seed, FUZZ_CLASSES a
 * comma-separated filter on class names, FUZZ_REPORT a file for the table as JSON.
 */
import {
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  realpathSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../src/math/random';
import { createModel } from '../src/model/artifacts';
import { formatModelSummary, inspectModel } from '../src/model/inspect';
import { loadModel } from '../src/model/loadModel';
import { ModelFormatError, showValue } from '../src/model/ModelFormatError';
import type { LoadedModel, ModelMetadata } from '../src/model/metadata';
import { referenceAccelerations } from '../src/model/reference';
import { validateMetadata } from '../src/model/validate';
import {
  type BaseModel,
  baseModels,
  type CaseContext,
  DEFAULT_JSON_LIMIT,
  type HostileCase,
  isSentinel,
  jsonDamageCase,
  makeFifo,
  nonFiniteCase,
  oversizedCase,
  pathEscapeCase,
  type Rng,
  sentinelBytes,
  shapeCase,
  shardBytesCase,
  writeSentinels,
} from './support/hostileModels';

const SEED = Number(process.env.FUZZ_SEED ?? 1);
const TOTAL = Number(process.env.FUZZ_CASES ?? 420);
const HANG_MS = Number(process.env.FUZZ_HANG_MS ?? 5000);
/** How long a load that hung may take to wind down before the next case starts. */
const DRAIN_MS = 30_000;
const ONLY = (process.env.FUZZ_CLASSES ?? '')
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .filter(Boolean);

/** One row of the summary table. */
interface Tally {
  cases: number;
  loaded: number;
  typed: number;
  untyped: number;
  escapes: number;
  overReads: number;
  hangs: number;
  /** The slowest case: milliseconds and label. */
  slowest: [number, string];
  /** Typed errors by problem code, with the first message of each (for FUZZ_REPORT). */
  codes: Record<string, { count: number; first: string }>;
  /** The first failures, one line each. */
  failures: string[];
}

const tallies = new Map<string, Tally>();
const tally = (cls: string): Tally => {
  let t = tallies.get(cls);
  if (!t) {
    t = {
      cases: 0,
      loaded: 0,
      typed: 0,
      untyped: 0,
      escapes: 0,
      overReads: 0,
      hangs: 0,
      slowest: [0, ''],
      codes: {},
      failures: [],
    };
    tallies.set(cls, t);
  }
  return t;
};
const fail = (t: Tally, what: string) => {
  if (t.failures.length < 12) t.failures.push(what.replace(/\s+/g, ' ').slice(0, 300));
};

const root = mkdtempSync(join(tmpdir(), 'three-lnn-hostile-'));
const models: BaseModel[] = baseModels();
let counter = 0;

// Every file the loader opens or reads, through the module object the loader uses
// (process.getBuiltinModule('fs/promises')); readFile also gets an AbortSignal so that a read the
// per-case time limit gives up on (/dev/zero, /dev/urandom) stops instead of filling the memory.
type Fsp = typeof import('node:fs/promises');
const fsp = (process as unknown as { getBuiltinModule(id: string): Fsp }).getBuiltinModule('fs/promises');
const original = { open: fsp.open, readFile: fsp.readFile };
let opened: string[] = [];
let abort = new AbortController();

beforeAll(() => {
  writeSentinels(root, models);
  mkdirSync(join(root, 'cases'));
  fsp.open = (async (path: Parameters<Fsp['open']>[0], ...rest: unknown[]) => {
    opened.push(String(path));
    return (original.open as (...a: unknown[]) => Promise<unknown>).call(fsp, path, ...rest);
  }) as unknown as Fsp['open'];
  fsp.readFile = ((path: Parameters<Fsp['readFile']>[0], options?: unknown) => {
    opened.push(String(path));
    const o = typeof options === 'string' ? { encoding: options } : { ...(options as object) };
    return (original.readFile as (...a: unknown[]) => Promise<unknown>).call(fsp, path, {
      ...o,
      signal: abort.signal,
    });
  }) as unknown as Fsp['readFile'];
});

afterAll(() => {
  fsp.open = original.open;
  fsp.readFile = original.readFile;
  const rows = [...tallies.entries()];
  const head = [
    'class',
    'cases',
    'loaded',
    'typed errors',
    'untyped errors',
    'escapes',
    'over-reads',
    'hangs',
    'slowest ms',
  ];
  const body = rows.map(([cls, t]) => [
    cls,
    t.cases,
    t.loaded,
    t.typed,
    t.untyped,
    t.escapes,
    t.overReads,
    t.hangs,
    Math.round(t.slowest[0]),
  ]);
  const sum = (k: number) => body.reduce((s, r) => s + Number(r[k]), 0);
  const slowest = body.reduce((s, r) => Math.max(s, Number(r[8])), 0);
  body.push(['all', sum(1), sum(2), sum(3), sum(4), sum(5), sum(6), sum(7), slowest]);
  const widths = head.map((h, k) => Math.max(h.length, ...body.map((r) => String(r[k]).length)));
  const line = (r: unknown[]) =>
    r
      .map((c, k) =>
        String(c)
          .padStart(k === 0 ? 0 : widths[k])
          .padEnd(widths[k]),
      )
      .join('  ');
  console.log(
    `hostile models, seed ${SEED}, ${TOTAL} cases requested, limit ${HANG_MS} ms per case:\n${[head, ...body].map(line).join('\n')}`,
  );
  if (process.env.FUZZ_REPORT) {
    writeFileSync(
      process.env.FUZZ_REPORT,
      JSON.stringify({ seed: SEED, total: TOTAL, classes: Object.fromEntries(tallies) }, null, 2),
    );
  }
  rmSync(root, { recursive: true, force: true });
});

/** Whether `path` (after resolving links) lies inside `dir`. */
function inside(dir: string, path: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    real = resolve(path);
  }
  const rel = relative(dir, real);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${'/'}`) && !isAbsolute(rel));
}

/** Let a reader blocked on a FIFO go (an open for writing releases it; it then reads end-of-file). */
function unblock(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // No reader waiting.
  }
}

type Outcome = (
  | { kind: 'loaded'; model: LoadedModel }
  | { kind: 'error'; error: unknown }
  | { kind: 'hang' }
) & { ms?: number };

/** Run `load` with the per-case time limit. */
async function settle(load: () => Promise<LoadedModel>, release?: () => void): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<Outcome>((r) => {
    timer = setTimeout(() => r({ kind: 'hang' }), HANG_MS);
  });
  const done = load().then(
    (model): Outcome => ({ kind: 'loaded', model }),
    (error): Outcome => ({ kind: 'error', error }),
  );
  const t0 = performance.now();
  const out = await Promise.race([done, hang]);
  out.ms = performance.now() - t0;
  clearTimeout(timer);
  if (out.kind === 'hang') {
    // Counted as a hang; then let the load go (abort reads, open FIFOs) and give it time to wind down, so
    // that what it still holds (file descriptors, threads, memory) does not spill into the next case.
    release?.();
    await Promise.race([done, new Promise((r) => setTimeout(r, DRAIN_MS))]);
  }
  return out;
}

/** Why a thrown value is not an acceptable model error, or null when it is one. */
function untypedReason(error: unknown): string | null {
  if (!(error instanceof ModelFormatError)) {
    const e = error as Error | undefined;
    return `${e?.name ?? typeof error}: ${String(e?.message ?? error).slice(0, 200)}`;
  }
  if (/[\r\n\u2028\u2029]/.test(error.message)) return `multi-line message: ${error.message.slice(0, 200)}`;
  if (error.message.length >= 1000) return `message of ${error.message.length} characters`;
  return null;
}

/** Check a loaded model: finite weights, no sentinel weights, a summary that prints. */
function checkLoaded(model: LoadedModel): { problem: string | null; sentinel: boolean } {
  let sentinel = 0;
  for (const [i, l] of model.layers.entries()) {
    for (const arr of [l.kernel, l.bias]) {
      for (let j = 0; j < arr.length; j++) {
        if (!Number.isFinite(arr[j])) return { problem: `layer ${i} holds ${arr[j]}`, sentinel: false };
        if (isSentinel(arr[j])) sentinel++;
      }
    }
  }
  try {
    formatModelSummary(inspectModel(model));
  } catch (e) {
    return { problem: `summary threw ${(e as Error).name}: ${(e as Error).message}`, sentinel: sentinel > 8 };
  }
  const qdd = qddProblem(model);
  if (qdd !== null) return { problem: qdd, sentinel: sentinel > 8 };
  return { problem: null, sentinel: sentinel > 8 };
}

/** Coordinates of the q̈ probe: ordinary, large, beyond float32, non-finite. */
const PROBE = [0.3, -1.2, 2.5, 1e3, 1e40, -1e308, Number.NaN, Number.POSITIVE_INFINITY];

/**
 * q̈ of a loaded model at ordinary and hostile states, by the float64 reference: every component finite,
 * and a state with a non-finite coordinate flagged failed (finite or flagged, never NaN).
 */
function qddProblem(model: LoadedModel): string | null {
  const n = model.metadata.kind === 'lgn' ? 4 : model.metadata.dof;
  const batch = PROBE.length;
  const q = new Float64Array(batch * n);
  const qd = new Float64Array(batch * n);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      q[b * n + i] = i === 0 ? PROBE[b] : 0.1 * (i + 1);
      qd[b * n + i] = i === n - 1 ? PROBE[(b + 3) % batch] : 0.05;
    }
  }
  const out = new Float64Array(batch * n);
  const flags = new Uint8Array(batch);
  try {
    referenceAccelerations(model, q, qd, out, batch, { flags });
  } catch (e) {
    return `q̈ threw ${(e as Error).name}: ${(e as Error).message}`;
  }
  for (let k = 0; k < out.length; k++)
    if (!Number.isFinite(out[k])) return `q̈[${k}] = ${out[k]}, not flagged away`;
  for (let b = 0; b < batch; b++) {
    const nonFinite = [...q.subarray(b * n, b * n + n), ...qd.subarray(b * n, b * n + n)].some(
      (v) => !Number.isFinite(v),
    );
    if (nonFinite && flags[b] !== 2) return `state ${b} has a non-finite coordinate but flag ${flags[b]}`;
  }
  return null;
}

/**
 * Count one case's outcome in its class: a hang, a load (checked: finite, no sentinel weights, q̈ finite or
 * flagged) or an error (typed and one line, or untyped). Returns whether the sentinel weights were loaded.
 * @param mustLoad the case is a legitimate layout, so an error is itself a failure
 */
function countOutcome(t: Tally, where: string, out: Outcome, mustLoad: boolean): boolean {
  if (out.kind === 'hang') {
    t.hangs++;
    fail(t, `${where}: no answer within ${HANG_MS} ms`);
    return false;
  }
  if (out.kind === 'loaded') {
    t.loaded++;
    const { problem, sentinel } = checkLoaded(out.model);
    if (problem) {
      t.untyped++;
      fail(t, `${where}: loaded, but ${problem}`);
    }
    if (sentinel) fail(t, `${where}: loaded the sentinel weights from outside the model folder`);
    return sentinel;
  }
  const why = untypedReason(out.error);
  if (why === null) {
    t.typed++;
    const e = out.error as ModelFormatError;
    t.codes[e.problem] ??= { count: 0, first: e.message };
    t.codes[e.problem].count++;
  } else {
    t.untyped++;
    fail(t, `${where}: ${why}`);
  }
  if (mustLoad) fail(t, `${where}: a legitimate layout was refused: ${(out.error as Error)?.message}`);
  return false;
}

/** Build the case's folder, load it, and count the outcome. */
async function runCase(c: HostileCase): Promise<void> {
  const t = tally(c.cls);
  const dir = join(root, 'cases', `c${counter++}`);
  mkdirSync(dir);
  const fifos: string[] = [];
  const ctx: CaseContext = {
    dir,
    root,
    fifo: (p) => {
      const ok = makeFifo(p);
      if (ok) fifos.push(p);
      return ok;
    },
  };
  const build = () => {
    for (const [name, bytes] of Object.entries(c.files ?? { 'weights.bin': c.base.weights })) {
      writeFileSync(join(dir, name), bytes);
    }
    const json = c.json === undefined ? c.base.json : c.json;
    writeFileSync(
      join(dir, 'model.json'),
      typeof json === 'string' || json instanceof Uint8Array ? json : JSON.stringify(json),
    );
    c.prepare?.(ctx);
  };
  for (let attempt = 0; ; attempt++) {
    try {
      build();
      break;
    } catch (e) {
      // An earlier load may still hold thousands of file descriptors (200,000 shard paths read at once):
      // wait for them to close rather than count its damage against this case.
      if ((e as { code?: string }).code !== 'EMFILE' || attempt >= 60) {
        fail(t, `${c.label}: could not build the case (${(e as Error).message})`);
        return;
      }
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const target = c.target === undefined ? dir : isAbsolute(c.target) ? c.target : join(dir, c.target);
  const never = c.neverOpen?.(ctx) ?? [];
  const realDir = realpathSync(dir);
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).join();
  opened = [];
  abort = new AbortController();

  const out = await settle(
    () => loadModel(target),
    () => {
      abort.abort();
      for (const f of fifos) unblock(f);
    },
  );
  const ms = out.ms ?? 0;
  if (ms > t.slowest[0]) t.slowest = [ms, c.label];
  abort = new AbortController();
  for (const f of fifos) unblock(f);
  const reads = opened;
  opened = [];

  t.cases++;
  const where = `${c.label}`;
  let escaped = countOutcome(t, where, out, c.mustLoad === true);
  const explicit = c.target !== undefined && isAbsolute(c.target) ? c.target : null;
  const outside = reads.filter((p) => p !== explicit && !inside(realDir, p));
  if (outside.length > 0) {
    escaped = true;
    fail(t, `${where}: opened ${outside[0]} outside the model folder`);
  }
  const over = reads.filter((p) => never.includes(p));
  if (over.length > 0) {
    t.overReads++;
    fail(t, `${where}: opened ${over[0]} although its size alone refuses it`);
  }
  if (Object.getOwnPropertyNames(Object.prototype).join() !== protoKeys) {
    escaped = true;
    fail(t, `${where}: Object.prototype changed`);
  }
  if (escaped) t.escapes++;
  if (out.kind !== 'hang') rmSync(dir, { recursive: true, force: true });
}

// ─── URLs ──────────────────────────────────────────────────────────────────────────────────────────────

const ORIGIN = 'http://models.test';

/** A shard path of a model served at `${ORIGIN}/m/<name>/`, and whether it must load. */
interface UrlVariant {
  label: string;
  rel: (name: string) => string;
  loads?: boolean;
  /** Serve model.json (`json`) or the shard (`shard`) as a stream that never ends on its own. */
  endless?: 'json' | 'shard';
}

const URL_VARIANTS: readonly UrlVariant[] = [
  { label: 'absolute URL, other origin', rel: (n) => `http://evil.test/m/${n}/weights.bin` },
  { label: 'protocol-relative URL', rel: (n) => `//evil.test/m/${n}/weights.bin` },
  { label: 'absolute path, same origin', rel: (n) => `/outside/${n}.bin` },
  { label: '../', rel: (n) => `../../outside/${n}.bin` },
  { label: "../ to a sibling model's folder", rel: (n) => `../${n}-other/weights.bin` },
  { label: 'percent-encoded ..', rel: (n) => `%2e%2e/%2e%2e/outside/${n}.bin` },
  { label: 'percent-encoded /', rel: (n) => `..%2f..%2foutside%2f${n}.bin` },
  { label: 'sub/../../', rel: (n) => `sub/../../../outside/${n}.bin` },
  { label: 'backslashes', rel: (n) => `..\\..\\outside\\${n}.bin` },
  { label: 'absolute URL of the same folder', rel: (n) => `${ORIGIN}/m/${n}/weights.bin` },
  { label: 'https: URL, same host', rel: (n) => `https://models.test/m/${n}/weights.bin` },
  { label: 'data: URL', rel: () => 'data:application/octet-stream;base64,AAAA' },
  { label: 'javascript: URL', rel: () => 'javascript:alert(1)' },
  { label: 'query string (legitimate)', rel: () => 'weights.bin?v=2', loads: true },
  { label: 'subfolder (legitimate)', rel: () => 'sub/weights.bin', loads: true },
  { label: 'endless model.json', rel: () => 'weights.bin', endless: 'json' },
  { label: 'endless shard', rel: () => 'weights.bin', endless: 'shard' },
];

/** Bytes a fake "endless" body gives before it stops (the loader must stop far earlier). */
const ENDLESS_BYTES = 64 * 1024 * 1024;

/** A body that streams zeros (or `fill`) up to ENDLESS_BYTES, counting what was pulled. */
function endless(count: { pulled: number }): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(32);
  return new ReadableStream({
    pull(c) {
      if (count.pulled >= ENDLESS_BYTES) c.close();
      else {
        count.pulled += chunk.length;
        c.enqueue(chunk.slice());
      }
    },
  });
}

async function runUrlCase(rng: Rng, index: number): Promise<void> {
  const base =
    index < URL_VARIANTS.length ? models[index % models.length] : models[Math.floor(rng() * models.length)];
  const v =
    index < URL_VARIANTS.length ? URL_VARIANTS[index] : URL_VARIANTS[Math.floor(rng() * URL_VARIANTS.length)];
  const t = tally('URL policy');
  const json = structuredClone(base.json) as { weightsManifest: { paths: string[] }[] };
  json.weightsManifest[0].paths = [v.rel(base.name)];
  const folder = `${ORIGIN}/m/${base.name}/`;
  const sentinel = sentinelBytes(base.weights.length);
  const fetched: string[] = [];
  const pulled = { pulled: 0 };
  const fakeFetch = (async (input: string) => {
    const url = String(input);
    fetched.push(url);
    const u = new URL(url);
    if (u.origin !== ORIGIN) return new Response(sentinel.slice());
    const path = u.pathname;
    if (path === `/m/${base.name}/model.json`) {
      return new Response(v.endless === 'json' ? endless(pulled) : JSON.stringify(json));
    }
    if (path === `/m/${base.name}/weights.bin` || path === `/m/${base.name}/sub/weights.bin`) {
      return new Response(v.endless === 'shard' ? endless(pulled) : base.weights.slice());
    }
    if (path.startsWith('/outside/') || path.startsWith(`/m/${base.name}-other/`)) {
      return new Response(sentinel.slice());
    }
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
  const out = await settle(() => loadModel(folder, { fetch: fakeFetch }));
  const ms = out.ms ?? 0;
  if (ms > t.slowest[0]) t.slowest = [ms, `${base.name}: ${v.label}`];
  t.cases++;
  const where = `${base.name}: ${v.label}`;
  let escaped = countOutcome(t, where, out, v.loads === true);
  const outside = fetched.filter((u) => !u.startsWith(folder));
  if (outside.length > 0) {
    escaped = true;
    fail(t, `${where}: fetched ${outside[0]}`);
  }
  const allowed = v.endless === 'json' ? DEFAULT_JSON_LIMIT : base.weights.length;
  if (pulled.pulled > allowed + 1024 * 1024) {
    t.overReads++;
    fail(t, `${where}: read ${pulled.pulled} bytes of an endless body (limit ${allowed})`);
  }
  if (escaped) t.escapes++;
}

// ─── the classes ───────────────────────────────────────────────────────────────────────────────────────

type Generator = (rng: Rng, models: readonly BaseModel[], index: number) => HostileCase;

/** Class name, its share of the cases, and its generator (null: the URL runner). */
const CLASSES: [string, number, Generator | null][] = [
  ['path escape', 100, pathEscapeCase],
  ['JSON damage', 100, jsonDamageCase],
  ['shape/dtype/size', 50, shapeCase],
  ['shard bytes', 50, shardBytesCase],
  ['NaN/Inf weights', 40, nonFiniteCase],
  ['oversized/special files', 30, oversizedCase],
  ['URL policy', 50, null],
];
const shares = CLASSES.reduce((s, [, n]) => s + n, 0);

describe(`hostile model files (seed ${SEED})`, () => {
  CLASSES.forEach(([name, share, generate], k) => {
    const count = Math.max(1, Math.round((TOTAL * share) / shares));
    const skip = ONLY.length > 0 && !ONLY.some((o) => name.toLowerCase().includes(o));
    it.skipIf(skip)(
      `${name}: ${count} cases load or fail with a one-line ModelFormatError, read nothing outside the folder, never hang`,
      async () => {
        const rng = createRng((SEED * 1_000_003 + k * 7919) >>> 0);
        for (let i = 0; i < count; i++) {
          if (generate) await runCase(generate(rng, models, i));
          else await runUrlCase(rng, i);
        }
        const t = tally(name);
        expect(t.failures, `${name}: ${JSON.stringify(t)}`).toEqual([]);
        expect(t.cases).toBe(count);
      },
      Math.max(120_000, count * (HANG_MS + DRAIN_MS)),
    );
  });
});

describe('URL policy: shards come from the folder of model.json unless the caller opts in', () => {
  const base = () => models.find((m) => m.name === 'relativistic-lnn') ?? models[0];

  /** A server with the model at /m/dp/ and a sentinel shard everywhere else; it records each URL. */
  function server(rel: string) {
    const m = base();
    const json = structuredClone(m.json) as { weightsManifest: { paths: string[] }[] };
    json.weightsManifest[0].paths = [rel];
    const fetched: string[] = [];
    const fakeFetch = (async (url: string) => {
      fetched.push(url);
      const u = new URL(url);
      if (u.origin === ORIGIN && u.pathname === '/m/dp/model.json') return new Response(JSON.stringify(json));
      if (u.origin === ORIGIN && u.pathname === '/m/dp/weights.bin') return new Response(m.weights.slice());
      return new Response(sentinelBytes(m.weights.length));
    }) as typeof fetch;
    return { fakeFetch, fetched };
  }

  for (const rel of [
    'http://other.test/w.bin',
    '//other.test/w.bin',
    '/w.bin',
    '../w.bin',
    '../dp2/w.bin',
    `${ORIGIN}/m/dp/weights.bin`,
  ]) {
    it(`refuses ${rel} without fetching it, and loads it with allowExternalShards`, async () => {
      const s = server(rel);
      const err = await loadModel(`${ORIGIN}/m/dp/`, { fetch: s.fakeFetch }).catch((e) => e);
      expect(err, 'refused').toBeInstanceOf(ModelFormatError);
      expect((err as ModelFormatError).problem).toBe('unsafe-path');
      expect(err.message).toContain(rel);
      expect(err.message).toMatch(/allowExternalShards/);
      expect(s.fetched, 'only model.json was fetched').toEqual([`${ORIGIN}/m/dp/model.json`]);
      const t = server(rel);
      const model = await loadModel(`${ORIGIN}/m/dp/`, { fetch: t.fakeFetch, allowExternalShards: true });
      expect(t.fetched).toHaveLength(2);
      const same = rel === `${ORIGIN}/m/dp/weights.bin`;
      expect(isSentinel(model.layers[0].kernel[0]), 'the opted-in shard was read').toBe(!same);
    });
  }

  it('a model.json larger than maxJsonBytes is refused before it is read, naming the limit', async () => {
    const pulled = { pulled: 0 };
    const fakeFetch = (async () => new Response(endless(pulled))) as unknown as typeof fetch;
    const err = await loadModel(`${ORIGIN}/m/dp/`, { fetch: fakeFetch }).catch((e) => e);
    expect((err as ModelFormatError).problem).toBe('too-large');
    expect(err.message).toMatch(/16,777,216 bytes \(LoadModelOptions\.maxJsonBytes/);
    expect(pulled.pulled).toBeLessThan(DEFAULT_JSON_LIMIT + 1024 * 1024);
    const declared = (async () =>
      new Response('{}', { headers: { 'content-length': String(2 ** 40) } })) as unknown as typeof fetch;
    const err2 = await loadModel(`${ORIGIN}/m/dp/`, { fetch: declared, maxJsonBytes: 1000 }).catch((e) => e);
    expect((err2 as ModelFormatError).problem).toBe('too-large');
    expect(err2.message).toMatch(/1,000 bytes/);
  });
});

describe('files: the path rule, special files and the size limits', () => {
  const m = () => models.find((x) => x.name === 'relativistic-lnn') ?? models[0];
  const folder = (paths: string[], files: Record<string, Uint8Array> = { 'weights.bin': m().weights }) => {
    const dir = join(root, 'fixed', `f${counter++}`);
    mkdirSync(dir, { recursive: true });
    const json = structuredClone(m().json) as { weightsManifest: { paths: string[] }[] };
    json.weightsManifest[0].paths = paths;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, k), v);
    return dir;
  };
  const problemOf = async (source: string, options = {}) => {
    const e = await loadModel(source, options).catch((x) => x);
    expect(e, String(e?.stack)).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  };

  it('names the path and the rule for every escaping form', async () => {
    for (const [rel, rule] of [
      ['../weights.bin', /has a "\.\." segment/],
      ['./weights.bin', /has a "\." segment/],
      ['a//weights.bin', /empty segment/],
      ['/etc/hostname', /is absolute/],
      ['%2e%2e/weights.bin', /"\.\." segment/],
      ['..%5cweights.bin', /backslash/],
      ['C:/weights.bin', /scheme or drive letter/],
      ['file:///weights.bin', /scheme or drive letter/],
    ] as const) {
      const e = await problemOf(folder([rel]));
      expect(e.problem, rel).toBe('unsafe-path');
      expect(e.message).toContain(JSON.stringify(rel));
      expect(e.message).toMatch(rule);
    }
  });

  it('a symlink out of the folder is refused; allowExternalShards reads it (regular files only)', async () => {
    const dir = folder(['link.bin']);
    symlinkSync(join(root, 'outside', `${m().name}.bin`), join(dir, 'link.bin'));
    const e = await problemOf(dir);
    expect(e.problem).toBe('unsafe-path');
    expect(e.message).toMatch(/outside the model folder/);
    const model = await loadModel(dir, { allowExternalShards: true });
    expect(isSentinel(model.layers[0].kernel[0])).toBe(true);
    const zero = folder(['/dev/zero']);
    const z = await problemOf(zero, { allowExternalShards: true });
    expect(z.problem).toBe('not-regular-file');
    expect(z.message).toMatch(/character device/);
  });

  it('a FIFO shard or model.json is refused at once (not-regular-file)', async () => {
    const dir = folder(['fifo.bin'], {});
    if (!makeFifo(join(dir, 'fifo.bin'))) return;
    const t0 = Date.now();
    expect((await problemOf(dir)).problem).toBe('not-regular-file');
    rmSync(join(dir, 'model.json'));
    makeFifo(join(dir, 'model.json'));
    const e = await problemOf(dir);
    expect(e.problem).toBe('not-regular-file');
    expect(e.message).toMatch(/FIFO/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('model.json over the limit is too-large (naming the limit); maxJsonBytes raises it', async () => {
    const dir = folder(['weights.bin']);
    const text = JSON.stringify(m().json);
    writeFileSync(join(dir, 'model.json'), text + ' '.repeat(20_000));
    const e = await problemOf(dir, { maxJsonBytes: 10_000 });
    expect(e.problem).toBe('too-large');
    expect(e.message).toMatch(/the limit is 10,000 bytes \(LoadModelOptions\.maxJsonBytes/);
    expect((await loadModel(dir, { maxJsonBytes: 100_000 })).layers.length).toBeGreaterThan(0);
  });

  it('a shard larger than the manifest describes is refused before it is read', async () => {
    const dir = folder(['weights.bin'], {});
    writeFileSync(join(dir, 'weights.bin'), m().weights);
    truncateSync(join(dir, 'weights.bin'), 2 ** 32);
    opened = [];
    const e = await problemOf(dir);
    expect(e.problem).toBe('shape-mismatch');
    expect(e.message).toMatch(/hold 4294967296 bytes but the manifest describes only/);
    expect(opened.filter((p) => p.endsWith('weights.bin'))).toEqual([]);
  });
});

describe('validation and summaries of hostile values in memory', () => {
  const valid = () => structuredClone(models[0].json) as { userDefinedMetadata: { threeLnn: ModelMetadata } };
  /** `depth` nested arrays, built without recursion. */
  const deep = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };

  it('metadata nested deeper than 64 levels is refused (bad-field, naming the limit), 64 is accepted', () => {
    const meta = valid().userDefinedMetadata.threeLnn;
    meta.provenance = { x: deep(100_000) } as ModelMetadata['provenance'];
    let e: unknown;
    try {
      validateMetadata(meta, 'memory');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as ModelFormatError).problem).toBe('bad-field');
    expect((e as Error).message).toMatch(/nests deeper than 64 levels .*MODEL_LIMITS\.maxDepth = 64/);
    // The metadata object is level 1, provenance 2, provenance.x 3: 62 arrays below reach level 64.
    meta.provenance = { x: deep(62) } as ModelMetadata['provenance'];
    expect(() => validateMetadata(meta, 'memory')).not.toThrow();
    meta.provenance = { x: deep(63) } as ModelMetadata['provenance'];
    expect(() => validateMetadata(meta, 'memory')).toThrow(/deeper than 64/);
    const cyclic = valid().userDefinedMetadata.threeLnn as unknown as Record<string, unknown>;
    cyclic.provenance = { self: cyclic };
    expect(() => validateMetadata(cyclic, 'memory')).toThrow(/reference cycle/);
  });

  it('createModel and loadModel refuse deep or broken in-memory models with a ModelFormatError', async () => {
    const meta = valid().userDefinedMetadata.threeLnn;
    meta.metrics = { deep: deep(100_000) };
    const layers = [{ kernel: new Float32Array(1), bias: new Float32Array(1) }];
    expect(() => createModel(meta, layers)).toThrow(ModelFormatError);
    const ok = await loadModel(join(import.meta.dirname, '..', 'assets', 'models', models[0].name));
    for (const broken of [
      { ...ok, layers: [null, null, null] },
      { ...ok, layers: ok.layers.map(() => ({ kernel: 'x', bias: 1 })) },
      { ...ok, metadata: { ...ok.metadata, provenance: { deep: deep(100_000) } } },
      { modelJson: null, shards: [] },
      { modelJson: structuredClone(models[0].json), shards: [{ path: 'weights.bin', data: null }] },
      { modelJson: structuredClone(models[0].json), shards: null },
    ]) {
      const e = await loadModel(broken as never).catch((x) => x);
      expect(untypedReason(e), showValue(broken)).toBeNull();
    }
  });

  it('formatModelSummary prints deep, huge and odd metadata in bounded text', () => {
    const meta = valid().userDefinedMetadata.threeLnn;
    meta.provenance = {
      deep: deep(100_000),
      wide: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])),
      long: 'x'.repeat(1_000_000),
      odd: JSON.parse('{"__proto__": {"toString": 1}, "toString": 2}'),
    } as ModelMetadata['provenance'];
    meta.metrics = { list: Array.from({ length: 1_000_000 }, (_, i) => i) };
    const text = formatModelSummary(inspectModel({ metadata: meta, layers: [], source: 'memory' }));
    const lines = text.split('\n');
    expect(lines.length).toBeLessThan(500);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(2200);
    expect(text).toMatch(/provenance …\s+\(\d+ more entries not shown\)/);
  });

  it('showValue is bounded for any value', () => {
    const huge = Array.from({ length: 1_000_000 }, () => 'abc');
    const getter = Object.defineProperty({}, 'a', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    for (const v of [
      deep(100_000),
      huge,
      { toString: 1 },
      Object.create(null),
      getter,
      'x'.repeat(1e6),
      10n,
    ]) {
      const s = showValue(v);
      expect(s.length).toBeLessThanOrEqual(80);
    }
    expect(showValue([4, 128, 1])).toBe('[4,128,1]');
    expect(showValue('hnn')).toBe('"hnn"');
    expect(showValue(getter)).toBe('(unprintable value)');
  });
});
