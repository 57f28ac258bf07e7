/**
 * Hostile variants of the shipped models for test/model-hostile.test.ts: every case is a model folder
 * (model.json text, shard files, extra files, links, FIFOs) built from one of assets/models/* by a seeded
 * mutation of one class. Nothing here imports the loader, so the same file runs against older code.
 */
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

/** A random number generator in [0, 1) (src/math/random.ts createRng). */
export type Rng = () => number;

/** The size limit of model.json the loader applies by default (16 MiB). */
export const DEFAULT_JSON_LIMIT = 16 * 1024 * 1024;

/** One shipped model, held in memory. */
export interface BaseModel {
  name: string;
  /** model.json, parsed. */
  json: Record<string, unknown>;
  /** weights.bin. */
  weights: Uint8Array;
}

/** Everything a case may do to its folder. */
export interface CaseContext {
  /** The case's model folder (created, empty). */
  dir: string;
  /** Root of this run: `outside/` holds the sentinels, `cases/` the model folders. */
  root: string;
  /** Create a FIFO (false where mkfifo is missing); the runner unblocks it after the case. */
  fifo(path: string): boolean;
}

/** A hostile model: files to write, then what to pass to loadModel. */
export interface HostileCase {
  /** The shipped model the case starts from (its model.json and weights.bin are the defaults). */
  base: BaseModel;
  /** The mutation class (a row of the summary table). */
  cls: string;
  /** What was done, for failure lists. */
  label: string;
  /** model.json content: text, raw bytes, or a value to JSON.stringify (default: the base model's). */
  json?: string | Uint8Array | unknown;
  /** Shard files to write next to model.json (default: weights.bin of the base model). */
  files?: Record<string, Uint8Array>;
  /** Extra setup in the folder (links, FIFOs, sparse files), after the files and model.json are written. */
  prepare?(ctx: CaseContext): void;
  /** What to load: a path relative to the folder, or absolute (default: the folder). */
  target?: string;
  /** Files (absolute) that must never be opened: oversized files whose size alone is the refusal. */
  neverOpen?(ctx: CaseContext): string[];
  /** Whether the outcome must be a load (the case is harmless: a legitimate layout). */
  mustLoad?: boolean;
}

const MODELS = resolve(import.meta.dirname, '..', '..', 'assets', 'models');

/** The shipped models, loaded into memory. */
export function baseModels(): BaseModel[] {
  return readdirSync(MODELS)
    .sort()
    .map((name) => ({
      name,
      json: JSON.parse(readFileSync(join(MODELS, name, 'model.json'), 'utf8')),
      weights: new Uint8Array(readFileSync(join(MODELS, name, 'weights.bin'))),
    }));
}

/** Sentinel weight i: 1234.5 + (i mod 97), values no trained model holds. */
export function sentinelBytes(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  for (let i = 0; 4 * i + 4 <= length; i++) view.setFloat32(4 * i, 1234.5 + (i % 97), true);
  return out;
}

/** Whether a weight value is a sentinel value (so the load read a file outside the model folder). */
export function isSentinel(v: number): boolean {
  return v >= 1234.5 && v <= 1330.5 && Number.isInteger(v - 0.5);
}

/**
 * Write the files outside every model folder that an escaping path could reach: for each base model
 * `outside/<name>.bin` and `outside/<name>/{model.json,weights.bin}`, shards of the right size with
 * sentinel values.
 */
