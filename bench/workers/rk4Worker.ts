/**
 * Worker for the threaded row of the analytic benchmark: advances its slice of a shared batch of
 * double pendulums with the fused RK4 kernel, `steps` steps per request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Params } from '../../src/core/types';
import { rk4DoublePendulum } from '../../src/engines/kernels/rk4DoublePendulum';

interface Data {
  q: SharedArrayBuffer;
  qd: SharedArrayBuffer;
  start: number;
  count: number;
  params: Params;
  dt: number;
}

const { q, qd, start, count, params, dt } = workerData as Data;
const qv = new Float64Array(q, start * 2 * 8, count * 2);
const qdv = new Float64Array(qd, start * 2 * 8, count * 2);
parentPort?.on('message', (steps: number) => {
  for (let i = 0; i < steps; i++) rk4DoublePendulum(params, qv, qdv, count, dt);
  parentPort?.postMessage(steps);
});
