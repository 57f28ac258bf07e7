// Worker threads do not inherit the TypeScript loader of the main thread: register tsx, then load the
// TypeScript worker module named in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
