/**
 * Node worker-thread entry of {@link TermsPool} (started by `nodeWorkers.ts` through
 * `termsWorkerBoot.mjs`): new buffers arrive on a MessagePort and are read synchronously.
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { TermsBuffers, TermsWorkerData } from './TermsPool.js';
import { abandonRun, serveTerms } from './termsServe.js';

const { port, ...data } = workerData as TermsWorkerData & { port: MessagePort };
// However this thread ends, a run the pool waits for is answered (as failed).
process.on('exit', () => abandonRun(data));

await serveTerms(data, {
  receive(generation) {
    for (;;) {
      const msg = receiveMessageOnPort(port);
      if (!msg) throw new Error(`worker: buffers of generation ${generation} announced but not received`);
      const buffers = msg.message as TermsBuffers;
      if (buffers.generation === generation) return buffers;
    }
  },
  ready: () => parentPort?.postMessage('ready'),
  fail(message) {
    parentPort?.postMessage(message);
    process.exit(1);
  },
});