export function writeSentinels(root: string, models: readonly BaseModel[]): void {
  const outside = join(root, 'outside');
  mkdirSync(outside, { recursive: true });
  for (const m of models) {
    const bytes = sentinelBytes(m.weights.length);
    writeFileSync(join(outside, `${m.name}.bin`), bytes);
    mkdirSync(join(outside, m.name), { recursive: true });
    writeFileSync(join(outside, m.name, 'model.json'), JSON.stringify(m.json));
    writeFileSync(join(outside, m.name, 'weights.bin'), bytes);
  }
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const clone = <T>(x: T): T => structuredClone(x);

type Json = Record<string, unknown>;
const meta = (j: Json): Json => (j.userDefinedMetadata as Json).threeLnn as Json;
const manifest = (j: Json): Json[] => j.weightsManifest as Json[];
const weightsOf = (j: Json): Json[] => manifest(j).flatMap((g) => g.weights as Json[]);

/** The manifest of `j` rewritten so that the weights sit in shards of the given byte sizes (one group). */
function splitShards(base: BaseModel, cuts: number[]): { json: Json; files: Record<string, Uint8Array> } {
  const json = clone(base.json);
  const files: Record<string, Uint8Array> = {};
  const paths: string[] = [];
  let off = 0;
  cuts.forEach((size, i) => {
    const name = `group1-shard${i + 1}of${cuts.length}.bin`;
    files[name] = base.weights.slice(off, off + size);
    paths.push(name);
    off += size;
  });
  manifest(json)[0].paths = paths;
  return { json, files };
}

/** Cut points dividing `length` bytes into `k` positive parts. */
function cutsOf(rng: Rng, length: number, k: number): number[] {
  const points = new Set<number>();
  while (points.size < k - 1) points.add(int(rng, 1, length - 1));
  const sorted = [0, ...[...points].sort((a, b) => a - b), length];
  return sorted.slice(1).map((p, i) => p - sorted[i]);
}

// ─── path escapes ──────────────────────────────────────────────────────────────────────────────────────

/** One way of naming a shard: the path and the folder setup it needs; `loads` when it must load. */
interface PathVariant {
  label: string;
  path: (ctx: CaseContext, name: string) => string;
  prepare?: (ctx: CaseContext, name: string) => void;
  loads?: boolean;
}

const up12 = '../'.repeat(12);
const outsideBin = (ctx: CaseContext, name: string) => join(ctx.root, 'outside', `${name}.bin`);

/** Every path variant: escapes (refused), odd forms (refused), and legitimate layouts (load). */
export const PATH_VARIANTS: readonly PathVariant[] = [
  { label: '../ to a sentinel', path: (_, n) => `../../outside/${n}.bin` },
  { label: './../', path: (_, n) => `./../../outside/${n}.bin` },
  { label: 'sub/../../', path: (_, n) => `sub/../../../outside/${n}.bin` },
  { label: 'doubled slashes', path: (_, n) => `..//..//outside//${n}.bin` },
  { label: 'absolute path', path: (c, n) => outsideBin(c, n) },
  { label: 'twelve ../ before an absolute path', path: (c, n) => `${up12}${outsideBin(c, n).slice(1)}` },
  { label: 'percent-encoded ..', path: (_, n) => `%2e%2e/%2e%2e/outside/${n}.bin` },
  { label: 'percent-encoded /', path: (_, n) => `..%2f..%2foutside%2f${n}.bin` },
  { label: 'double percent-encoding', path: (_, n) => `%252e%252e/%252e%252e/outside/${n}.bin` },
  { label: 'backslashes', path: (_, n) => `..\\..\\outside\\${n}.bin` },
  { label: 'file: URL', path: (c, n) => `file://${outsideBin(c, n)}` },
  { label: 'http: URL', path: (_, n) => `http://evil.test/${n}.bin` },
  { label: "another model's folder", path: (_, n) => `../../outside/${n}/weights.bin` },
  { label: '../../../dev/zero', path: () => `${up12}dev/zero` },
  { label: '/dev/zero', path: () => '/dev/zero' },
  { label: '/dev/urandom', path: () => '/dev/urandom' },
  { label: '../../../dev/urandom', path: () => `${up12}dev/urandom` },
  { label: '"."', path: () => '.' },
  { label: '".."', path: () => '..' },
  { label: 'trailing slash', path: () => 'weights.bin/' },
  { label: 'NUL byte', path: () => 'weights.bin\u0000.png' },
  { label: 'line break', path: () => 'weights\n.bin' },
  { label: 'very long name', path: () => `${'a'.repeat(5000)}.bin` },
  {
    label: 'symlink to an absolute sentinel',
    path: () => 'link.bin',
    prepare: (c, n) => symlinkSync(outsideBin(c, n), join(c.dir, 'link.bin')),
  },
  {
    label: 'symlink to a relative sentinel',
    path: () => 'link.bin',
    prepare: (c, n) => symlinkSync(`../../outside/${n}.bin`, join(c.dir, 'link.bin')),
  },
  {
    label: 'symlinked folder leading out',
    path: (_, n) => `sub/${n}.bin`,
    prepare: (c) => symlinkSync(join(c.root, 'outside'), join(c.dir, 'sub')),
  },
  {
    label: 'chain of symlinks leading out',
    path: () => 'a.bin',
    prepare: (c, n) => {
      symlinkSync('b.bin', join(c.dir, 'a.bin'));
      symlinkSync(outsideBin(c, n), join(c.dir, 'b.bin'));
    },
  },
  {
    label: 'symlink to /dev/zero',
    path: () => 'link.bin',
    prepare: (c) => symlinkSync('/dev/zero', join(c.dir, 'link.bin')),
  },
  {
    label: 'symlink to /dev/urandom',
    path: () => 'link.bin',
    prepare: (c) => symlinkSync('/dev/urandom', join(c.dir, 'link.bin')),
  },
  {
    label: 'symlink loop',
    path: () => 'loop.bin',
    prepare: (c) => symlinkSync('loop.bin', join(c.dir, 'loop.bin')),
  },
  { label: 'FIFO', path: () => 'fifo.bin', prepare: (c) => void c.fifo(join(c.dir, 'fifo.bin')) },
  {
    label: 'symlink to a FIFO',
    path: () => 'link.bin',
    prepare: (c) => {
      c.fifo(join(c.dir, 'fifo.bin'));
      symlinkSync('fifo.bin', join(c.dir, 'link.bin'));
    },
  },
  { label: 'directory', path: () => 'dir.bin', prepare: (c) => mkdirSync(join(c.dir, 'dir.bin')) },
  {
    label: 'subfolder (legitimate)',
    path: () => 'sub/weights.bin',
    prepare: (c) => {
      mkdirSync(join(c.dir, 'sub'));
      writeFileSync(join(c.dir, 'sub', 'weights.bin'), readFileSync(join(c.dir, 'weights.bin')));
    },
    loads: true,
  },
  {
    label: 'symlink inside the folder (legitimate)',
    path: () => 'inner.bin',
    prepare: (c) => symlinkSync('weights.bin', join(c.dir, 'inner.bin')),
    loads: true,
  },
  {
    label: 'symlink in a subfolder back to the folder (legitimate)',
    path: () => 'sub/inner.bin',
    prepare: (c) => {
      mkdirSync(join(c.dir, 'sub'));
      symlinkSync('../weights.bin', join(c.dir, 'sub', 'inner.bin'));
    },
    loads: true,
  },
];

/** Case `index` of the path-escape class: the first cases walk through every variant once. */
export function pathEscapeCase(rng: Rng, models: readonly BaseModel[], index: number): HostileCase {
  const base = index < PATH_VARIANTS.length ? models[index % models.length] : pick(rng, models);
  const v = index < PATH_VARIANTS.length ? PATH_VARIANTS[index] : pick(rng, PATH_VARIANTS);
  // Sometimes the weights are split over several shards and one of them is replaced.
  const split = !v.loads && rng() < 0.25;
  const { json, files } = split
    ? splitShards(base, cutsOf(rng, base.weights.length, int(rng, 2, 4)))
    : { json: clone(base.json), files: { 'weights.bin': base.weights } };
  const paths = manifest(json)[0].paths as string[];
  const slot = split ? int(rng, 0, paths.length - 1) : 0;
  let ctxPath = '';
  return {
    base,
    cls: 'path escape',
    label: `${base.name}: ${v.label}${split ? ` (shard ${slot + 1} of ${paths.length})` : ''}`,
    files: v.loads ? { 'weights.bin': base.weights } : files,
    prepare(ctx) {
      ctxPath = v.path(ctx, base.name);
      v.prepare?.(ctx, base.name);
      paths[slot] = ctxPath;
      writeFileSync(join(ctx.dir, 'model.json'), JSON.stringify(json));
    },
    mustLoad: v.loads,
  };
}

// ─── JSON damage ───────────────────────────────────────────────────────────────────────────────────────

/** Every [parent, key] of a JSON tree, walked iteratively. */
function slots(root: unknown): [Json | unknown[], string | number][] {
  const out: [Json | unknown[], string | number][] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        out.push([node, i]);
        stack.push(v);
      });
    } else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        out.push([node as Json, k]);
        stack.push(v);
      }
    }
  }
  return out;
}

