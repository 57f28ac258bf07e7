/**
 * The shared browser harness for tests in `test/browser/`: finds (or installs) a Chromium, launches it
 * headless with WebGL2 on SwiftShader, serves the project through a Vite dev server on a free localhost
 * port, and opens pages that record every console error and uncaught page error.
 *
 * @example
 * ```ts
 * let h: BrowserHarness;
 * beforeAll(async () => { h = await startBrowserHarness(); });
 * afterAll(async () => { await h?.close(); });
 * it('loads', async () => {
 *   const p = await h.openPage('/');
 *   expect(p.errors, p.errors.join('\n')).toEqual([]);
 * });
 * ```
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import { type Browser, type ConsoleMessage, chromium, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';

/** Repository root (this file lives in `test/support/`). */
export const repoRoot = resolve(import.meta.dirname, '..', '..');

/** Flags that give headless Chromium WebGL2 with float render targets on SwiftShader (no GPU needed). */
export const chromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
  '--enable-webgl',
  '--ignore-gpu-blocklist',
];

const candidatePaths = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/**
 * Path of a Chromium executable: `$CHROME_PATH`, else the first of the usual system paths. When none
 * exists and the process runs as root on a machine with apt-get, installs Debian's `chromium` package
 * (the apt output goes to stderr). Otherwise throws an Error that says how to install one.
 */
export function findChromium(): string {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new Error(`CHROME_PATH=${fromEnv} does not exist; point it at a Chromium/Chrome executable.`);
    }
    return fromEnv;
  }
  const found = candidatePaths.find((p) => existsSync(p));
  if (found) return found;

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (isRoot && hasApt) {
    process.stderr.write(
      '[browser harness] no Chromium found; installing Debian package "chromium" via apt-get\n',
    );
    for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
      const r = spawnSync('apt-get', args, {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      process.stderr.write(`[browser harness] apt-get ${args.join(' ')} exited with ${r.status}\n`);
    }
    const installed = candidatePaths.find((p) => existsSync(p));
    if (installed) return installed;
  }
  throw new Error(
    'No Chromium found for the browser tests. Install one (Debian/Ubuntu: `sudo apt-get install chromium`) ' +
      `or set CHROME_PATH to a Chromium/Chrome executable. Looked in: ${candidatePaths.join(', ')}.`,
  );
}

/** A free TCP port on 127.0.0.1 (asked from the OS, then released for the server to take). */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createNetServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** A page opened by the harness, with everything that went wrong on it. */
export interface OpenedPage {
  /** The Playwright page. */
  readonly page: Page;
  /** Console messages of type `error` (text with source location). */
  readonly consoleErrors: string[];
  /** Uncaught exceptions and unhandled rejections thrown in the page. */
  readonly pageErrors: string[];
  /** Console errors and page errors together, in arrival order. */
  readonly errors: string[];
  /** Every console message (`type: text`), for diagnostics. */
  readonly log: string[];
  /** Closes the page. */
  close(): Promise<void>;
}

/** Options of {@link BrowserHarness.openPage}. */
export interface OpenPageOptions {
  /** Viewport size in CSS pixels. @default { width: 1280, height: 800 } */
  viewport?: { width: number; height: number };
  /** Playwright `waitUntil` for the navigation. @default 'load' */
  waitUntil?: 'load' | 'domcontentloaded' | 'networkidle';
  /** Navigation timeout in ms. @default 60000 */
  timeoutMs?: number;
  /**
   * Console error texts to ignore (substring match), e.g. an expected 404 for a missing model.
   * @default []
   */
  ignoreConsole?: readonly string[];
  /**
   * Script run in the page before any of its own scripts (Playwright `addInitScript`), e.g. to take
   * WebGL away and test a fallback.
   * @default undefined
   */
  initScript?: string;
  /**
   * Serve the page without the dev server's cross-origin-isolation headers (COOP/COEP), as a page on
   * an ordinary server is: no SharedArrayBuffer, so no worker threads.
   * @default false
   */
  withoutIsolation?: boolean;
}

