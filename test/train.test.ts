/**
 * The TypeScript trainer: short runs (tens of steps) lower the loss, write loadable models with
 * provenance, are deterministic given the seed, resume exactly, and fine-tune a model on a changed
 * system.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/backend';
import { createRng } from '../src/math/random';
import { loadModel } from '../src/model/loadModel';
import { referenceAccelerations } from '../src/model/reference';
import { createSystem } from '../src/systems/registry';
import { sampleBox, Trainer, type TrainerOptions } from '../src/train/Trainer';

const dir = mkdtempSync(join(tmpdir(), 'three-lnn-train-'));
const small: TrainerOptions = {
  system: 'double-pendulum',
  hidden: [16, 16],
  steps: 30,
  batch: 64,
  valEvery: 10,
  valSize: 256,
  seed: 3,
};

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Trainer', () => {
  it('lowers the validation q̈ error and writes a loadable model with provenance; no tensor leaks', async () => {
    const before = tf.memory().numTensors;
    const t = await Trainer.create({ ...small, steps: 40, command: 'three-lnn train (test)' });
    const first = t.validate();
    t.run();
    const last = t.history[t.history.length - 1][1];
    expect(last, `validation q̈ L1 ${first} → ${last}`).toBeLessThan(first);
    const out = join(dir, 'a');
    await t.save(out);
    t.dispose();
    expect(tf.memory().numTensors, 'every tensor freed').toBe(before);
    const m = await loadModel(out);
    expect(m.metadata.kind).toBe('lnn');
    expect(m.metadata.architecture.layers).toEqual([4, 16, 16, 1]);
    const p = m.metadata.provenance ?? {};
    expect(p.steps).toBe(40);
    expect(p.seed).toBe(3);
    expect(p.batch).toBe(64);
    expect(String(p.trainer)).toContain('three-lnn train');
    expect(typeof p.wallTimeSeconds).toBe('number');
    // The written model computes what the trainer trained: the float64 reference evaluator agrees with
    // the validation error recorded in the metrics (same kind of states, loose tolerance).
    const sys = createSystem('double-pendulum');
    const box = {
      q: [
        [0, 2 * Math.PI],
        [0, 2 * Math.PI],
      ] as [number, number][],
      qd: [
        [-10, 10],
        [-10, 10],
      ] as [number, number][],
      rapidity: false,
    };
    const s = sampleBox(sys, box, createRng(9), 512);
    const qdd = new Float64Array(1024);
    referenceAccelerations(m, Float64Array.from(s.q), Float64Array.from(s.qd), qdd, 512);
    let e = 0;
    for (let i = 0; i < 1024; i++) e += Math.abs(qdd[i] - s.target[i]);
    const stored =
      (m.metadata.metrics?.validationQddL1 as { value: number } | undefined)?.value ?? Number.NaN;
    expect(e / 1024, 'reference q̈ L1 of the saved model ≈ stored validation L1').toBeLessThan(1.3 * stored);
    expect(e / 1024).toBeGreaterThan(0.7 * stored);
  });

  it('is deterministic: the same seed twice gives identical weights', async () => {
    const a = await Trainer.create(small);
    a.run();
    const b = await Trainer.create(small);
    b.run();
    expect(Array.from(a.weights())).toEqual(Array.from(b.weights()));
    const c = await Trainer.create({ ...small, seed: 4 });
    c.run();
    expect(Array.from(c.weights())).not.toEqual(Array.from(a.weights()));
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('--resume continues exactly (weights, Adam moments, schedule, batches)', async () => {
    const whole = await Trainer.create({ ...small, steps: 30 });
    whole.run();
    const half = await Trainer.create({ ...small, steps: 30 });
    half.run(undefined, () => half.currentStep >= 15);
    const ck = join(dir, 'ck');
    await half.saveCheckpoint(ck);
    half.dispose();
    const resumed = await Trainer.resume(ck);
    expect(resumed.currentStep).toBe(15);
    resumed.run();
    expect(resumed.currentStep).toBe(30);
    expect(Array.from(resumed.weights())).toEqual(Array.from(whole.weights()));
    whole.dispose();
    resumed.dispose();
  });

  it('shiftInvariant keeps the edge term a function of q_{i+1} − q_i (tied first-layer rows)', async () => {
    const t = await Trainer.create({
      ...small,
      system: 'string',
      params: { nodes: 5 },
      kind: 'lgn',
      steps: 5,
      shiftInvariant: true,
    });
    t.run();
    const w = t.toModel().layers[0].kernel; // [4, 16] row-major
    for (let j = 0; j < 16; j++) expect(w[j] + w[16 + j], `column ${j}`).toBe(0);
    t.dispose();
  });

  it('trains the baseline and the graph network kinds', async () => {
    for (const o of [
      { ...small, kind: 'baseline' as const },
      { ...small, system: 'string', params: { nodes: 5 }, kind: 'lgn' as const },
    ]) {
      const t = await Trainer.create(o);
      const first = t.validate();
      t.run();
      expect(t.history[t.history.length - 1][1], `${o.kind}: loss decreases`).toBeLessThan(first);
      const m = t.toModel();
      expect(m.metadata.kind).toBe(o.kind);
      t.dispose();
    }
  });
});

const SHIPPED = new URL('../assets/models/double-pendulum-lnn/', import.meta.url).pathname;

describe('fine-tuning (--from)', () => {
  it('a short fine-tune of the shipped double-pendulum LNN on other arm lengths lowers its error there', async () => {
    const t = await Trainer.create({
      system: 'double-pendulum',
      params: { l1: 0.8, l2: 1.2 },
      from: SHIPPED,
      steps: 30,
      batch: 128,
      lr: 3e-4,
      warmup: 2,
      valEvery: 10,
      valSize: 512,
      seed: 1,
    });
    expect(t.layers, 'architecture of the shipped model is kept').toEqual([4, 128, 128, 1]);
    const before = t.validate();
    t.run();
    const after = t.history[t.history.length - 1][1];
    expect(after, `q̈ L1 on the new system: ${before} → ${after}`).toBeLessThan(before);
    const m = t.toModel();
    expect(m.metadata.system.params.l1).toBe(0.8);
    expect(String(m.metadata.provenance?.from)).toContain('double-pendulum-lnn');
    t.dispose();
  });
});