const DEEP = '"@@DEEP@@"';

/** `depth` nested arrays or objects around a number, as JSON text (JSON.stringify would overflow). */
function deepText(rng: Rng, depth: number): string {
  return rng() < 0.5
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Values of every JSON type, some of them awkward (toString keys, __proto__, huge numbers). */
const SWAP_VALUES: readonly unknown[] = [
  null,
  0,
  -1,
  0.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  '',
  'x',
  '__proto__',
  '9'.repeat(400),
  true,
  false,
  [],
  [null],
  [[[]]],
  {},
  { toString: 1 },
  { valueOf: {}, toString: {} },
  { length: 1e12 },
  JSON.parse('{"__proto__": {"polluted": 1}}'),
];

/** Fields whose deep nesting once overflowed the stack (the path to the field in model.json). */
const DEEP_FIELDS: readonly ((j: Json) => [Json | unknown[], string | number])[] = [
  (j) => [meta(j), 'provenance'],
  (j) => [meta(j).provenance as Json, 'note'],
  (j) => [meta(j).architecture as Json, 'layers'],
  (j) => [meta(j), 'kind'],
  (j) => [meta(j), 'formatVersion'],
  (j) => [meta(j), 'metrics'],
  (j) => [meta(j).system as Json, 'params'],
  (j) => [weightsOf(j)[0], 'shape'],
  (j) => [weightsOf(j)[0], 'dtype'],
  (j) => [weightsOf(j)[1], 'name'],
  (j) => [manifest(j)[0].paths as unknown[], 0],
  (j) => [j, 'weightsManifest'],
  (j) => [j.modelTopology as Json, 'layers'],
  (j) => [j, 'format'],
  (j) => [meta(j).input as Json, 'qScale'],
];

/** Case `index` of the JSON-damage class. */
export function jsonDamageCase(rng: Rng, models: readonly BaseModel[], index: number): HostileCase {
  const base = models[index % models.length];
  const json = clone(base.json);
  const text = () => JSON.stringify(json);
  const kinds = ['truncate', 'flip', 'swap', 'deep', 'huge', 'null', 'proto'] as const;
  const kind = index < kinds.length * 2 ? kinds[index % kinds.length] : pick(rng, kinds);
  const cls = 'JSON damage';
  switch (kind) {
    case 'truncate': {
      const t = text();
      const at = int(rng, 0, t.length - 1);
      return {
        base,
        cls,
        label: `${base.name}: model.json cut at ${at} of ${t.length}`,
        json: t.slice(0, at),
      };
    }
    case 'flip': {
      const bytes = new TextEncoder().encode(text());
      const n = int(rng, 1, 8);
      for (let i = 0; i < n; i++) bytes[int(rng, 0, bytes.length - 1)] = int(rng, 0, 255);
      return { base, cls, label: `${base.name}: ${n} random bytes of model.json changed`, json: bytes };
    }
    case 'swap': {
      const all = slots(json);
      const n = int(rng, 1, 3);
      const what: string[] = [];
      for (let i = 0; i < n; i++) {
        const [parent, key] = pick(rng, all);
        const value = clone(pick(rng, SWAP_VALUES));
        (parent as Record<string | number, unknown>)[key] = value;
        what.push(`${String(key)}=${JSON.stringify(value)?.slice(0, 20)}`);
      }
      return { base, cls, label: `${base.name}: type swap ${what.join(', ')}`, json: text() };
    }
    case 'deep': {
      const field =
        index < kinds.length * 2 ? DEEP_FIELDS[index % DEEP_FIELDS.length] : pick(rng, DEEP_FIELDS);
      const [parent, key] = field(json);
      const depth = pick(rng, [63, 64, 65, 100, 1000, 10_000, 100_000]);
      (parent as Record<string | number, unknown>)[key] = JSON.parse(DEEP);
      return {
        base,
        cls,
        label: `${base.name}: ${String(key)} nested ${depth} deep`,
        json: text().replace(DEEP, deepText(rng, depth)),
      };
    }
    case 'huge': {
      const which = pick(rng, [
        'manifest entries',
        'weights',
        'paths',
        'layers',
        'qScale',
        'metrics keys',
        'provenance array',
      ]);
      const n = pick(rng, [2000, 200_000]);
      const m = meta(json);
      if (which === 'manifest entries') {
        const g = manifest(json)[0];
        json.weightsManifest = Array.from({ length: n }, (_, i) =>
          i === 0 ? g : { paths: [], weights: [] },
        );
      } else if (which === 'weights') {
        const w = weightsOf(json);
        manifest(json)[0].weights = Array.from({ length: n }, (_, i) => w[i % w.length]);
      } else if (which === 'paths') {
        manifest(json)[0].paths = Array.from({ length: n }, () => 'weights.bin');
      } else if (which === 'layers') {
        (m.architecture as Json).layers = Array.from({ length: n }, () => 4);
      } else if (which === 'qScale') {
        (m.input as Json).qScale = Array.from({ length: n }, () => 1);
      } else if (which === 'metrics keys') {
        m.metrics = Object.fromEntries(
          Array.from({ length: n }, (_, i) => [`k${i}`, { v: i, s: 'x'.repeat(20) }]),
        );
      } else {
        m.provenance = { samples: Array.from({ length: n }, (_, i) => i / 7) };
      }
      return { base, cls, label: `${base.name}: ${n} ${which}`, json: text() };
    }
    case 'null': {
      const which = pick(rng, [
        'model.json null',
        'model.json []',
        'model.json "text"',
        'model.json 42',
        'manifest entry',
        'weight entry',
        'path',
        'metadata',
        'layers entry',
        'manifest',
        'param',
        'input',
      ]);
      const m = meta(json);
      if (which === 'model.json null') return { base, cls, label: `${base.name}: ${which}`, json: 'null' };
      if (which === 'model.json []') return { base, cls, label: `${base.name}: ${which}`, json: '[]' };
      if (which === 'model.json "text"')
        return { base, cls, label: `${base.name}: ${which}`, json: '"text"' };
      if (which === 'model.json 42') return { base, cls, label: `${base.name}: ${which}`, json: '42' };
      if (which === 'manifest entry') manifest(json).push(null as unknown as Json);
      if (which === 'weight entry') (manifest(json)[0].weights as unknown[])[int(rng, 0, 3)] = null;
      if (which === 'path') (manifest(json)[0].paths as unknown[]).push(null);
      if (which === 'metadata') (json.userDefinedMetadata as Json).threeLnn = null;
      if (which === 'layers entry') ((m.architecture as Json).layers as unknown[])[1] = null;
      if (which === 'manifest') json.weightsManifest = null;
      if (which === 'param') ((m.system as Json).params as Json).g = null;
      if (which === 'input') m.input = null;
      return { base, cls, label: `${base.name}: null ${which}`, json: text() };
    }
    case 'proto': {
      const where = pick(rng, ['metadata', 'system', 'params', 'manifest entry', 'weight entry', 'root']);
      const m = meta(json);
      const target =
        where === 'metadata'
          ? m
          : where === 'system'
            ? (m.system as Json)
            : where === 'params'
              ? ((m.system as Json).params as Json)
              : where === 'manifest entry'
                ? manifest(json)[0]
                : where === 'weight entry'
                  ? weightsOf(json)[0]
                  : json;
      const extra = pick(rng, [
        '"__proto__":{"polluted":true}',
        '"__proto__":null',
        '"constructor":{"prototype":{"polluted":true}}',
        '"toString":1',
        '"hasOwnProperty":0',
        '"valueOf":"x"',
      ]);
      target['@@PROTO@@'] = 1;
      return {
        base,
        cls,
        label: `${base.name}: ${extra} in ${where}`,
        json: text().replace('"@@PROTO@@":1', extra),
      };
    }
  }
}

// ─── shape, dtype and size mismatches ──────────────────────────────────────────────────────────────────

/** Case `index` of the shape/dtype class. */
export function shapeCase(rng: Rng, models: readonly BaseModel[], index: number): HostileCase {
  const base = models[index % models.length];
  const json = clone(base.json);
  const m = meta(json);
  const ws = weightsOf(json);
  const arch = m.architecture as Json;
  const layers = arch.layers as number[];
  const kinds = [
    'dim',
    'rank',
    'dtype',
    'name',
    'swap',
    'width',
    'huge width',
    'dof',
    'drop',
    'duplicate',
    'groups',
    'split ok',
  ] as const;
  const kind = index < kinds.length ? kinds[index] : pick(rng, kinds);
  const cls = 'shape/dtype/size';
  let label = '';
  let files: Record<string, Uint8Array> | undefined;
  let mustLoad = false;
  const w = pick(rng, ws);
  switch (kind) {
    case 'dim': {
      const shape = w.shape as unknown[];
      const v = pick(rng, [0, -1, 1.5, 1e9, 2 ** 53, '8', null, [], [8], 1e308]);
      shape[int(rng, 0, shape.length - 1)] = v;
      label = `${w.name} dim = ${JSON.stringify(v)}`;
      break;
    }
    case 'rank': {
      const shape = w.shape as unknown[];
      if (rng() < 0.5) shape.push(1);
      else shape.pop();
      label = `${w.name} rank ${shape.length}`;
      break;
    }
    case 'dtype': {
      const v = pick(rng, ['float16', 'int32', 'float64', 'bool', 'FLOAT32', 'float32 ', null, 4, 'uint8']);
      w.dtype = v;
      label = `${w.name} dtype ${JSON.stringify(v)}`;
      break;
    }
    case 'name': {
      const v = pick(rng, ['dense_9/kernel', '', 'dense_0/kernel ', null, 7, 'constructor', '__proto__']);
      w.name = v;
      label = `weight renamed ${JSON.stringify(v)}`;
      break;
    }
    case 'swap': {
      const [a, b] = [int(rng, 0, ws.length - 1), int(rng, 0, ws.length - 1)];
      const g = manifest(json)[0].weights as Json[];
      [g[a], g[b]] = [g[b], g[a]];
      label = `weights ${a} and ${b} swapped`;
      break;
    }
    case 'width': {
      const i = int(rng, 0, layers.length - 1);
      layers[i] += pick(rng, [-1, 1, 7]);
      if (rng() < 0.5) (json.modelTopology as Json).layers = [...layers];
      label = `architecture.layers[${i}] changed`;
      break;
    }
    case 'huge width': {
      // Metadata, topology and manifest all agree on a huge network: only the shard sizes disagree.
      const i = int(rng, 1, layers.length - 2);
      layers[i] = pick(rng, [1e6, 1e9, 2 ** 40]);
      (json.modelTopology as Json).layers = [...layers];
      manifest(json)[0].weights = layers.slice(1).flatMap((out, k) => [
        { name: `dense_${k}/kernel`, shape: [layers[k], out], dtype: 'float32' },
        { name: `dense_${k}/bias`, shape: [out], dtype: 'float32' },
      ]);
      label = `consistent width ${layers[i]}`;
      break;
    }
    case 'dof': {
      m.dof = pick(rng, [0, 3, 1.5, -2, 1e9]);
      label = `dof ${m.dof}`;
      break;
    }
    case 'drop': {
      (manifest(json)[0].weights as Json[]).splice(int(rng, 0, ws.length - 1), 1);
      label = 'a weight entry dropped';
      break;
    }
    case 'duplicate': {
      const g = manifest(json)[0].weights as Json[];
      g.splice(int(rng, 0, g.length), 0, clone(pick(rng, g)));
      label = 'a weight entry duplicated';
      break;
    }
    case 'groups': {
      // Two manifest entries whose weights do not match the bytes of their shards.
      const g = manifest(json)[0];
      const all = g.weights as Json[];
      const at = int(rng, 1, all.length - 1);
      const byteAt = int(rng, 4, base.weights.length - 4) & ~3;
      json.weightsManifest = [
        { paths: ['a.bin'], weights: all.slice(0, at) },
        { paths: ['b.bin'], weights: all.slice(at) },
      ];
      files = { 'a.bin': base.weights.slice(0, byteAt), 'b.bin': base.weights.slice(byteAt) };
      label = `two groups split at weight ${at} but shard bytes at ${byteAt}`;
      break;
    }
    case 'split ok': {
      const r = splitShards(base, cutsOf(rng, base.weights.length, int(rng, 2, 6)));
      files = r.files;
      label = `split into ${Object.keys(files).length} shards (legitimate)`;
      mustLoad = true;
      return { base, cls, label: `${base.name}: ${label}`, json: r.json, files, mustLoad };
    }
  }
  return { base, cls, label: `${base.name}: ${label}`, json, files, mustLoad };
}

// ─── shard bytes ───────────────────────────────────────────────────────────────────────────────────────

/** Case `index` of the shard-bytes class: truncated, extended, missing, sparse-huge shards. */
export function shardBytesCase(rng: Rng, models: readonly BaseModel[], index: number): HostileCase {
  const base = models[index % models.length];
  const kinds = ['truncate', 'extend', 'empty', 'double', 'missing', 'sparse', 'misordered'] as const;
  const kind = index < kinds.length ? kinds[index] : pick(rng, kinds);
  const cls = 'shard bytes';
  const w = base.weights;
  switch (kind) {
    case 'truncate': {
      const n = int(rng, 0, w.length - 1);
      return {
        base,
        cls,
        label: `${base.name}: shard cut to ${n} bytes`,
        files: { 'weights.bin': w.slice(0, n) },
      };
    }
    case 'extend': {
      const n = int(rng, 1, 4096);
      const out = new Uint8Array(w.length + n);
      out.set(w);
      for (let i = w.length; i < out.length; i++) out[i] = int(rng, 0, 255);
      return { base, cls, label: `${base.name}: ${n} bytes appended`, files: { 'weights.bin': out } };
    }
    case 'empty':
      return { base, cls, label: `${base.name}: empty shard`, files: { 'weights.bin': new Uint8Array(0) } };
    case 'double': {
      const out = new Uint8Array(2 * w.length);
      out.set(w);
      out.set(w, w.length);
      return { base, cls, label: `${base.name}: shard twice`, files: { 'weights.bin': out } };
    }
    case 'missing':
      return { base, cls, label: `${base.name}: no shard file`, files: {} };
    case 'sparse': {
      const size = pick(rng, [2 ** 30, 3 * 2 ** 30, 2 ** 33]);
      return {
        base,
        cls,
        label: `${base.name}: sparse ${size / 2 ** 30} GiB shard`,
        files: {},
        prepare(ctx) {
          writeFileSync(join(ctx.dir, 'weights.bin'), w);
          truncateSync(join(ctx.dir, 'weights.bin'), size);
        },
        neverOpen: (ctx) => [join(ctx.dir, 'weights.bin')],
      };
    }
    case 'misordered': {
      const r = splitShards(base, cutsOf(rng, w.length, 3));
      const paths = manifest(r.json)[0].paths as string[];
      [paths[0], paths[2]] = [paths[2], paths[0]];
      return {
        base,
        cls,
        label: `${base.name}: three shards listed out of order`,
        json: r.json,
        files: r.files,
      };
    }
  }
}

// ─── NaN / Inf weights ─────────────────────────────────────────────────────────────────────────────────

/** Case `index` of the non-finite class: NaN, ±Inf and NaN payloads, or harmless extreme finite values. */
export function nonFiniteCase(rng: Rng, models: readonly BaseModel[], index: number): HostileCase {
  const base = models[index % models.length];
  const out = base.weights.slice();
  const view = new DataView(out.buffer);
  const patterns: [string, number][] = [
    ['NaN', 0x7fc00000],
    ['NaN payload', 0x7fc00001],
    ['signalling NaN', 0x7f800001],
    ['negative NaN', 0xffc00000],
    ['+Inf', 0x7f800000],
    ['-Inf', 0xff800000],
    ['max float', 0x7f7fffff],
    ['denormal', 0x00000001],
    ['-0', 0x80000000],
  ];
  const n = int(rng, 1, 3);
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const [name, bits] = pick(rng, patterns);
    view.setUint32(4 * int(rng, 0, out.length / 4 - 1), bits, true);
    names.push(name);
  }
  return {
    base,
    cls: 'NaN/Inf weights',
    label: `${base.name}: ${names.join(', ')}`,
    files: { 'weights.bin': out },
  };
}

