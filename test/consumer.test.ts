/**
 * The package as a user gets it: `npm pack`, installed from the tarball into a fresh project that has only
 * what a three.js app has (the create-vite `vanilla-ts` tsconfig, three 0.180, cannon-es, vite, typescript),
 * with the pages of `examples/` copied in. Checks that it installs with one copy of three, type-checks
 * (also with `skipLibCheck: false`), imports every `exports` entry in plain Node, runs its command, builds
 * with Vite (assets emitted, no `node:` imports in the browser code), and that every example runs: the
 * Node script's numbers against the repository's own sources, and each page in headless Chromium with no
 * console error or warning and the right physics.
 */
import { type ExecFileException, execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSystem, shippedModel, World } from '../src/index';
import '../src/learned';
import { chromiumArgs, findChromium, freePort, repoRoot } from './support/browser';

/** The consumer's pinned versions: three's oldest supported release, the rest as this repository uses. */
const versionOf = (name: string): string =>
  JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')).version;
const THREE_VERSION = '0.180.0';
const PAGES = ['minimal', 'minimal-exact', 'learned-pendulum', 'string-rope', 'cannon-pendulum'] as const;
type PageName = (typeof PAGES)[number];

const BUILTINS = builtinModules.filter((m) => !m.startsWith('_')).join('|');
/**
 * A Node built-in as a module specifier in a browser chunk: `node:…` in any import or require, or a bare
 * name (`fs`) in an ES import (static `from "fs"` / `import "fs"`, dynamic `import("fs")`; any quotes).
 */
const NODE_SPECIFIER = new RegExp(
  `(?:\\brequire\\s*\\(\\s*|\\bfrom\\s*|\\bimport\\s*\\(?\\s*)["'\`]node:[^"'\`]*["'\`]|(?:\\bfrom\\s*|\\bimport\\s*\\(?\\s*)["'\`](?:${BUILTINS})["'\`]`,
  'g',
);
/**
 * CommonJS `require("fs")` of a bare built-in: TF.js's emscripten glue keeps these behind its own Node
 * check; they are listed in the figures, not failed.
 */
const CJS_BUILTIN = new RegExp(`\\brequire\\s*\\(\\s*["'\`](?:${BUILTINS})["'\`]\\s*\\)`, 'g');

/** The tsconfig.json of create-vite's `vanilla-ts` template (no @types/node), over the examples' code. */
const TEMPLATE_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    useDefineForClassFields: true,
    module: 'ESNext',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    types: ['vite/client'],
    skipLibCheck: true,
    moduleResolution: 'bundler',
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    moduleDetection: 'force',
    noEmit: true,
    strict: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    erasableSyntaxOnly: true,
    noFallthroughCasesInSwitch: true,
    noUncheckedSideEffectImports: true,
  },
  include: ['*/main.ts', '*/vite.config.ts', 'entries.ts'],
};

/** Uses every entry point's types and values, as an app (or its vite.config.ts) would. */
const ENTRIES_TS = `import { World, createSystem, shippedModel, type System } from 'three-lnn';
import { LNNEngine, loadModel, type LoadedModel } from 'three-lnn/learned';
import { LNNPhysics, type MeshBinding } from 'three-lnn/three';
import { attachLagrangian, type CannonSystem } from 'three-lnn/cannon';
import { worldControls } from 'three-lnn/gui';
import { threeLnn, type ThreeLnnPluginOptions } from 'three-lnn/vite';

const system: System = createSystem('double-pendulum');
const binding: MeshBinding = { system: 'dp', link: [1, 2], stretch: true };
const options: ThreeLnnPluginOptions = { models: ['double-pendulum-lnn'] };
export const used = [World, system, shippedModel, LNNEngine, loadModel, LNNPhysics, binding, attachLagrangian, worldControls, threeLnn, options];
export type Used = [LoadedModel, CannonSystem];
`;

/** With `skipLibCheck: false`: the entries whose declarations need nothing a browser app lacks. */
const LIB_CHECKED_TS = `import type * as core from 'three-lnn';
import type * as three from 'three-lnn/three';
import type * as cannon from 'three-lnn/cannon';
export type Entries = [typeof core, typeof three, typeof cannon];
`;