/** A running Chromium plus a Vite dev server serving the repository. */
export interface BrowserHarness {
  /** The launched browser. */
  readonly browser: Browser;
  /** The dev server. */
  readonly server: ViteDevServer;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly baseUrl: string;
  /** Chromium executable in use. */
  readonly executablePath: string;
  /** Opens `path` (e.g. `/` or `/test/browser/pages/webgl.html`) in a new page. */
  openPage(path: string, options?: OpenPageOptions): Promise<OpenedPage>;
  /** Closes every page, the browser and the server; removes the per-run dependency cache. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startBrowserHarness}. */
export interface BrowserHarnessOptions {
  /** Extra Chromium flags appended to {@link chromiumArgs}. @default [] */
  extraArgs?: readonly string[];
  /** Vite log level. @default 'warn' */
  logLevel?: 'info' | 'warn' | 'error' | 'silent';
}

/**
 * Launches Chromium and a Vite dev server (the project's `vite.config.ts`, file watching and HMR off so
 * concurrent edits never reload a page under test, its own dependency cache so parallel test files do
 * not race on `node_modules/.vite`).
 */
export async function startBrowserHarness(options: BrowserHarnessOptions = {}): Promise<BrowserHarness> {
  const executablePath = findChromium();
  const port = await freePort();
  const cacheDir = resolve(repoRoot, 'node_modules', '.vite-test', String(process.pid));
  const server = await createServer({
    configFile: resolve(repoRoot, 'vite.config.ts'),
    root: repoRoot,
    cacheDir,
    logLevel: options.logLevel ?? 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port, strictPort: true, hmr: false, watch: null, open: false },
  });
  await server.listen();
  const baseUrl = `http://127.0.0.1:${port}`;

  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [...chromiumArgs, ...(options.extraArgs ?? [])],
    });
  } catch (err) {
    await server.close();
    throw new Error(`Chromium at ${executablePath} failed to launch: ${(err as Error).message}`);
  }

  const pages = new Set<Page>();
  let closed = false;

  async function openPage(path: string, opts: OpenPageOptions = {}): Promise<OpenedPage> {
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 } });
    if (opts.initScript) await context.addInitScript(opts.initScript);
    if (opts.withoutIsolation) {
      await context.route('**/*', async (route) => {
        const response = await route.fetch();
        const headers = { ...response.headers() };
        delete headers['cross-origin-opener-policy'];
        delete headers['cross-origin-embedder-policy'];
        await route.fulfill({ response, headers });
      });
    }
    const page = await context.newPage();
    pages.add(page);
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const errors: string[] = [];
    const log: string[] = [];
    const ignore = opts.ignoreConsole ?? [];
    page.on('console', (msg: ConsoleMessage) => {
      const text = msg.text();
      log.push(`${msg.type()}: ${text}`);
      if (msg.type() !== 'error' || ignore.some((s) => text.includes(s))) return;
      const loc = msg.location();
      // The browser asks for /favicon.ico on its own; its 404 says nothing about the page.
      if (loc?.url?.endsWith('/favicon.ico')) return;
      const entry = loc?.url ? `${text} (${loc.url}:${loc.lineNumber})` : text;
      consoleErrors.push(entry);
      errors.push(entry);
    });
    page.on('pageerror', (err) => {
      const where = err.stack?.split('\n').slice(1, 4).join(' | ').trim();
      const entry = `${err.name}: ${err.message}${where ? ` [${where}]` : ''}`;
      pageErrors.push(entry);
      errors.push(entry);
    });
    await page.goto(baseUrl + path, {
      waitUntil: opts.waitUntil ?? 'load',
      timeout: opts.timeoutMs ?? 60_000,
    });
    return {
      page,
      consoleErrors,
      pageErrors,
      errors,
      log,
      async close() {
        pages.delete(page);
        await context.close();
      },
    };
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    for (const p of pages)
      await p
        .context()
        .close()
        .catch(() => {});
    pages.clear();
    await browser.close().catch(() => {});
    await server.close().catch(() => {});
    rmSync(cacheDir, { recursive: true, force: true });
  }

  return { browser, server, baseUrl, executablePath, openPage, close };
}
