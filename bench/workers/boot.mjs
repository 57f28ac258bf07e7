// Worker threads do not inherit the tsx loader of the main thread: register it, then load the
// TypeScript worker named in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
