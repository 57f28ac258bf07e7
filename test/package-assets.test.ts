/**
 * How the package's own files reach a user's app: shippedModel / configureAssets, the `three-lnn/vite`
 * plugin (served in dev with the right MIME types and nothing else, written by the build, announced by a
 * meta element), `three-lnn assets`, and the errors for a model URL that a server does not serve.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threeLnn } from '../plugins/vite/index';
import {
  assetLocations,
  configureAssets,
  SHIPPED_MODELS,
  type ShippedModelName,
  shippedModel,
} from '../src/model/assets';
import { loadModel } from '../src/model/loadModel';
import { ModelFormatError } from '../src/model/ModelFormatError';
import { packageAssets } from '../src/model/packageAssets';

const repo = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'three-lnn-assets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shippedModel and configureAssets', () => {
  afterAll(() => configureAssets({}));

  it('in Node, every shipped model resolves to its folder in the package and loads', async () => {
    for (const name of SHIPPED_MODELS) {
      const url = shippedModel(name);
      expect(url.startsWith('file:')).toBe(true);
      expect(fileURLToPath(url)).toBe(`${join(repo, 'assets', 'models', name)}/`);
      expect(existsSync(join(fileURLToPath(url), 'model.json'))).toBe(true);
    }
    const model = await loadModel(shippedModel('double-pendulum-lnn'));
    expect(model.metadata.system.id).toBe('double-pendulum');
  });

  it('an unknown name is refused with the list of shipped models', () => {
    expect(() => shippedModel('pendulum-lnn' as ShippedModelName)).toThrow(
      /not a shipped model.*double-pendulum-lnn/,
    );
  });

  it('configureAssets: base gives models/ and wasm/, models and wasm override it, {} restores the default', () => {
    configureAssets({ base: 'https://cdn.example/three-lnn' });
    expect(assetLocations()).toEqual({
      models: 'https://cdn.example/three-lnn/models/',
      wasm: 'https://cdn.example/three-lnn/wasm/',
      from: 'configured',
    });
    expect(shippedModel('string-lgn')).toBe('https://cdn.example/three-lnn/models/string-lgn/');
    configureAssets({ base: 'https://cdn.example/a/', wasm: new URL('https://wasm.example/dist') });
    expect(assetLocations().wasm).toBe('https://wasm.example/dist/');
    expect(assetLocations().models).toBe('https://cdn.example/a/models/');
    configureAssets({});
    expect(assetLocations().from).toBe('package');
    expect(() => configureAssets({ base: 'no scheme and no page' })).toThrow(/not a URL/);
  });
});

describe('a model URL that is not served', () => {
  const html = '<!doctype html><html><head></head><body>app</body></html>';
  const answer = (status: number, type: string, body: string) => async (): Promise<Response> =>
    new Response(body, { status, headers: { 'content-type': type } });

  it('an HTML page instead of model.json (a dev server fallback) is named as such, with the fix', async () => {
    const err = await loadModel('http://localhost:5173/assets/models/dp', {
      fetch: answer(200, 'text/html', html) as typeof fetch,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as ModelFormatError).problem).toBe('not-served');
    expect(err.message).toMatch(/http:\/\/localhost:5173\/assets\/models\/dp\/model\.json/);
    expect(err.message).toMatch(/HTML page/);
    expect(err.message).toMatch(/three-lnn\/vite/);
    expect(err.message).not.toMatch(/not valid JSON/);
  });

  it('an HTML body served with a JSON content type is still recognised', async () => {
    const err = await loadModel('http://x.test/m/', {
      fetch: answer(200, 'application/json', html) as typeof fetch,
    }).catch((e) => e);
    expect((err as ModelFormatError).problem).toBe('not-served');
  });

  it('a 404 names the URL and how to serve the models', async () => {
    const err = await loadModel('http://x.test/m/', {
      fetch: answer(404, 'text/plain', 'nope') as typeof fetch,
    }).catch((e) => e);
    expect((err as ModelFormatError).problem).toBe('not-found');
    expect(err.message).toMatch(/http:\/\/x\.test\/m\/model\.json answered HTTP 404/);
    expect(err.message).toMatch(/three-lnn assets/);
  });

  it('a weight shard answered with an HTML page is refused, not decoded as weights', async () => {
    const modelJson = readFileSync(join(repo, 'assets/models/double-pendulum-lnn/model.json'), 'utf8');
    const fakeFetch = (async (u: string) =>
      u.endsWith('model.json')
        ? new Response(modelJson, { headers: { 'content-type': 'application/json' } })
        : new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } })) as typeof fetch;
    const err = await loadModel('http://x.test/dp/', { fetch: fakeFetch }).catch((e) => e);
    expect((err as ModelFormatError).problem).toBe('not-served');
    expect(err.message).toMatch(/weight shard "weights\.bin"/);
  });
});

describe('the three-lnn/vite plugin', () => {
  let server: ViteDevServer;
  let origin: string;
  const root = join(dir, 'site');

  beforeAll(async () => {
    mkdirSync(root, { recursive: true });
    writeFileSync(
      join(root, 'index.html'),
      '<!doctype html><html><head><title>t</title></head><body></body></html>',
    );
    server = await createServer({
      root,
      configFile: false,
      logLevel: 'silent',
      plugins: [threeLnn({ models: ['double-pendulum-lnn', 'string-lgn'] })],
      server: { port: 0, host: '127.0.0.1' },
      optimizeDeps: { noDiscovery: true, include: [] },
    });
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    origin = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves the listed models and the wasm binaries with their MIME types, byte for byte', async () => {
    const json = await fetch(`${origin}/three-lnn/models/double-pendulum-lnn/model.json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(await json.text()).toBe(
      readFileSync(join(repo, 'assets/models/double-pendulum-lnn/model.json'), 'utf8'),
    );
    const bin = await fetch(`${origin}/three-lnn/models/double-pendulum-lnn/weights.bin`);
    expect(bin.headers.get('content-type')).toBe('application/octet-stream');
    expect((await bin.arrayBuffer()).byteLength).toBe(
      statSync(join(repo, 'assets/models/double-pendulum-lnn/weights.bin')).size,
    );
    const wasm = await fetch(`${origin}/three-lnn/wasm/tfjs-backend-wasm-simd.wasm`);
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
  });

  it('serves nothing else under its folder: unlisted models and encoded traversal get 404', async () => {
    // (A literal or %2e-encoded '/three-lnn/../x' is normalised by the client before it is sent.)
    for (const path of [
      '/three-lnn/models/chain3-lnn/model.json',
      '/three-lnn/models/double-pendulum-lnn/..%2f..%2f..%2fpackage.json',
      '/three-lnn/models/',
      '/three-lnn/%E0%A4%A',
    ]) {
      const res = await fetch(`${origin}${path}`);
      const body = await res.text();
      if (res.status !== 404) throw new Error(`${path} answered ${res.status}: ${body.slice(0, 80)}`);
      expect(body).not.toMatch(/"name": "three-lnn"/);
    }
  });

  it('pages get the meta element that tells the library where the assets are', async () => {
    const page = await (await fetch(`${origin}/`)).text();
    expect(page).toMatch(/<meta name="three-lnn-assets" content="\/three-lnn\/">/);
  });

  it('the build writes the assets under three-lnn/ next to the page, honouring base', async () => {
    const out = join(dir, 'built');
    await build({
      root,
      base: '/sub/',
      configFile: false,
      logLevel: 'silent',
      plugins: [threeLnn({ models: ['double-pendulum-lnn'] })],
      build: { outDir: out, emptyOutDir: true },
    });
    for (const rel of packageAssets({ models: ['double-pendulum-lnn'] }).keys()) {
      expect(existsSync(join(out, 'three-lnn', rel)), rel).toBe(true);
    }
    expect(existsSync(join(out, 'three-lnn/models/string-lgn'))).toBe(false);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(
      /<meta name="three-lnn-assets" content="\/sub\/three-lnn\/">/,
    );
  });

  it('a model name that is not shipped fails when the config loads', () => {
    expect(() => threeLnn({ models: ['nope' as ShippedModelName] })).toThrow(/not a shipped model/);
    expect(() => threeLnn({ path: '../up' })).toThrow(/must be a folder name/);
  });
});

describe('three-lnn assets', () => {
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(process.execPath, [join(repo, 'bin', 'three-lnn.mjs'), ...args], (err, stdout, stderr) =>
        done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('copies the chosen models and the wasm binaries into the folder, as the plugin lays them out', async () => {
    const out = join(dir, 'public', 'three-lnn');
    const r = await run(['assets', out, '--models', 'double-pendulum-lnn,string-lgn']);
    expect(r.code, r.stderr).toBe(0);
    const files = packageAssets({ models: ['double-pendulum-lnn', 'string-lgn'] });
    expect(r.stdout).toMatch(new RegExp(`copied ${files.size} files`));
    for (const [rel, src] of files) {
      expect(readFileSync(join(out, rel)).equals(readFileSync(src)), rel).toBe(true);
    }
  });

  it('a bad model name is a one-line usage error (exit 2)', async () => {
    const r = await run(['assets', join(dir, 'x'), '--models', 'pendulum']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--models: 'pendulum' is not a shipped model/);
  });
});