/** A child process's outcome. */
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of every child process: this run's npm and vitest settings left out. */
const childEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) =>
      !/^(npm_|VITEST|VITE_)/i.test(k) && !['NODE_ENV', 'NODE_OPTIONS', 'TEST', 'INIT_CWD'].includes(k),
  ),
);

function run(file: string, args: string[], cwd: string, timeout = 240_000): Promise<Run> {
  return new Promise((done) => {
    execFile(
      file,
      args,
      { cwd, env: childEnv, timeout, maxBuffer: 1 << 26, encoding: 'utf8' },
      (err: ExecFileException | null, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

const node = (args: string[], cwd: string) => run(process.execPath, args, cwd);
const npm = (args: string[], cwd: string) => run('npm', args, cwd);
const shown = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    statSync(join(dir, f)).isFile(),
  );
}

/**
 * A copy of the repository's sources (tracked and untracked-but-not-ignored files, as git lists them) with
 * the repository's node_modules linked in: `npm pack` there builds dist/ from scratch through `prepack`,
 * without rewriting the dist/ that other test files read meanwhile. Without git, the repository itself.
 */
async function packingRoot(stage: string): Promise<string> {
  const listed = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], repoRoot);
  if (listed.code !== 0) return repoRoot;
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(repoRoot, file))) continue; // deleted but still tracked
    mkdirSync(dirname(join(stage, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(stage, file));
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(stage, 'node_modules'), 'dir');
  return stage;
}

/** Largest absolute difference between two equally long number arrays. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The double pendulum from (2, 1) at rest, by the repository's sources: q after each of `steps` steps. */
async function sourceRun(steps: number, engineOptions?: Record<string, unknown>): Promise<number[][]> {
  const world = new World({ fixedTimeStep: 1 / 120 });
  const h = await world.add(createSystem('double-pendulum'), {
    q0: [2, 1],
    qd0: [0, 0],
    ...(engineOptions
      ? { engine: 'lnn', engineOptions: { model: shippedModel('double-pendulum-lnn'), ...engineOptions } }
      : {}),
  });
  const out = [[...h.q, ...h.qd]];
  for (let i = 0; i < steps; i++) {
    world.stepN(1);
    out.push([...h.q, ...h.qd]);
  }
  world.dispose();
  return out;
}

const work = mkdtempSync(join(tmpdir(), 'three-lnn-consumer-'));
const app = join(work, 'app');
/** What the test measured, printed at the end. */
const figures: Record<string, unknown> = {};
let tarball: {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
};

beforeAll(async () => {
  const packDir = join(work, 'pack');
  mkdirSync(packDir);
  const root = await packingRoot(join(work, 'stage'));
  const packed = await npm(['pack', '--json', '--pack-destination', packDir], root);
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${shown(packed)}`);
  tarball = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))[0];

  mkdirSync(app);
  const pkg = {
    name: 'three-lnn-consumer',
    private: true,
    version: '0.0.0',
    type: 'module',
    dependencies: {
      'cannon-es': versionOf('cannon-es'),
      three: THREE_VERSION,
      'three-lnn': `file:${relative(app, join(packDir, tarball.filename))}`,
    },
    devDependencies: {
      '@types/three': THREE_VERSION,
      typescript: versionOf('typescript'),
      vite: versionOf('vite'),
    },
  };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify(TEMPLATE_TSCONFIG, null, 2)}\n`);
  writeFileSync(join(app, 'entries.ts'), ENTRIES_TS);
  for (const name of [...PAGES, 'node-headless'])
    cpSync(join(repoRoot, 'examples', name), join(app, name), { recursive: true });

  const installed = await npm(['install', '--no-audit', '--no-fund', '--prefer-offline'], app);
  if (installed.code !== 0) {
    throw new Error(
      'npm install in the consumer project failed. It needs the npm registry (or every package in the npm ' +
        `cache); check the network and \`npm config get registry\`.\n${shown(installed)}`,
    );
  }
  figures.installed = installed.stdout.match(/added \d+ packages?/)?.[0];
}, 360_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  const round = (_key: string, v: unknown) =>
    typeof v === 'number' && !Number.isInteger(v) ? +v.toPrecision(4) : v;
  console.log(
    `consumer figures:\n${Object.entries(figures)
      .map(([k, v]) => `  ${k}: ${JSON.stringify(v, round)}`)
      .join('\n')}`,
  );
});