// ─── oversized and special files ───────────────────────────────────────────────────────────────────────

/** Case `index` of the oversized class: huge model.json (real or sparse), FIFO/device/directory model.json. */
export function oversizedCase(rng: Rng, models: readonly BaseModel[], index: number): HostileCase {
  const base = models[index % models.length];
  const kinds = [
    'padded over',
    'padded under',
    'sparse json',
    'json fifo',
    'json dir',
    'json -> /dev/zero',
    'json -> /dev/urandom',
    'target /dev/zero',
    'target /dev/null',
    'json -> outside',
    'big string',
  ] as const;
  const kind = index < kinds.length ? kinds[index] : pick(rng, kinds);
  const cls = 'oversized/special files';
  const text = JSON.stringify(base.json);
  const bytes = new TextEncoder().encode(text).length;
  const label = `${base.name}: ${kind}`;
  switch (kind) {
    case 'padded over':
      return {
        base,
        cls,
        label,
        json: text + ' '.repeat(DEFAULT_JSON_LIMIT - bytes + int(rng, 1, 1000)),
      };
    case 'padded under':
      return {
        base,
        cls,
        label,
        json: text + ' '.repeat(DEFAULT_JSON_LIMIT - bytes - 1),
        mustLoad: true,
      };
    case 'sparse json':
      return {
        base,
        cls,
        label,
        prepare: (ctx) => truncateSync(join(ctx.dir, 'model.json'), 600_000_000),
      };
    case 'json fifo':
      return { base, cls, label, prepare: (ctx) => void ctx.fifo(noJson(ctx)) };
    case 'json dir':
      return { base, cls, label, prepare: (ctx) => mkdirSync(noJson(ctx)) };
    case 'json -> /dev/zero':
      return { base, cls, label, prepare: (ctx) => symlinkSync('/dev/zero', noJson(ctx)) };
    case 'json -> /dev/urandom':
      return { base, cls, label, prepare: (ctx) => symlinkSync('/dev/urandom', noJson(ctx)) };
    case 'target /dev/zero':
      return { base, cls, label, target: '/dev/zero' };
    case 'target /dev/null':
      return { base, cls, label, target: '/dev/null' };
    case 'json -> outside':
      // model.json itself a link to another model's model.json: the shards would be read from here.
      return {
        base,
        cls,
        label,
        prepare: (ctx) => symlinkSync(join(ctx.root, 'outside', base.name, 'model.json'), noJson(ctx)),
      };
    case 'big string': {
      const json = clone(base.json);
      meta(json).provenance = { note: 'n'.repeat(int(rng, 1, 8) * 1_000_000) };
      return { base, cls, label, json, mustLoad: true };
    }
  }
}

/** Remove the model.json the runner wrote; its path, for something else to take its place. */
function noJson(ctx: CaseContext): string {
  const file = join(ctx.dir, 'model.json');
  rmSync(file);
  return file;
}

/** Create a FIFO with mkfifo; false where it is not available. */
export function makeFifo(path: string): boolean {
  try {
    execFileSync('mkfifo', [path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
