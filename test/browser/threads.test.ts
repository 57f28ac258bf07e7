import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, type OpenedPage, startBrowserHarness } from '../support/browser';
import type { ThreadedRun, ThreadsPage } from './pages/threads';

declare const window: Window & { __threads?: ThreadsPage };

async function open(h: BrowserHarness, withoutIsolation = false): Promise<OpenedPage> {
  const p = await h.openPage('/test/browser/pages/threads.html', {
    withoutIsolation,
    // A page whose responses are rewritten counts as public to Chromium, which then blocks the dev
    // server's HMR socket on 127.0.0.1 (HMR is off in tests anyway).
    ignoreConsole: withoutIsolation ? ['WebSocket connection to', '[vite] failed to connect'] : [],
  });
  await p.page.waitForFunction(() => window.__threads !== undefined, null, { timeout: 60_000 });
  return p;
}

function ok(r: ThreadedRun | { error: string }): ThreadedRun {
  if ('error' in r) throw new Error(`page failed: ${r.error}`);
  return r;
}

describe('learned engine on Web Worker threads (cross-origin-isolated page)', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('2 threads give bitwise the q̈, flags and RK4 trajectory of one thread, on the wasm backend and on the wasm route of a webgl engine; tensors flat; dispose stops the workers', async () => {
    const p = await open(h);
    expect(
      await p.page.evaluate(() => window.__threads!.crossOriginIsolated),
      'dev server isolates pages',
    ).toBe(true);
    const args = { batch: 301, steps: 5 };
    const one = ok(
      await p.page.evaluate((a) => window.__threads!.run({ backend: 'wasm', threads: 1, ...a }), args),
    );
    const two = ok(
      await p.page.evaluate((a) => window.__threads!.run({ backend: 'wasm', threads: 2, ...a }), args),
    );
    const gl = ok(
      await p.page.evaluate((a) => window.__threads!.run({ backend: 'webgl', threads: 2, ...a }), args),
    );
    expect(one.threads).toBe(1);
    expect(one.reportThreads).toBe(1);
    expect(two.threads, two.routeSummary).toBe(2);
    expect(two.reportThreads, 'lastReport.threads of a split call').toBe(2);
    expect(gl.reportThreads).toBe(2);
    expect(gl.backend).toBe('webgl');
    expect(gl.threads, gl.routeSummary).toBe(2);
    // Every state is finite and solved: the comparison below is not between two failures.
    expect(one.qdd.every(Number.isFinite)).toBe(true);
    expect(one.flags.filter((f) => f === 2)).toEqual([]);
    for (const [label, r] of [
      ['wasm, 2 threads', two],
      ['webgl engine, wasm route, 2 threads', gl],
    ] as const) {
      expect(r.qdd, `${label}: q̈`).toEqual(one.qdd);
      expect(r.flags, `${label}: flags`).toEqual(one.flags);
      expect(r.q, `${label}: q after 5 RK4 steps`).toEqual(one.q);
      expect(r.tensorsAfter, `${label}: tensors over 5 steps`).toBe(r.tensorsBefore);
      expect(r.afterDispose, `${label}: use after dispose`).toMatch(/dispose/i);
    }
    expect(p.errors, p.errors.join('\n')).toEqual([]);
    await p.close();
  });

  it("threads > 1 without 'wasmPaths' or without cross-origin isolation fails naming the cause; 'auto' falls back to one thread", async () => {
    const p = await open(h);
    const noPaths = await p.page.evaluate(() =>
      window.__threads!.run({ backend: 'wasm', threads: 2, batch: 4, steps: 0, withPaths: false }),
    );
    expect(noPaths).toHaveProperty('error');
    expect((noPaths as { error: string }).error).toMatch(/wasmPaths/);
    await p.close();

    const plain = await open(h, true);
    expect(await plain.page.evaluate(() => window.__threads!.crossOriginIsolated)).toBe(false);
    const refused = await plain.page.evaluate(() =>
      window.__threads!.run({ backend: 'wasm', threads: 2, batch: 4, steps: 0 }),
    );
    expect('error' in refused && refused.error).toMatch(
      /cross-origin isolated.*Cross-Origin-Embedder-Policy/s,
    );
    const auto = ok(
      await plain.page.evaluate(() =>
        window.__threads!.run({ backend: 'wasm', threads: 'auto', batch: 40, steps: 1 }),
      ),
    );
    expect(auto.threads).toBe(1);
    expect(auto.qdd.every(Number.isFinite)).toBe(true);
    // The fallback is announced once as a warning, not as an error.
    expect(
      plain.log.some((l) => l.startsWith('warning') && l.includes("threads: 'auto' runs on one thread")),
    ).toBe(true);
    expect(plain.errors, plain.errors.join('\n')).toEqual([]);
    await plain.close();
  });
});