describe('the packed package in a fresh project', () => {
  it('the tarball holds the built package and nothing of the repository besides', () => {
    const paths = tarball.files.map((f) => f.path);
    figures.tarball = { files: tarball.entryCount, bytes: tarball.size, unpackedBytes: tarball.unpackedSize };
    for (const f of [
      'package.json',
      'bin/three-lnn.mjs',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/learned.js',
      'dist/plugins/three/index.js',
      'dist/plugins/vite/index.js',
      'dist/cli/main.js',
      'assets/models/double-pendulum-lnn/model.json',
      'assets/models/string-lgn/weights.bin',
      'README.md',
      'LICENSE',
    ]) {
      expect(paths, f).toContain(f);
    }
    const stray = paths.filter(
      (p) =>
        /(^|\/)(test|examples|training|bench|app|node_modules)\/|\.test\.|\.ts$/.test(p) &&
        !p.endsWith('.d.ts'),
    );
    expect(stray, 'test, source or app files in the tarball').toEqual([]);
    expect(tarball.size, 'packed size').toBeLessThan(3_000_000);
  });

  it('installs with one copy of three (three-lnn uses the app’s three@0.180.0)', async () => {
    const ls = await npm(['ls', 'three', '--all', '--json'], app);
    expect(ls.code, shown(ls)).toBe(0);
    const copies = new Set<string>();
    const walk = (deps: Record<string, { version?: string; dependencies?: object }> = {}): void => {
      for (const [name, d] of Object.entries(deps)) {
        if (name === 'three' && d.version) copies.add(d.version);
        walk(d.dependencies as never);
      }
    };
    walk(JSON.parse(ls.stdout).dependencies);
    expect([...copies]).toEqual([THREE_VERSION]);
    const parseable = await npm(['ls', '--all', '--parseable'], app);
    const threeDirs = parseable.stdout.split('\n').filter((p) => /node_modules\/three$/.test(p));
    expect(threeDirs, 'directories named node_modules/three').toHaveLength(1);
    figures.packages = parseable.stdout.split('\n').filter((p) => p.includes('node_modules')).length;
  });

  it('type-checks with the vanilla-ts template tsconfig, and with skipLibCheck: false', async () => {
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    const template = await node([tsc, '--noEmit', '-p', 'tsconfig.json'], app);
    expect(template.stdout + template.stderr, 'tsc, template tsconfig').toBe('');
    expect(template.code).toBe(0);

    // The shipped declarations themselves: the examples' pages and the entries that need nothing beyond a
    // browser app's types must check clean.
    writeFileSync(join(app, 'lib-checked.ts'), LIB_CHECKED_TS);
    const strictConfig = {
      extends: './tsconfig.json',
      compilerOptions: { skipLibCheck: false },
      include: ['*/main.ts', 'lib-checked.ts'],
    };
    writeFileSync(join(app, 'tsconfig.libcheck.json'), JSON.stringify(strictConfig));
    const strict = await node([tsc, '--noEmit', '-p', 'tsconfig.libcheck.json'], app);
    expect(strict.stdout + strict.stderr, 'tsc, skipLibCheck: false').toBe('');
    expect(strict.code).toBe(0);

    // three-lnn/learned pulls in TF.js's declarations, /vite Vite's (which need @types/node) and /gui
    // lil-gui's (an optional peer, not installed here): errors there are theirs, none may be in ours.
    const others: string[] = [];
    for (const entry of ['three-lnn/learned', 'three-lnn/vite', 'three-lnn/gui']) {
      writeFileSync(
        join(app, 'lib-checked.ts'),
        `import type * as m from '${entry}';\nexport type M = typeof m;\n`,
      );
      const r = await node([tsc, '--noEmit', '-p', 'tsconfig.libcheck.json'], app);
      const lines = r.stdout.split('\n').filter((l) => /error TS/.test(l));
      const ours = lines.filter(
        (l) => l.startsWith('node_modules/three-lnn/') && !(entry.endsWith('/gui') && /'lil-gui'/.test(l)),
      );
      expect(ours, `errors in three-lnn's declarations for ${entry}`).toEqual([]);
      const where = new Set(
        lines.map((l) => l.split('(')[0].replace(/^node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')),
      );
      others.push(`${entry}: ${lines.length} errors in ${[...where].join(', ') || 'none'}`);
    }
    figures.tsc = { template: 0, skipLibCheckFalse: 0, thirdParty: others };
  });

  it('every entry of the exports map loads in plain Node, with nothing printed', async () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules', 'three-lnn', 'package.json'), 'utf8'));
    const entries = Object.keys(pkg.exports);
    expect(entries).toEqual(
      expect.arrayContaining(['.', './learned', './three', './cannon', './gui', './vite']),
    );
    const counts: Record<string, number> = {};
    for (const entry of entries) {
      const spec = `three-lnn${entry.slice(1)}`;
      const script = entry.includes('*')
        ? `const { readFileSync } = await import('node:fs');
           const url = import.meta.resolve('${spec.replace('*', 'double-pendulum-lnn/model.json')}');
           console.log(Object.keys(JSON.parse(readFileSync(new URL(url), 'utf8'))).length);`
        : entry.endsWith('.json')
          ? `const m = await import('${spec}', { with: { type: 'json' } }); console.log(Object.keys(m.default).length);`
          : `const m = await import('${spec}'); console.log(Object.keys(m).length);`;
      const r = await node(['--input-type=module', '-e', script], app);
      expect(r.code, `${spec}\n${shown(r)}`).toBe(0);
      expect(r.stderr, spec).toBe('');
      counts[spec] = Number(r.stdout.trim());
      expect(counts[spec], `${spec} exports something`).toBeGreaterThan(0);
    }
    figures.exports = counts;
  });

  it('`npx three-lnn --help` exits 0', async () => {
    const r = await npm(['exec', '--no', '--', 'three-lnn', '--help'], app);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toMatch(/rollout/);
  });

  it('examples/node-headless: learned and exact pendulum after 1 s, equal to the sources’ numbers', async () => {
    const r = await node(['node-headless/main.mjs'], app);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stderr, 'nothing on stderr').toBe('');
    type State = { q: number[]; qd: number[] };
    const out = JSON.parse(r.stdout) as { t: number; exact: State; learned: State; learnedWasm: State };
    expect(out.t).toBeCloseTo(1, 12);
    const flat = (s: State) => [...s.q, ...s.qd];

    // The same inputs through the repository's TypeScript sources, in this process.
    const exact = (await sourceRun(120)).at(-1)!;
    const learned = (await sourceRun(120, { route: 'js' })).at(-1)!;
    const learnedWasm = (await sourceRun(120, { backend: 'wasm', route: 'wasm' })).at(-1)!;
    const d = {
      exact: maxDiff(flat(out.exact), exact),
      learnedJs: maxDiff(flat(out.learned), learned),
      learnedWasm: maxDiff(flat(out.learnedWasm), learnedWasm),
    };
    // Same code, same float64 arithmetic (js route) or the same wasm binary (wasm route): bit for bit, but
    // allow the last few ulps in case TF.js's wasm kernels ever order a sum differently.
    expect(d.exact, 'exact: packed vs sources').toBe(0);
    expect(d.learnedJs, 'learned, js route: packed vs sources').toBe(0);
    expect(d.learnedWasm, 'learned, wasm route: packed vs sources').toBeLessThan(1e-12);

    // Learned vs exact. The network's q̈ errs by 0.031 (mean |error|, docs/results.md); integrated twice over
    // 1 s that is at most ½·0.031·1² ≈ 0.016 rad in q and 0.031 rad/s in q̇ if the error never cancelled,
    // and 1 s from (2, 1) is before the motion's chaos amplifies it. Measured: ~1e-3 rad, ~7e-3 rad/s.
    const dq = maxDiff(out.learned.q, out.exact.q);
    const dqd = maxDiff(out.learned.qd, out.exact.qd);
    expect(dq, 'learned vs exact q after 1 s').toBeLessThan(0.02);
    expect(dqd, 'learned vs exact q̇ after 1 s').toBeLessThan(0.05);
    // float32 TF.js against the float64 evaluator of the same network.
    expect(maxDiff(out.learnedWasm.q, out.learned.q), 'wasm (float32) vs js (float64)').toBeLessThan(1e-5);
    figures.nodeHeadless = {
      ...d,
      learnedVsExactQ: dq,
      learnedVsExactQd: dqd,
      exactQ: out.exact.q,
      learnedQ: out.learned.q,
    };
  });
});

