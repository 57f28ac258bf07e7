/**
 * The states and the result shape shared by the float16 page and test/browser/float16.test.ts: the
 * shipped double-pendulum LNN with TF.js forced to float16 textures.
 */
import type { EngineRoute } from '../../../src/core/types';
import type { WebGLCapabilities } from '../../../src/learned/capabilities';
import type { PrecisionNote } from '../../../src/learned/LearnedEngine';
import type { PrecisionError } from '../../../src/learned/precision';
import { createRng, uniform } from '../../../src/math/random';

/** The routes the page forces in turn. */
export const FLOAT16_ROUTES = ['js', 'wasm', 'webgl', 'webgl-fused'] as const;
export type Float16Route = (typeof FLOAT16_ROUTES)[number];

/** Batch sizes whose `auto` route the page records. */
export const AUTO_BATCHES = [1, 64, 1024] as const;

/**
 * `batch` double-pendulum states from the shipped model's training box (q in [0, 2π), q̇ in
 * [−10, 10)), seeded: another seed than the engine's own measurement at load.
 */
export function float16States(batch = 64, seed = 2024): { batch: number; q: Float64Array; qd: Float64Array } {
  const rng = createRng(seed);
  const q = new Float64Array(batch * 2);
  const qd = new Float64Array(batch * 2);
  for (let i = 0; i < batch * 2; i++) {
    q[i] = uniform(rng, 0, 2 * Math.PI);
    qd[i] = uniform(rng, -10, 10);
  }
  return { batch, q, qd };
}

/** `lastReport` fields the test reads. */
export interface ReportSeen {
  route: string;
  path: string;
  backend: string;
  precision: string;
  precisionError: PrecisionError | null;
}

/** q̈ of {@link float16States} on one forced route of the auto engine. */
export interface RouteQdd {
  qdd: number[];
  flags: number[];
  report: ReportSeen;
  describe: EngineRoute;
}

/** An engine loaded with a half-precision `route` option. */
export interface ForcedEngine {
  warnings: string[];
  precisionNote: PrecisionNote | null;
  routeSummary: string;
  /** After an RK4 advance of the 64 states (two substeps). */
  report: ReportSeen;
}

/** What the page publishes on `window.__float16`. */
export interface Float16Result {
  error?: string;
  backend: string;
  backendWarnings: string[];
  /** TF.js flags after the webgl backend initialised. */
  flags: { capable: boolean; enabled: boolean; forceF16: boolean };
  capabilities: WebGLCapabilities;
  capabilitiesLine: string;
  architecture: string;
  auto: {
    availableRoutes: string[];
    routeSummary: string;
    warnings: string[];
    precisionNote: PrecisionNote | null;
    engineCapabilities: WebGLCapabilities | null;
    /** Per batch of {@link AUTO_BATCHES}: `routeFor`, `describeRoute`, and the report of an RK4 advance. */
    batches: { batch: number; routeFor: string; describe: EngineRoute; advanced: ReportSeen }[];
  };
  /** `calibrate: true` on the same context: the routes it timed and its summary. */
  calibrated: { timed: string[]; routeSummary: string; routes: string[] };
  routes: Record<Float16Route, RouteQdd>;
  forced: Record<'webgl' | 'webgl-fused', ForcedEngine>;
  pin: { float32: string; float16: string };
  /** An engine asking for webgl without `allowFloat16`. */
  withoutAllow: { backend: string; warnings: string[] };
  counts: {
    before: TensorCounts;
    warm: TensorCounts;
    repeated: TensorCounts;
    disposed: TensorCounts;
  };
}

/** Tensors per TF.js backend (`numDataIds`) and in total. */
export interface TensorCounts {
  all: number;
  webgl: number;
  wasm: number;
}
