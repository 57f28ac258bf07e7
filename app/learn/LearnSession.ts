import { resolveOptions, type SceneModule } from '../../scenes/types.js';
import { createEngine, type Engine, listSystems, loadEngine } from '../../src/index.js';
import { type LoadedModel, writeModel } from '../../src/learned.js';
import { wasmPaths } from '../backend.js';
import { Lane } from '../Lane.js';
import type { Simulation } from '../Simulation.js';
import type { AppUrlState } from '../urlState.js';
import {
  boxAroundRun,
  type FromWorker,
  type LearnBox,
  type LearnConfig,
  learnDefaults,
  MAX_LEARN_DOF,
  type SystemRecipe,
  type ToWorker,
} from './learnProtocol.js';
import type { RecordedRun } from './RunSource.js';

/** Key of the learned lane while a network trains. */
export const LEARN_LANE_KEY = 'learning';

/** Where a learning run is. */
export type LearnStatus = 'idle' | 'starting' | 'training' | 'stopped' | 'done' | 'failed' | 'error';

/** What the page reads and changes to learn the open scene. */
export interface LearnHost {
  readonly sim: Simulation;
  readonly lanes: readonly Lane[];
  readonly module: SceneModule | null;
  readonly url: AppUrlState;
  /** The drawn lanes changed (the learned lane appeared or went): rebuild the view and legend. */
  lanesChanged(): void;
}

/** Settings of a run, as the panel offers them. */
export interface LearnSettings {
  /** Hidden layer width (two hidden layers). */
  width: number;
  steps: number;
  batch: number;
  lr: number;
  /** A checkpoint (validation, hot-swap) every this many steps. */
  checkpointEvery: number;
  /** Start from the scene's shipped LNN instead of fresh weights (when it has one). */
  fineTune: boolean;
  seed: number;
  /** Share of one core the training worker takes (see {@link LearnConfig.cpuShare}). */
  cpuShare: number;
}

/** A checkpoint that passed its checks: its weights and validation error. */
export interface GoodCheckpoint {
  step: number;
  valL1: number;
  model: LoadedModel;
}

/** The state of a run, for the panel and the test hook. */
export interface LearnState {
  status: LearnStatus;
  step: number;
  steps: number;
  loss: number;
  /** Validation q̈ L1 of the last good checkpoint (NaN before the first). */
  valL1: number;
  /** Validation q̈ L1 of the first checkpoint (a fine-tune's is the base model's, at step 0). */
  firstValL1: number;
  /** Step of the last good checkpoint (0 before the first). */
  checkpointStep: number;
  /** Times the learned lane was swapped to new weights. */
  swaps: number;
  stepsPerSecond: number;
  /** TF.js backend the worker trains on. */
  backend: string;
  layers: number[];
  /** Why the run failed or is not available. */
  reason: string;
  fineTune: boolean;
  box: LearnBox | null;
  /** Live tensors in the worker when it was disposed (−1 before). */
  workerTensorsAtDispose: number;
}

/** Loss curve points (bounded: thinned when it grows past {@link MAX_CURVE}). */
export interface LossCurve {
  step: number[];
  loss: number[];
  /** Validation q̈ L1 by checkpoint step. */
  val: Map<number, number>;
}

const MAX_CURVE = 4000;

/** Share of each training batch drawn from the exact lane's recorded run (the rest from the box). */
export const RECORDED_SHARE = 0.25;

/**
 * Share of a core the training worker takes by default: on a two-core machine drawing with a software
 * renderer, a worker at full speed starves the page's frames.
 */
export const DEFAULT_CPU_SHARE = 0.5;

/**
 * "Learn this scene": trains an LNN on the open scene's exact system in a Web Worker (the library's
 * Trainer on TF.js wasm), with states drawn from a box around the exact lane's recorded run, and swaps
 * a learned lane ("learned (training)") to each good checkpoint's weights. At each swap the learned lane
 * restarts from the exact lane's current state. A bad checkpoint (non-finite, diverged) stops the run
 * and the last good one stays. Stop, resume and discard; export the last good model as model.json +
 * weights.bin.
 */