describe('the examples built with Vite and opened in headless Chromium', () => {
  let browser: Browser;
  type Vite = typeof import('vite');
  let vite: Vite;
  const builds: Record<string, string> = {};

  beforeAll(async () => {
    for (const name of PAGES) {
      const r = await node([join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], join(app, name));
      if (r.code !== 0) throw new Error(`vite build of ${name} failed:\n${shown(r)}`);
      builds[name] = r.stdout + r.stderr;
    }
    vite = (await import(
      pathToFileURL(join(app, 'node_modules', 'vite', 'dist', 'node', 'index.js')).href
    )) as Vite;
    browser = await chromium.launch({
      executablePath: findChromium(),
      headless: true,
      args: [...chromiumArgs],
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('each build emits its model and the wasm binaries, and no browser chunk imports a node: module', () => {
    const sizes: Record<string, number> = {};
    const cjsRequires = new Set<string>();
    for (const name of PAGES) {
      const dist = join(app, name, 'dist');
      const files = filesUnder(dist);
      const html = readFileSync(join(dist, 'index.html'), 'utf8');
      if (name === 'minimal-exact') {
        // Exact physics only, built without the plugin: nothing of the learned runtime is served.
        expect(
          files.filter((f) => f.startsWith('three-lnn/')),
          name,
        ).toEqual([]);
      } else {
        const model = name === 'string-rope' ? 'string-lgn' : 'double-pendulum-lnn';
        expect(files, name).toContain(`three-lnn/models/${model}/model.json`);
        expect(files, name).toContain(`three-lnn/models/${model}/weights.bin`);
        expect(
          files.filter((f) => /^three-lnn\/wasm\/.+\.wasm$/.test(f)).length,
          `${name}: wasm binaries`,
        ).toBeGreaterThan(0);
        expect(html, 'the assets meta element').toContain(
          '<meta name="three-lnn-assets" content="/three-lnn/">',
        );
      }
      const found: string[] = [];
      for (const f of files.filter((f) => /\.m?js$/.test(f))) {
        const code = readFileSync(join(dist, f), 'utf8');
        for (const m of code.matchAll(NODE_SPECIFIER)) found.push(`${f}: ${m[0]}`);
        for (const m of code.matchAll(CJS_BUILTIN)) cjsRequires.add(m[0]);
      }
      expect(found, `${name}: Node built-in modules imported by browser chunks`).toEqual([]);
      sizes[name] = files.reduce((s, f) => s + statSync(join(dist, f)).size, 0);
    }
    figures.buildBytes = sizes;
    figures.cjsBuiltinRequires = [...cjsRequires];
  });

  /** A page of a built example served by `vite preview`, with every console error/warning it logged. */
  async function openExample(
    name: PageName,
  ): Promise<{ page: Page; problems: string[]; fetched: string[]; close(): Promise<void> }> {
    const server = await vite.preview({
      root: join(app, name),
      logLevel: 'silent',
      preview: { host: '127.0.0.1', port: await freePort(), strictPort: true, open: false },
    });
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    const fetched: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
      else fetched.push(new URL(r.url()).pathname.replace(/^\//, ''));
    });
    const close = async () => {
      await context.close();
      await server.close();
    };
    try {
      await page.goto(server.resolvedUrls!.local[0], { timeout: 60_000 });
      await page.waitForFunction(
        () => {
          const w = window as unknown as { example?: { ready: boolean; error: string | null }; dp?: unknown };
          const e = w.example;
          // minimal/ has no `example` object: it is ready when it has put its system on window.
          return e?.ready === true || typeof e?.error === 'string' || w.dp !== undefined;
        },
        null,
        { timeout: 120_000 },
      );
    } catch (error) {
      await close();
      throw new Error(`${name} did not get ready: ${(error as Error).message}\n${problems.join('\n')}`);
    }
    return { page, problems, fetched, close };
  }

  /**
   * What a page fetched from its build, in bytes: JavaScript (minified, and gzip -9 as a server would send
   * it), the wasm binaries and the model files.
   */
  function fetchedBytes(name: PageName, fetched: readonly string[]) {
    const dist = join(app, name, 'dist');
    const out = { js: 0, jsGzip: 0, wasm: 0, models: 0, tfjs: false };
    for (const rel of new Set(fetched)) {
      const file = join(dist, rel);
      if (!rel || !existsSync(file) || !statSync(file).isFile()) continue;
      const bytes = readFileSync(file);
      if (/\.m?js$/.test(rel)) {
        out.js += bytes.length;
        out.jsGzip += gzipSync(bytes, { level: 9 }).length;
        // A kernel name of TF.js's core, present in any chunk that carries TF.js.
        if (bytes.includes('_FusedMatMul')) out.tfjs = true;
      } else if (rel.endsWith('.wasm')) out.wasm += bytes.length;
      else if (rel.startsWith('three-lnn/models/')) out.models += bytes.length;
    }
    return out;
  }

  /** Wait until the page has drawn `frames` more frames and simulated past `t` seconds. */
  async function waitFor(page: Page, frames: number, t: number): Promise<void> {
    await page.waitForFunction(
      ([f, s]) => {
        const e = (window as unknown as { example: { frames: number; t: number; error: string | null } })
          .example;
        return (e.frames >= f && e.t >= s) || e.error !== null;
      },
      [frames, t],
      { timeout: 120_000, polling: 50 },
    );
  }

  interface PendulumPage {
    error: string | null;
    frames: number;
    t: number;
    learned: number[];
    exact: number[];
    history: number[][];
  }

  it('minimal (the README example): animates, and the learned pendulum follows the exact one', async () => {
    const { page, problems, fetched, close } = await openExample('minimal');
    try {
      type Minimal = { physics: { time: number }; dp: { handle: { q: Float64Array } } };
      const state = () =>
        page.evaluate(() => {
          const w = window as unknown as Minimal;
          return { t: w.physics.time, q: Array.from(w.dp.handle.q) };
        });
      await page.waitForFunction(() => (window as unknown as Minimal).physics.time >= 0.3, null, {
        timeout: 120_000,
        polling: 20,
      });
      const a = await state();
      await page.waitForFunction((t0) => (window as unknown as Minimal).physics.time >= t0 + 0.1, a.t, {
        timeout: 120_000,
        polling: 20,
      });
      const b = await state();
      expect(b.t, 'simulated time advances').toBeGreaterThan(a.t);
      expect(maxDiff(b.q, a.q), 'the pendulum moved').toBeGreaterThan(1e-3);
      // The page's state at a whole number of fixed steps against the sources' exact run of the same steps.
      const n = Math.round(a.t * 120);
      expect(Math.abs(n / 120 - a.t), 'physics.time is a whole number of 1/120-s steps').toBeLessThan(1e-9);
      const exact = await sourceRun(n);
      const gap = maxDiff(a.q, exact[n].slice(0, 2));
      // q̈ L1 0.031 integrated over t: ≈ ½·0.031·t², 0.02 rad by 1.1 s; far below the 0.1 rad of a wrong model.
      expect(a.t, 'sampled within the first 1.1 s').toBeLessThan(1.1);
      expect(gap, `learned vs exact at t = ${a.t}`).toBeLessThan(0.02);
      const bytes = fetchedBytes('minimal', fetched);
      expect(bytes.tfjs, 'the learned page fetched TF.js').toBe(true);
      expect(bytes.models, 'and its model').toBeGreaterThan(0);
      figures.minimal = { t: a.t, learnedVsExact: gap, fetched: bytes };
      expect(problems, 'console errors and warnings').toEqual([]);
    } finally {
      await close();
    }
  });

  it('minimal-exact: animates, equals the sources bitwise, and fetches no TF.js, model or wasm', async () => {
    const { page, problems, fetched, close } = await openExample('minimal-exact');
    try {
      type Minimal = { physics: { time: number }; dp: { handle: { q: Float64Array } } };
      await page.waitForFunction(() => (window as unknown as Minimal).physics.time >= 0.3, null, {
        timeout: 120_000,
        polling: 20,
      });
      const a = await page.evaluate(() => {
        const w = window as unknown as Minimal;
        return { t: w.physics.time, q: Array.from(w.dp.handle.q) };
      });
      const n = Math.round(a.t * 120);
      const exact = await sourceRun(n);
      expect(a.q, 'the same float64 steps as the sources').toEqual(exact[n].slice(0, 2));
      expect(maxDiff(a.q, [2, 1]), 'it moved').toBeGreaterThan(1e-3);
      const bytes = fetchedBytes('minimal-exact', fetched);
      expect(bytes.tfjs, 'no TF.js chunk fetched').toBe(false);
      expect([bytes.wasm, bytes.models]).toEqual([0, 0]);
      figures.minimalExact = { t: a.t, fetched: bytes };
      expect(problems, 'console errors and warnings').toEqual([]);
    } finally {
      await close();
    }
  });

  it('learned-pendulum: animates, and follows the exact pendulum for the first half second', async () => {
    const { page, problems, close } = await openExample('learned-pendulum');
    try {
      const state = () => page.evaluate(() => (window as unknown as { example: PendulumPage }).example);
      const a = await state();
      expect(a.error).toBeNull();
      await waitFor(page, a.frames + 20, Math.max(a.t + 0.3, 0.6));
      const b = await state();
      expect(b.error, 'error shown on the page').toBeNull();
      expect(b.frames).toBeGreaterThan(a.frames);
      expect(b.t).toBeGreaterThan(a.t);
      expect(maxDiff(b.learned, a.learned), 'the pendulum moved').toBeGreaterThan(1e-3);

      // Every row [t, learned θ1 θ2, exact θ1 θ2] up to 0.5 s against the sources' runs at the same step.
      const exact = await sourceRun(60);
      const learned = await sourceRun(60, { route: 'js' });
      const rows = b.history.filter((r) => r[0] <= 0.5 + 1e-9);
      expect(rows.length, 'rows up to 0.5 s').toBeGreaterThanOrEqual(3);
      let exactErr = 0;
      let learnedErr = 0;
      let gap = 0;
      for (const [t, l1, l2, e1, e2] of rows) {
        const n = Math.round(t * 120);
        exactErr = Math.max(exactErr, maxDiff([e1, e2], exact[n].slice(0, 2)));
        learnedErr = Math.max(learnedErr, maxDiff([l1, l2], learned[n].slice(0, 2)));
        gap = Math.max(gap, maxDiff([l1, l2], [e1, e2]));
      }
      // The exact engine is float64 in both; the page's learned engine may run in float32 on WebGL.
      expect(exactErr, 'page exact vs sources').toBeLessThan(1e-9);
      expect(learnedErr, 'page learned vs sources (float64 js route)').toBeLessThan(1e-4);
      // Learned vs exact: the q̈ error 0.031 integrated over 0.5 s is ≈ ½·0.031·0.5² ≈ 0.004 rad.
      expect(gap, 'learned vs exact up to 0.5 s').toBeLessThan(0.01);
      figures.learnedPendulum = {
        frames: b.frames,
        t: b.t,
        rows: rows.length,
        exactErr,
        learnedErr,
        learnedVsExact: gap,
      };
      expect(problems, 'console errors and warnings').toEqual([]);
    } finally {
      await close();
    }
  });

  it('string-rope: the learned string moves like the exact one, and every link spans its two nodes', async () => {
    const { page, problems, close } = await openExample('string-rope');
    try {
      interface RopePage {
        error: string | null;
        frames: number;
        t: number;
        learned: number[];
        exact: number[];
        points: number[];
        /** Largest distance of a link's centre from its nodes' midpoint, of its length from theirs, and of its axis from their direction. */
        linkErr: number[];
      }
      const state = () =>
        page.evaluate(() => {
          type Mesh = import('three').Mesh;
          const e = (window as unknown as { example: Omit<RopePage, 'linkErr'> & { links: Mesh[] } }).example;
          const p = e.points;
          const linkErr = [0, 0, 0];
          e.links.forEach((link, i) => {
            const [ax, ay, az, bx, by, bz] = p.slice(3 * i, 3 * i + 6);
            const mid = [(ax + bx) / 2, (ay + by) / 2, (az + bz) / 2];
            const len = Math.hypot(bx - ax, by - ay, bz - az);
            const axis = link.up.clone().set(0, 1, 0).applyQuaternion(link.quaternion);
            linkErr[0] = Math.max(
              linkErr[0],
              Math.hypot(link.position.x - mid[0], link.position.y - mid[1], link.position.z - mid[2]),
            );
            linkErr[1] = Math.max(linkErr[1], Math.abs(link.scale.y - len));
            linkErr[2] = Math.max(
              linkErr[2],
              Math.hypot(axis.x - (bx - ax) / len, axis.y - (by - ay) / len, axis.z - (bz - az) / len),
            );
          });
          const { error, frames, t, learned, exact, points } = e;
          return { error, frames, t, learned, exact, points, linkErr };
        });
      const a = await state();
      await waitFor(page, a.frames + 20, Math.max(a.t + 0.3, 1));
      const b = await state();
      expect(b.error, 'error shown on the page').toBeNull();
      expect(b.frames).toBeGreaterThan(a.frames);
      expect(b.points.every(Number.isFinite), 'node positions finite').toBe(true);
      expect(b.points).toHaveLength((b.learned.length + 2) * 3);
      expect(maxDiff(b.learned, a.learned), 'the rope moved').toBeGreaterThan(1e-3);
      // Fixed ends stay put.
      expect(Math.abs(b.points[1]) + Math.abs(b.points.at(-2)!)).toBe(0);
      // The graph network was trained on 8 nodes; on 24 every mode's frequency is within ~0.1% of the
      // exact lattice's, so after a second or two the displacements (pluck 0.15) agree to well under 1%.
      const gap = maxDiff(b.learned, b.exact);
      expect(gap, 'learned vs exact displacements').toBeLessThan(0.005);
      expect(b.linkErr[0], 'link centre at the midpoint').toBeLessThan(1e-9);
      expect(b.linkErr[1], 'link stretched to the node distance').toBeLessThan(1e-9);
      expect(b.linkErr[2], 'link axis along the segment').toBeLessThan(1e-6);
      figures.stringRope = { frames: b.frames, t: b.t, learnedVsExact: gap, linkErr: b.linkErr };
      expect(problems, 'console errors and warnings').toEqual([]);
    } finally {
      await close();
    }
  });

  it('cannon-pendulum: the boxes fall onto the floor, the bobs follow the learned pendulum', async () => {
    const { page, problems, close } = await openExample('cannon-pendulum');
    try {
      interface CannonPage {
        error: string | null;
        frames: number;
        t: number;
        pendulum: number[];
        bobs: number[];
        boxesStart: number[];
        boxes: number[];
      }
      const state = () => page.evaluate(() => (window as unknown as { example: CannonPage }).example);
      const a = await state();
      await waitFor(page, a.frames + 20, 1.5);
      const b = await state();
      expect(b.error, 'error shown on the page').toBeNull();
      expect(b.frames).toBeGreaterThan(a.frames);
      expect(b.t).toBeGreaterThan(a.t);
      expect(maxDiff(b.pendulum, a.pendulum), 'the pendulum moved').toBeGreaterThan(1e-3);
      // From 4.5 m and more a box needs < 1.2 s to reach the floor (y = 0.2 at rest there).
      b.boxes.forEach((y, i) => {
        expect(y, `box ${i} fell`).toBeLessThan(b.boxesStart[i] - 1);
        expect(y, `box ${i} above the floor`).toBeGreaterThan(0.15);
      });
      // The bobs sit where the pendulum's angles put them: pivot (0, 2.5, 0), rods of length 1.
      const [t1, t2] = b.pendulum;
      const fk = [
        Math.sin(t1),
        2.5 - Math.cos(t1),
        0,
        Math.sin(t1) + Math.sin(t2),
        2.5 - Math.cos(t1) - Math.cos(t2),
        0,
      ];
      expect(maxDiff(b.bobs, fk), 'bodies at the forward kinematics').toBeLessThan(1e-9);
      figures.cannonPendulum = { frames: b.frames, t: b.t, boxes: b.boxes.map((y) => +y.toFixed(3)) };
      expect(problems, 'console errors and warnings').toEqual([]);
    } finally {
      await close();
    }
  });
});
