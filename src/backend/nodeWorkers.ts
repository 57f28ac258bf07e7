/** Node worker threads for {@link TermsPool}; each gets a MessagePort for its buffers. */
import type { MessagePort, Worker } from 'node:worker_threads';
import type { PoolWorkers, StartWorkers } from './TermsPool';

type WorkerThreads = typeof import('node:worker_threads');

export const startNodeWorkers: StartWorkers = async (count, dataFor) => {
  const wt = (await import(/* @vite-ignore */ 'node:worker_threads')) as WorkerThreads;
  // Not `new URL('…', import.meta.url)` literally: bundlers would copy these Node-only files as assets.
  const here = import.meta.url;
  const boot = new URL('./termsWorkerBoot.mjs', here);
  const entry = new URL('./termsWorker.ts', here).href;
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
          worker.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
          worker.once('error', reject);
          worker.once('exit', (code) =>
            reject(new Error(`terms worker exited with code ${code} during start-up`)),
          );
        });
      }),
    );
  } catch (e) {
    for (const w of workers) void w.terminate();
    throw e;
  }
  for (const w of workers) {
    w.removeAllListeners('exit');
    w.unref();
  }
  const pool: PoolWorkers = {
    count,
    canBlock: true,
    send: (i, buffers) => ports[i].postMessage(buffers),
    terminate() {
      for (const w of workers) void w.terminate();
      for (const p of ports) p.close();
    },
  };
  return pool;
};
