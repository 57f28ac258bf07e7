/**
 * The built package in a page with no bundler: an import map points the bare names at `dist/` and at
 * `node_modules/`, a plain static file server serves them, and the library finds its shipped model next to
 * its own modules (no plugin, no meta element, no configureAssets). Exact physics loads with three alone;
 * the learned pendulum runs on WebGL with TF.js's flat ES-module builds.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, findChromium, freePort, repoRoot } from '../support/browser';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.wasm': 'application/wasm',
};

const IMPORT_MAP = {
  imports: {
    three: '/node_modules/three/build/three.module.js',
    'three/examples/jsm/': '/node_modules/three/examples/jsm/',
    'three-lnn': '/dist/src/index.js',
    'three-lnn/learned': '/dist/src/learned.js',
    'three-lnn/three': '/dist/plugins/three/index.js',
    '@tensorflow/tfjs-core': '/node_modules/@tensorflow/tfjs-core/dist/tf-core.fesm.js',
    '@tensorflow/tfjs-backend-webgl':
      '/node_modules/@tensorflow/tfjs-backend-webgl/dist/tf-backend-webgl.fesm.js',
  },
};

const PAGE = (script: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>no bundler</title><link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify(IMPORT_MAP)}</script></head>
<body><script type="module">${script}</script></body></html>`;

const EXACT = `
import * as THREE from 'three';
import { LNNPhysics } from 'three-lnn/three';
const physics = await LNNPhysics({ fixedTimeStep: 1 / 120 });
const dp = await physics.addSystem('double-pendulum', { name: 'dp', engine: 'analytic', q0: [2, 1] });
const bob = new THREE.Mesh(new THREE.SphereGeometry(0.1), new THREE.MeshBasicMaterial());
bob.userData.lnn = { system: 'dp', point: 2 };
const scene = new THREE.Scene();
scene.add(bob);
physics.addScene(scene);
for (let i = 0; i < 120; i++) physics.step(1 / 120);
window.result = { q: Array.from(dp.q), bob: bob.position.toArray() };
`;

const LEARNED = `
import { World, createSystem, shippedModel, assetLocations } from 'three-lnn';
import 'three-lnn/learned';
const world = new World({ fixedTimeStep: 1 / 120 });
const exact = await world.add(createSystem('double-pendulum'), { q0: [2, 1], qd0: [0, 0] });
const learned = await world.add(createSystem('double-pendulum'), {
  engine: 'lnn', engineOptions: { model: shippedModel('double-pendulum-lnn'), backend: 'webgl', route: 'webgl' },
  q0: [2, 1], qd0: [0, 0],
});
world.stepN(60);
window.result = { from: assetLocations().from, model: shippedModel('double-pendulum-lnn'),
  exact: Array.from(exact.q), learned: Array.from(learned.q) };
world.dispose();
`;

let server: Server;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  expect(existsSync(join(repoRoot, 'dist/src/index.js')), 'npm test builds dist/ first').toBe(true);
  const pages: Record<string, string> = { '/exact.html': PAGE(EXACT), '/learned.html': PAGE(LEARNED) };
  server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    if (pages[path]) {
      res.writeHead(200, { 'Content-Type': TYPES['.html'] });
      res.end(pages[path]);
      return;
    }
    const file = resolve(repoRoot, `.${normalize(path)}`);
    if (!file.startsWith(repoRoot) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  origin = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({ executablePath: findChromium(), args: [...chromiumArgs] });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => server?.close(done));
});

async function run(page: string): Promise<{ result: Record<string, unknown>; messages: string[] }> {
  const p = await browser.newPage();
  const messages: string[] = [];
  p.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') messages.push(`${m.type()}: ${m.text()}`);
  });
  p.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
  await p.goto(`${origin}${page}`);
  try {
    await p.waitForFunction(() => (window as { result?: unknown }).result !== undefined, null, {
      timeout: 60_000,
    });
  } catch (e) {
    throw new Error(`${page} did not finish: ${messages.join('\n') || (e as Error).message}`);
  }
  const result = (await p.evaluate(
    () => (window as unknown as { result: Record<string, unknown> }).result,
  )) as Record<string, unknown>;
  await p.close();
  return { result, messages };
}

describe('the built package with no bundler (import map + static files)', () => {
  it('exact physics and a userData.lnn binding run with three alone, with no console messages', async () => {
    const { result, messages } = await run('/exact.html');
    expect(messages).toEqual([]);
    const q = result.q as number[];
    const bob = result.bob as number[];
    for (const v of [...q, ...bob]) expect(Number.isFinite(v)).toBe(true);
    expect(Math.hypot(q[0] - 2, q[1] - 1)).toBeGreaterThan(0.1); // it moved in 1 s
    // The bob sits at the second point of the double pendulum: l1 = l2 = 1 from the pivot.
    const r = Math.hypot(bob[0], bob[1], bob[2]);
    expect(r).toBeGreaterThan(0.2);
    expect(r).toBeLessThanOrEqual(2 + 1e-9);
  });

  it('the shipped model is found next to the modules and the learned pendulum follows the exact one', async () => {
    const { result, messages } = await run('/learned.html');
    expect(messages).toEqual([]);
    expect(result.from).toBe('package');
    expect(result.model).toBe(`${origin}/assets/models/double-pendulum-lnn/`);
    const exact = result.exact as number[];
    const learned = result.learned as number[];
    for (const v of [...exact, ...learned]) expect(Number.isFinite(v)).toBe(true);
    // 0.5 s from (2, 1) at rest: the learned model (q̈ L1 0.03) stays within a few hundredths of a radian.
    expect(Math.hypot(exact[0] - learned[0], exact[1] - learned[1])).toBeLessThan(0.05);
  });
});
