/**
 * Module Web Workers for {@link TermsPool} in a cross-origin-isolated page. The worker script is named
 * with `new URL('./termsWorker.browser.js', import.meta.url)`, the form bundlers (Vite, webpack,
 * Rollup with a worker plugin) recognise and bundle as a worker.
 */
import type { PoolWorkers, StartWorkers } from './TermsPool.js';

/** How long a worker may take to load TF.js, its wasm binary and the weights (ms). */
const START_LIMIT_MS = 60_000;

export const startBrowserWorkers: StartWorkers = async (count, dataFor) => {
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, (_, slot) => {
        const worker = new Worker(new URL('./termsWorker.browser.js', import.meta.url), { type: 'module' });
        workers.push(worker);
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`worker ${slot} not ready after ${START_LIMIT_MS / 1000} s`)),
            START_LIMIT_MS,
          );
          worker.onmessage = (e: MessageEvent) => {
            clearTimeout(timer);
            if (e.data === 'ready') resolve();
            else reject(new Error(String(e.data)));
          };
          worker.onerror = (e: ErrorEvent) => {
            clearTimeout(timer);
            e.preventDefault();
            reject(new Error(`worker ${slot} failed to load: ${e.message || 'script error'}`));
          };
          worker.postMessage(dataFor(slot));
        });
      }),
    );
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  }
  let dead: string | null = null;
  workers.forEach((w, slot) => {
    w.onmessage = (e: MessageEvent) => {
      // A worker only speaks after start-up to say it failed.
      dead ??= `worker ${slot}: ${String(e.data)}`;
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      dead ??= `worker ${slot} failed: ${e.message || 'script error'}`;
    };
  });
  const pool: PoolWorkers = {
    count,
    canBlock: false,
    dead: () => dead,
    send: (i, buffers) => workers[i].postMessage(buffers),
    terminate() {
      dead ??= 'workers terminated';
      for (const w of workers) w.terminate();
    },
  };
  return pool;
};
