/**
 * Web Worker entry of "Learn this scene" ({@link LearnSession} starts it): trains with the library's
 * `Trainer` on TF.js wasm (cpu when wasm fails), off the page's thread so the page keeps drawing. It
 * rebuilds the system from its {@link SystemRecipe}, steps in slices (so `stop` and `dispose` are read
 * between slices), and at every checkpoint (every `checkpointEvery` steps: deterministic in steps, not
 * time) validates and posts the weights as a model, unless the checkpoint is bad (non-finite or
 * diverged), which stops the run and is reported instead.
 */

import * as tf from '@tensorflow/tfjs-core';
import { createSystem, type System, systemFromExpression } from '../../src/index.js';
import { initBackend, Trainer } from '../../src/learned.js';
import {
  checkpointProblem,
  type FromWorker,
  type LearnConfig,
  MAX_NONFINITE_STEPS,
  type SystemRecipe,
  type ToWorker,
} from './learnProtocol.js';
import { RunSource } from './RunSource.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
  close(): void;
}
const scope = globalThis as unknown as WorkerScope;

/** Steps per slice between looks at the message queue. */
const SLICE = 10;

let trainer: Trainer | null = null;
let config: LearnConfig | null = null;
let running = false;
let failed = false;
/** Bumped by every stop and resume: a slice loop of an older generation ends. */
let generation = 0;
let best = Number.POSITIVE_INFINITY;
let nonFinite = 0;

const post = (m: FromWorker) => scope.postMessage(m);

/** The system a recipe names (a typed Lagrangian is parsed again from its text). */
function systemOf(recipe: SystemRecipe): System {
  if (recipe.kind === 'registry') return createSystem(recipe.id, recipe.params);
  return systemFromExpression(recipe.text, { id: recipe.id, name: recipe.name, angles: recipe.angles });
}

async function start(c: LearnConfig): Promise<void> {
  config = c;
  const chosen = await initBackend({ backend: c.backend, wasmPaths: c.wasmPaths });
  const system = systemOf(c.recipe);
  const box = { q: c.box.q, qd: c.box.qd, rapidity: false };
  trainer = await Trainer.create({
    system,
    ...(c.recipe.kind === 'expression' ? { lagrangian: c.recipe.text } : {}),
    kind: 'lnn',
    hidden: c.hidden,
    steps: c.steps,
    batch: c.batch,
    lr: c.lr,
    seed: c.seed,
    valEvery: c.checkpointEvery,
    valSize: c.valSize,
    box,
    data: new RunSource(system, box, c.recorded, c.recordedShare),
    ...(c.from ? { from: c.from } : {}),
    command: 'three-lnn app: Learn this scene',
    hardware: typeof navigator === 'undefined' ? 'browser' : navigator.userAgent,
  });
  post({ type: 'started', backend: chosen.name, layers: [...trainer.layers] });
  // A fine-tune starts from a working model: its error on the new system is checkpoint 0.
  if (c.from && !checkpoint(Number.NaN)) return;
  running = true;
  void loop(generation);
}

/** Train in slices until the last step, a stop, a bad checkpoint or a dispose. */
async function loop(gen: number): Promise<void> {
  const c = config!;
  let mark = performance.now();
  let markStep = trainer?.currentStep ?? 0;
  while (gen === generation && running && trainer && trainer.currentStep < c.steps) {
    let last = { loss: Number.NaN, lr: 0 };
    const sliceStart = performance.now();
    for (let k = 0; k < SLICE && trainer.currentStep < c.steps; k++) {
      const info = trainer.step();
      if (info.skipped) {
        nonFinite++;
        if (nonFinite >= MAX_NONFINITE_STEPS) {
          fail(`${nonFinite} steps in a row with a non-finite loss or gradient (last loss ${info.loss})`);
          return;
        }
        continue;
      }
      nonFinite = 0;
      last = info;
      if (info.step % c.checkpointEvery === 0 || info.step === c.steps) {
        if (!checkpoint(info.loss)) return;
      }
    }
    const now = performance.now();
    const step = trainer.currentStep;
    const rate = now > mark ? ((step - markStep) * 1000) / (now - mark) : 0;
    [mark, markStep] = [now, step];
    post({ type: 'progress', step, loss: last.loss, lr: last.lr, stepsPerSecond: rate });
    // Let `stop` / `dispose` in, and leave the rest of the core to the page (the CPU share): the pause
    // decides when steps run, never which.
    const busy = performance.now() - sliceStart;
    const share = Math.min(Math.max(c.cpuShare, 0.05), 1);
    await new Promise((r) => setTimeout(r, (busy * (1 - share)) / share));
  }
  if (gen !== generation || !trainer || !running) return;
  running = false;
  post({ type: 'done', step: trainer.currentStep });
}

/** Validate, and post the weights when the checkpoint is good; false (run stopped) when bad. */
function checkpoint(loss: number): boolean {
  const t = trainer!;
  const valL1 = t.validate();
  const problem = checkpointProblem(valL1, best);
  if (problem) {
    fail(problem);
    return false;
  }
  best = Math.min(best, valL1);
  post({ type: 'checkpoint', step: t.currentStep, valL1, loss, model: t.toModel() });
  return true;
}

function fail(reason: string): void {
  running = false;
  failed = true;
  post({ type: 'bad', step: trainer?.currentStep ?? 0, reason });
}

function dispose(): void {
  running = false;
  trainer?.dispose();
  trainer = null;
  post({ type: 'disposed', numTensors: tf.memory().numTensors });
  scope.close();
}

scope.onmessage = (e) => {
  const m = e.data;
  switch (m.type) {
    case 'start':
      start(m.config).catch((err: unknown) => post({ type: 'error', message: (err as Error).message }));
      break;
    case 'stop':
      // Messages are read between slices, so the step count is where training stands.
      if (running) {
        running = false;
        generation++;
        post({ type: 'stopped', step: trainer?.currentStep ?? 0 });
      }
      break;
    case 'resume':
      if (trainer && !running && !failed && config && trainer.currentStep < config.steps) {
        running = true;
        generation++;
        void loop(generation);
      }
      break;
    case 'dispose':
      dispose();
      break;
  }
};
