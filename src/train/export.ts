import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '../model/artifacts.js';
import type { LoadedModel, ModelMetadata } from '../model/metadata.js';
import type { ResolvedOptions } from './options.js';
import { speedRanges } from './trainingBox.js';

/** What a trainer has to say about its run, for the model's provenance and metrics. */
export interface TrainingRecord {
  options: ResolvedOptions;
  /** The base metadata (kind, architecture, scaling; a fine-tune's base provenance). */
  base: ModelMetadata;
  /** Weights `[kernel0, bias0, kernel1, …]`. */
  weights: readonly Float32Array[];
  /** Adam steps taken. */
  steps: number;
  skipped: number;
  wallSeconds: number;
  /** Validation history: [step, mean q̈ L1]. */
  history: readonly [number, number][];
}

/**
 * The trained weights as a validated v1 model: the base metadata plus the training ranges (the box), the
 * provenance (command, seed, data, optimiser, hardware, date; a fine-tune's base provenance) and the last
 * validation error as its metric.
 */
export function trainedModel(r: TrainingRecord): LoadedModel {
  const o = r.options;
  const layers = [];
  for (let l = 0; 2 * l < r.weights.length; l++)
    layers.push({ kernel: r.weights[2 * l], bias: r.weights[2 * l + 1] });
  const last = r.history[r.history.length - 1];
  const meta: ModelMetadata = {
    ...structuredClone(r.base),
    trainingRanges: {
      q: o.kind === 'lgn' ? [o.box.q[0]] : o.box.q,
      qd: o.kind === 'lgn' ? [speedRanges(o.box)[0]] : speedRanges(o.box),
    },
    provenance: {
      command: o.command,
      seed: o.seed,
      data: `fresh uniform states every step from the box q ${JSON.stringify(o.box.q)}, ${o.box.rapidity ? 'rapidity' : 'qd'} ${JSON.stringify(o.box.qd)}; exact qdd of the system`,
      steps: r.steps,
      batch: o.batch,
      trainer: `three-lnn train (TypeScript, tfjs-${tf.getBackend()})`,
      wallTimeSeconds: Math.round(r.wallSeconds * 10) / 10,
      hardware: o.hardware,
      date: new Date().toISOString(),
      optimizer: {
        name: 'adam',
        lr: o.lr,
        lrMin: o.lrMin,
        warmup: o.warmup,
        decaySteps: o.decaySteps,
        clip: o.clip,
        loss: o.loss,
      },
      skippedUpdates: r.skipped,
      ...(o.from ? { from: o.from, fromProvenance: r.base.provenance ?? null } : {}),
    },
    metrics: last
      ? {
          validationQddL1: {
            value: last[1],
            states: o.valSize,
            protocol: 'mean |qdd_pred - qdd_exact| over a fixed validation set from the training box',
          },
        }
      : {},
  };
  return createModel(meta, layers);
}

/**
 * The base metadata of a model written by a trainer, to continue training it: its provenance, metrics and
 * training ranges dropped (a fine-tune keeps its base model's provenance).
 */
export function baseOfTrained(model: LoadedModel, fineTune: boolean): ModelMetadata {
  const base = structuredClone(model.metadata);
  delete base.provenance;
  delete base.metrics;
  delete base.trainingRanges;
  if (fineTune) base.provenance = model.metadata.provenance?.fromProvenance as ModelMetadata['provenance'];
  return base;
}