export class LearnSession {
  readonly state: LearnState = LearnSession.freshState();
  readonly curve: LossCurve = { step: [], loss: [], val: new Map() };
  lastGood: GoodCheckpoint | null = null;
  /** The learned lane (null until the first checkpoint). */
  lane: Lane | null = null;
  private worker: Worker | null = null;
  private engine: Engine | null = null;
  /** The model the lane's engine runs. */
  private engineModel: LoadedModel | null = null;
  private pending: LoadedModel | null = null;
  private swapping: Promise<void> | null = null;
  /** Bumped by discard: work begun for an older run is dropped. */
  private runId = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly host: LearnHost) {}

  private static freshState(): LearnState {
    return {
      status: 'idle',
      step: 0,
      steps: 0,
      loss: Number.NaN,
      valL1: Number.NaN,
      firstValL1: Number.NaN,
      checkpointStep: 0,
      swaps: 0,
      stepsPerSecond: 0,
      backend: '',
      layers: [],
      reason: '',
      fineTune: false,
      box: null,
      workerTensorsAtDispose: -1,
    };
  }

  /** Called on every change of state (the panel redraws). Returns an unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The exact lane the data comes from: the scene's reference lane, else the first exact one. */
  exactLane(): Lane | null {
    const ref = this.host.module?.reference ?? 'analytic';
    const exact = (l: Lane) => l.engineId === 'analytic' || l.engineId === 'lagrangian';
    return (
      this.host.lanes.find((l) => l.key === ref && exact(l)) ??
      this.host.lanes.find((l) => exact(l) && l.status === 'running') ??
      null
    );
  }

  /** The scene's shipped LNN of the same system (what "fine-tune" starts from), if it has one loaded. */
  baseModel(): LoadedModel | null {
    const exact = this.exactLane();
    if (!exact) return null;
    const lane = this.host.lanes.find(
      (l) =>
        l.engineId === 'lnn' &&
        l.loadedModel !== null &&
        l.system.id === exact.system.id &&
        l.system.dof === exact.system.dof,
    );
    return lane?.loadedModel ?? null;
  }

  /** Why the open scene cannot be learned, or null when it can. */
  unavailableReason(): string | null {
    const exact = this.exactLane();
    if (!exact) return 'this scene has no exact lane to learn from';
    if (exact.batch > 1) return 'its exact lane is a batch of many states (a field), not one system';
    if (exact.system.dof > MAX_LEARN_DOF)
      return `this scene has ${exact.system.dof} coordinates; learning in the page takes up to ${MAX_LEARN_DOF}`;
    if (!this.recipe(exact)) return `system '${exact.system.id}' cannot be rebuilt in a worker`;
    if (typeof Worker === 'undefined') return 'this browser has no Web Workers';
    return null;
  }

  /** The defaults the panel shows for the open scene. */
  defaults(fineTune = false): LearnSettings {
    const dof = this.exactLane()?.system.dof ?? 1;
    const d = learnDefaults(dof, fineTune);
    const base = fineTune ? this.baseModel() : null;
    const width = base ? base.metadata.architecture.layers[1] : (d.hidden[0] ?? 32);
    return {
      width,
      steps: d.steps,
      batch: d.batch,
      lr: d.lr,
      checkpointEvery: d.checkpointEvery,
      fineTune,
      seed: 0,
      cpuShare: DEFAULT_CPU_SHARE,
    };
  }

  /** Start a new run (a running one is discarded first). */
  async start(settings: LearnSettings): Promise<void> {
    const reason = this.unavailableReason();
    if (reason) {
      this.fail('error', reason);
      return;
    }
    await this.discard();
    const exact = this.exactLane()!;
    const from = settings.fineTune ? this.baseModel() : null;
    if (settings.fineTune && !from) {
      this.fail('error', 'fine-tuning needs a shipped LNN of this system in the scene');
      return;
    }
    const recorded = this.recordedRun(exact);
    const box = boxAroundRun(recorded.q, recorded.qd, recorded.samples, exact.system.angles);
    const steps = clampInt(settings.steps, 10, 50_000);
    const config: LearnConfig = {
      recipe: this.recipe(exact)!,
      hidden: [clampInt(settings.width, 4, 256), clampInt(settings.width, 4, 256)],
      steps,
      batch: clampInt(settings.batch, 8, 2048),
      lr: Math.min(Math.max(settings.lr, 1e-6), 1),
      seed: clampInt(settings.seed, 0, 2 ** 31 - 1),
      checkpointEvery: clampInt(settings.checkpointEvery, 10, steps),
      valSize: 512,
      box,
      recorded,
      recordedShare: RECORDED_SHARE,
      from,
      cpuShare: Math.min(Math.max(Number.isFinite(settings.cpuShare) ? settings.cpuShare : 1, 0.05), 1),
      wasmPaths: { ...wasmPaths },
      backend: 'wasm',
    };
    Object.assign(this.state, LearnSession.freshState(), {
      status: 'starting',
      steps,
      fineTune: from !== null,
      box,
    });
    this.curve.step.length = 0;
    this.curve.loss.length = 0;
    this.curve.val.clear();
    const worker = new Worker(new URL('./learnWorker.js', import.meta.url), { type: 'module' });
    this.worker = worker;
    const id = this.runId;
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      if (id === this.runId) this.receive(e.data);
    };
    worker.onerror = (e) => {
      if (id === this.runId) this.fail('error', `the training worker failed: ${e.message || 'no message'}`);
    };
    this.post({ type: 'start', config });
    this.changed();
  }

  /** Pause training (the learned lane keeps running on its last weights). */
  stop(): void {
    if (this.state.status === 'training' || this.state.status === 'starting') this.post({ type: 'stop' });
  }

  /** Continue a stopped run. */
  resume(): void {
    if (this.state.status !== 'stopped') return;
    this.post({ type: 'resume' });
    this.state.status = 'training';
    this.changed();
  }

  /**
   * Free everything: the learned lane and its engine, the last good checkpoint, and the worker (its
   * trainer and tensors disposed, then terminated). Idempotent.
   * @param options.quiet do not ask the page to redraw its lanes (the scene is being replaced)
   */
  async discard(options: { quiet?: boolean } = {}): Promise<void> {
    this.runId++;
    const hadLane = this.lane !== null;
    this.removeFromWorld();
    this.engine?.dispose();
    this.engine = null;
    this.engineModel = null;
    this.pending = null;
    this.lane = null;
    this.lastGood = null;
    Object.assign(this.state, LearnSession.freshState());
    this.curve.step.length = 0;
    this.curve.loss.length = 0;
    this.curve.val.clear();
    if (hadLane && !options.quiet) this.host.lanesChanged();
    const worker = this.worker;
    this.worker = null;
    if (worker) {
      // The worker disposes its trainer and reports what is left; it is terminated in any case.
      const answered = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        worker.onmessage = (e: MessageEvent<FromWorker>) => {
          if (e.data.type !== 'disposed') return;
          this.state.workerTensorsAtDispose = e.data.numTensors;
          clearTimeout(timer);
          resolve();
        };
      });
      worker.postMessage({ type: 'dispose' } satisfies ToWorker);
      await answered;
      worker.terminate();
    }
    this.changed();
  }

  /**
   * Every frame: after a restart the run's world is new, so the learned lane is put back from the exact
   * lane's current state; and the lane's guards (non-finite state) run.
   */
  tick(): void {
    const lane = this.lane;
    if (!lane || !this.engine) return;
    const world = this.host.sim.world;
    if (!lane.handle || !world.systems.includes(lane.handle)) this.place(this.engine);
    lane.afterStep(this.host.sim.t);
  }

  /**
   * The last good checkpoint's files: `model.json` (one shard, `weights.bin`) and the weights, written by
   * the library's `writeModel` (which validates the model first).
   */
  async exportFiles(): Promise<{ modelJson: string; weights: ArrayBuffer } | null> {
    if (!this.lastGood) return null;
    let files: { modelJson: string; weights: ArrayBuffer } | null = null;
    await writeModel(
      {
        save: async (a) => {
          const { weightSpecs, weightData, ...rest } = a;
          const weights = Array.isArray(weightData)
            ? concatBuffers(weightData)
            : (weightData ?? new ArrayBuffer(0));
          const modelJson = {
            ...rest,
            weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs ?? [] }],
          };
          files = { modelJson: JSON.stringify(modelJson, null, 2), weights };
        },
      },
      this.lastGood.model,
    );
    return files;
  }

  /** Download model.json and weights.bin of the last good checkpoint (loadable by `loadModel` and the CLI). */
  async download(): Promise<boolean> {
    const files = await this.exportFiles();
    if (!files) return false;
    const save = (name: string, blob: Blob) => {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    };
    save('model.json', new Blob([files.modelJson], { type: 'application/json' }));
    save('weights.bin', new Blob([files.weights], { type: 'application/octet-stream' }));
    return true;
  }

  /**
   * q̈ of the learned lane's model at `batch` states (`[batch * dof]` each), on the engine the lane runs
   * (the test hook compares it with the CLI's).
   */
  accelerations(q: readonly number[], qd: readonly number[], batch: number): number[] | null {
    if (!this.engine) return null;
    const out = new Float64Array(batch * this.engine.system.dof);
    this.engine.accelerations(Float64Array.from(q), Float64Array.from(qd), out, batch);
    return Array.from(out);
  }

  /** Whether the lane runs the last good checkpoint (no swap pending). */
  get settled(): boolean {
    return this.swapping === null && (this.lastGood === null || this.engineModel === this.lastGood.model);
  }

  // ------------------------------------------------------------------------------------------------

  private receive(m: FromWorker): void {
    const s = this.state;
    switch (m.type) {
      case 'started':
        s.status = 'training';
        s.backend = m.backend;
        s.layers = m.layers;
        break;
      case 'progress':
        s.step = m.step;
        s.loss = m.loss;
        s.stepsPerSecond = m.stepsPerSecond;
        if (Number.isFinite(m.loss)) this.addCurve(m.step, m.loss);
        break;
      case 'checkpoint':
        s.step = m.step;
        s.valL1 = m.valL1;
        if (!this.lastGood) s.firstValL1 = m.valL1;
        s.checkpointStep = m.step;
        this.curve.val.set(m.step, m.valL1);
        this.lastGood = { step: m.step, valL1: m.valL1, model: m.model };
        this.queueSwap(m.model);
        break;
      case 'bad':
        s.step = m.step;
        this.fail(
          'failed',
          `${m.reason} at step ${m.step}; ${this.lastGood ? `the last good checkpoint (step ${this.lastGood.step}) is kept` : 'no good checkpoint yet'}`,
        );
        return;
      case 'stopped':
        s.step = m.step;
        s.status = 'stopped';
        break;
      case 'done':
        s.step = m.step;
        s.status = 'done';
        break;
      case 'error':
        this.fail('error', m.message);
        return;
      case 'disposed':
        s.workerTensorsAtDispose = m.numTensors;
        break;
    }
    this.changed();
  }

  private fail(status: 'failed' | 'error', reason: string): void {
    this.state.status = status;
    this.state.reason = reason;
    this.changed();
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  private addCurve(step: number, loss: number): void {
    const c = this.curve;
    c.step.push(step);
    c.loss.push(loss);
    if (c.step.length > MAX_CURVE) {
      // Keep every other point: the curve stays evenly spaced in steps and bounded.
      let j = 0;
      for (let i = 0; i < c.step.length; i += 2, j++) {
        c.step[j] = c.step[i];
        c.loss[j] = c.loss[i];
      }
      c.step.length = j;
      c.loss.length = j;
    }
  }

  /** How the worker rebuilds the exact lane's system, or null when it cannot. */
  private recipe(exact: Lane): SystemRecipe | null {
    const system = exact.system;
    const module = this.host.module;
    if (module?.id === 'your-lagrangian') {
      const text = String(resolveOptions(module, this.host.url.options).L);
      return { kind: 'expression', id: system.id, name: system.name, text, angles: [...system.angles] };
    }
    if (listSystems().some((s) => s.id === system.id))
      return { kind: 'registry', id: system.id, params: { ...system.params } };
    return null;
  }

  /** The exact lane's recorded run so far (its first copy); its current state when nothing is recorded. */
  private recordedRun(exact: Lane): RecordedRun {
    const rec = this.host.sim.recorder;
    const dof = exact.system.dof;
    const tr = rec.tracks.find((t) => t.key === exact.key);
    if (!tr || tr.states === 0 || rec.length === 0)
      return { q: exact.q.slice(0, dof), qd: exact.qd.slice(0, dof), samples: 1 };
    const q = new Float64Array(rec.length * dof);
    const qd = new Float64Array(rec.length * dof);
    const stride = tr.states * dof;
    for (let s = 0; s < rec.length; s++) {
      q.set(tr.q.subarray(s * stride, s * stride + dof), s * dof);
      qd.set(tr.qd.subarray(s * stride, s * stride + dof), s * dof);
    }
    return { q, qd, samples: rec.length };
  }

  private queueSwap(model: LoadedModel): void {
    this.pending = model;
    if (this.swapping) return;
    this.swapping = this.swapLoop().finally(() => {
      this.swapping = null;
      // A checkpoint of a newer run that arrived while an older run's swap was ending.
      if (this.pending) this.queueSwap(this.pending);
      this.changed();
    });
  }

  /** Swap to the newest pending model until none is left (checkpoints that arrive meanwhile coalesce). */
  private async swapLoop(): Promise<void> {
    const id = this.runId;
    while (this.pending && id === this.runId) {
      const model = this.pending;
      this.pending = null;
      const exact = this.exactLane();
      if (!exact) return;
      let engine: Engine;
      try {
        await loadEngine('lnn');
        // One state: plain JS unless the page pins a backend (no shader compiles on the page's thread
        // at every swap).
        engine = await createEngine('lnn', exact.system, {
          model,
          outsideTraining: 'run',
          backend: this.host.sim.settings.learnedBackend ?? 'js',
        });
      } catch (err) {
        this.fail('error', `the learned lane could not load the checkpoint: ${(err as Error).message}`);
        return;
      }
      if (id !== this.runId) {
        engine.dispose();
        return;
      }
      this.removeFromWorld();
      this.engine?.dispose();
      this.engine = engine;
      this.engineModel = model;
      const isNew = this.lane === null;
      this.lane ??= new Lane({
        key: LEARN_LANE_KEY,
        engine: 'lnn',
        label: 'learned (training)',
        color: '#f472b6',
        system: exact.system,
      });
      this.place(engine);
      this.state.swaps++;
      if (isNew) this.host.lanesChanged();
    }
  }

  /** Put the learned lane into the run's world at the exact lane's current state. */
  private place(engine: Engine): void {
    const lane = this.lane;
    const exact = this.exactLane();
    if (!lane || !exact) return;
    const dof = exact.system.dof;
    const q = Float64Array.from(exact.q.subarray(0, dof));
    const qd = Float64Array.from(exact.qd.subarray(0, dof));
    const sim = this.host.sim;
    const handle = sim.world.addSync(exact.system, {
      engine,
      integrator: sim.settings.integrator,
      q0: q,
      qd0: qd,
      name: LEARN_LANE_KEY,
    });
    if (sim.settings.damping > 0 && handle.forces.unsupported === null)
      handle.forces.setDamping(sim.settings.damping);
    lane.setInitial(q, qd);
    lane.status = 'running';
    lane.bind(handle);
  }

  private removeFromWorld(): void {
    const h = this.lane?.handle;
    if (h) this.host.sim.world.remove(h);
    this.lane?.bind(null);
  }
}

function concatBuffers(parts: readonly ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of parts) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out.buffer;
}

function clampInt(v: number, lo: number, hi: number): number {
  const n = Math.round(Number.isFinite(v) ? v : lo);
  return Math.min(Math.max(n, lo), hi);
}
