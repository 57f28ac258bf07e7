/** Node worker threads for {@link TermsPool}; each gets a MessagePort for its buffers. */
import type { MessagePort, Worker } from 'node:worker_threads';
import { nodeBuiltin } from '../model/nodeIo.js';
import type { PoolWorkers, StartWorkers } from './TermsPool.js';

type WorkerThreads = typeof import('node:worker_threads');

/** How long a worker may take to load TF.js, its wasm binary and the weights (ms). */
const START_LIMIT_MS = 60_000;

export const startNodeWorkers: StartWorkers = async (count, dataFor) => {
  // process.getBuiltinModule, not import(): a minifier folds a constant specifier back into
  // import('node:worker_threads') in browser bundles (as in nodeIo.ts).
  const wt = nodeBuiltin<WorkerThreads>('worker_threads');
  // Not `new URL('…', import.meta.url)` literally: bundlers would copy these Node-only files as assets.
  const here = import.meta.url;
  // Built (dist/*.js): the worker module runs as it is. From the TypeScript sources (tests, tsx), a boot
  // file registers tsx in the worker first, since worker threads do not inherit the main thread's loader.
  const fromSource = here.endsWith('.ts');
  const boot = new URL(fromSource ? './termsWorkerBoot.mjs' : './termsWorker.js', here);
  const entry = new URL(fromSource ? './termsWorker.ts' : './termsWorker.js', here).href;
  const workers: Worker[] = [];
  const ports: MessagePort[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, (_, slot) => {
        const channel = new wt.MessageChannel();
        const worker = new wt.Worker(boot, {
          workerData: { ...dataFor(slot), port: channel.port2, entry },
          transferList: [channel.port2],
        });
        workers.push(worker);
        ports.push(channel.port1);
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`worker ${slot} not ready after ${START_LIMIT_MS / 1000} s`)),
            START_LIMIT_MS,
          );
          const settle = (error?: Error) => {
            clearTimeout(timer);
            if (error) reject(error);
            else resolve();
          };
          worker.once('message', (m) => settle(m === 'ready' ? undefined : new Error(String(m))));
          worker.once('error', (e) => settle(e));
          worker.once('exit', (code) =>
            settle(new Error(`terms worker exited with code ${code} during start-up`)),
          );
        });
      }),
    );
  } catch (e) {
    for (const w of workers) void w.terminate();
    throw e;
  }
  let dead: string | null = null;
  workers.forEach((w, slot) => {
    w.removeAllListeners('exit');
    w.removeAllListeners('message');
    w.removeAllListeners('error');
    // Seen between calls; a run in flight is answered by the worker's own exit handler.
    w.on('error', (e) => {
      dead ??= `worker ${slot} failed: ${e.message}`;
    });
    w.on('exit', (code) => {
      dead ??= `worker ${slot} exited (code ${code})`;
    });
    w.unref();
  });
  const pool: PoolWorkers = {
    count,
    canBlock: true,
    dead: () => dead,
    send: (i, buffers) => ports[i].postMessage(buffers),
    terminate() {
      dead ??= 'workers terminated';
      for (const w of workers) {
        w.removeAllListeners('exit');
        void w.terminate();
      }
      for (const p of ports) p.close();
    },
  };
  return pool;
};
