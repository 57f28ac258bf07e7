/**
 * Time to the first simulated frame: from navigation start (performance.now() = 0) through module
 * loading, backend initialisation, model load and one frame (two RK4 substeps of 1/120 s) of a learned
 * double pendulum on the route named in `?route=` (default js). Published on `window.__firstFrame`.
 */
import '@tensorflow/tfjs-backend-webgl';
import type { RouteName } from '../../src/learned/LearnedEngine';
import { benchModel } from './bench';
import { routeEngine } from './routeEngine';

declare global {
  interface Window {
    __firstFrame?: {
      route: string;
      model: string;
      modulesMs: number;
      readyMs: number;
      firstFrameMs: number;
      error?: string;
    };
  }
}

async function main(): Promise<void> {
  const modulesMs = performance.now();
  const route = (new URLSearchParams(location.search).get('route') ?? 'js') as RouteName;
  const { model, label } = await benchModel();
  const r = await routeEngine(model, route);
  const readyMs = performance.now();
  const q = Float64Array.of(1, 0.5);
  const qd = Float64Array.of(0, 0);
  r.advance(q, qd, 1, 1 / 120, 2);
  const firstFrameMs = performance.now();
  window.__firstFrame = { route, model: label, modulesMs, readyMs, firstFrameMs };
  r.dispose();
}

main().catch((e: unknown) => {
  window.__firstFrame = { route: '', model: '', modulesMs: 0, readyMs: 0, firstFrameMs: 0, error: String(e) };
});
