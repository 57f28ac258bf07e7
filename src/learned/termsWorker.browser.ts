/**
 * Web Worker entry of {@link TermsPool} (started by `browserWorkers.ts`): the first message is the
 * worker's {@link TermsWorkerData}; later messages carry new buffers. The serve loop blocks in
 * `Atomics.wait` (allowed in a worker) and yields to this worker's event loop only to receive buffers.
 */

import type { TermsBuffers, TermsWorkerData } from './TermsPool.js';
import { abandonRun, serveTerms } from './termsServe.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
  addEventListener(type: 'error' | 'unhandledrejection', listener: () => void): void;
  postMessage(message: unknown): void;
  close(): void;
}
const scope = globalThis as unknown as WorkerScope;

const arrived: TermsBuffers[] = [];
let waiting: { generation: number; resolve: (b: TermsBuffers) => void } | null = null;

function take(generation: number): TermsBuffers | null {
  const i = arrived.findIndex((b) => b.generation === generation);
  if (i < 0) return null;
  const [found] = arrived.splice(0, i + 1).slice(-1);
  return found;
}

scope.onmessage = (first: MessageEvent) => {
  const data = first.data as TermsWorkerData;
  // An error that escapes the serve loop answers the waiting run (as failed) before the worker stops.
  const abandon = () => abandonRun(data);
  scope.addEventListener('error', abandon);
  scope.addEventListener('unhandledrejection', abandon);
  scope.onmessage = (e: MessageEvent) => {
    arrived.push(e.data as TermsBuffers);
    if (waiting) {
      const found = take(waiting.generation);
      if (found) {
        const { resolve } = waiting;
        waiting = null;
        resolve(found);
      }
    }
  };
  serveTerms(data, {
    receive(generation) {
      const found = take(generation);
      if (found) return found;
      return new Promise<TermsBuffers>((resolve) => {
        waiting = { generation, resolve };
      });
    },
    ready: () => scope.postMessage('ready'),
    fail(message) {
      scope.postMessage(message);
      scope.close();
    },
  }).catch((e: unknown) => {
    abandon();
    scope.postMessage(`worker failed: ${(e as Error)?.message ?? String(e)}`);
    scope.close();
  });
};
