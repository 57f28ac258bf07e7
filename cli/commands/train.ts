import { cpus } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_SG_ORDER, DEFAULT_SG_WINDOW, sgProblem, type TrajectorySource } from '../../src/index.js';
import { CliError, EXIT_USAGE } from '../CliError.js';
import type { CliIO } from '../io.js';
import { readCappedFile } from '../io.js';
import {
  boundedInteger,
  MAX_HIDDEN_LAYERS,
  MAX_HIDDEN_WEIGHTS,
  MAX_HIDDEN_WIDTH,
  MAX_SEED,
  MAX_TRAIN_BATCH,
  MAX_TRAIN_STEPS,
  maxInputBytesOption,
  show,
} from '../limits.js';
import { modelPath, paramsJson, positiveNumber } from '../parse.js';

/**
 * Parser for `--hidden`: 1 to {@link MAX_HIDDEN_LAYERS} comma-separated integer widths from 1 to
 * {@link MAX_HIDDEN_WIDTH}, with at most {@link MAX_HIDDEN_WEIGHTS} weights between consecutive layers.
 */
export function hiddenWidths(text: string): number[] {
  const parts = text.split(',');
  if (parts.length > MAX_HIDDEN_LAYERS) {
    throw new InvalidArgumentError(
      `${parts.length} hidden layers is over the limit of ${MAX_HIDDEN_LAYERS}; give at most ${MAX_HIDDEN_LAYERS} widths, e.g. 128,128.`,
    );
  }
  const widths = parts.map((p, i) => {
    const t = p.trim();
    const v = t === '' ? Number.NaN : Number(t);
    if (!Number.isInteger(v) || v < 1 || v > MAX_HIDDEN_WIDTH) {
      throw new InvalidArgumentError(
        `Width ${i + 1} ('${p}') must be an integer from 1 to ${show(MAX_HIDDEN_WIDTH)}; give comma-separated widths, e.g. 128,128.`,
      );
    }
    return v;
  });
  let weights = 0;
  for (let i = 1; i < widths.length; i++) weights += widths[i - 1] * widths[i];
  if (weights > MAX_HIDDEN_WEIGHTS) {
    throw new InvalidArgumentError(
      `These layers have ${show(weights)} weights between them, over the limit of ${show(MAX_HIDDEN_WEIGHTS)}; use narrower or fewer layers.`,
    );
  }
  return widths;
}

/** The flag of each Trainer option an error message can name. */
const FLAGS: Record<string, string> = {
  kind: '--kind',
  from: '--from',
  steps: '--steps',
  batch: '--batch',
  valSize: '--val-size',
  lr: '--lr',
  clip: '--clip',
  shiftInvariant: '--shift-invariant',
  angleEmbedding: '--angle-embedding',
  velocityEmbedding: '--velocity-embedding',
  data: '--data',
  system: '--system',
};

/**
 * A Trainer error for the command line: the option names a `TrainerOptionError` writes as `` `name` ``
 * become their flags (`` `angleEmbedding` `` → `--angle-embedding`); other errors keep their message.
 */
export function withFlagNames(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof Error) || err.name !== 'TrainerOptionError') return message;
  return message.replace(/`([A-Za-z]+)`/g, (whole, name: string) => FLAGS[name] ?? whole);
}

/** Parser for a step count of `train` (1 to {@link MAX_TRAIN_STEPS}). */
const stepsValue = boundedInteger(1, MAX_TRAIN_STEPS);
/** Parser for a number of states of `train` (1 to {@link MAX_TRAIN_BATCH}). */
const statesValue = boundedInteger(1, MAX_TRAIN_BATCH);

/** Parsed options of `three-lnn train`. */
interface TrainCliOptions {
  system: string;
  data?: string[];
  lane?: string;
  deriv?: DerivSpec;
  qdFrom: 'file' | 'estimate';
  maxInputBytes: number;
  params?: Record<string, number>;
  kind?: 'lnn' | 'baseline' | 'lgn';
  hidden?: number[];
  activation?: 'softplus' | 'tanh' | 'relu';
  steps: number;
  batch: number;
  lr: number;
  lrMin: number;
  warmup?: number;
  clip: number;
  loss: 'l1' | 'l2' | 'huber';
  gradient: 'auto' | 'exact' | 'autodiff';
  seed: number;
  valEvery: number;
  valSize: number;
  out?: string;
  resume?: string;
  from?: string;
  shiftInvariant?: boolean;
  angleEmbedding?: 'wrap' | 'sincos';
  velocityEmbedding?: 'identity' | 'rapidity';
  checkpointEvery?: number;
  minutes?: number;
  backend: string;
  progress: boolean;
}

const EXAMPLES = `
Examples:
  $ three-lnn train --system double-pendulum --kind lnn --hidden 64,64 --steps 2000 --batch 256 --out out/dp
  $ three-lnn train --system double-pendulum --angle-embedding sincos --hidden 64,64 --steps 2000 --out out/dp-sincos
  $ three-lnn train --resume out/dp --steps 4000
  $ three-lnn train --system double-pendulum --params '{"l1":0.8,"l2":1.2}' --from assets/models/double-pendulum-lnn \\
      --steps 200 --lr 3e-4 --out out/dp-short-arms
  $ three-lnn train --system string --params '{"nodes":8}' --kind lgn --hidden 64,64 --out out/string
  $ three-lnn train --data run.json --deriv sg:15,4 --qd-from estimate --hidden 128,128 --steps 2000 --out out/dp-rec
  $ three-lnn train --data a.csv --data b.csv --system double-pendulum --lane analytic --out out/dp-rec

For the shipped models (hours of training) use the JAX trainer in training/ (docs/training.md).`;

/** A one-line description of this machine for the provenance. */
function hardware(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown CPU'}, ${c.length} logical cores, Node ${process.version}`;
}

/**
 * `three-lnn train`: train a model on the fly-generated analytic data of a system, or on recorded motion
 * (`--data`), on TF.js (wasm).
 */
export function trainCommand(io: CliIO): Command {
  return new Command('train')
    .description(
      'train an LNN, a black-box baseline or a graph LNN on analytic data or recorded motion (TF.js; checkpoints, resume, fine-tune)',
    )
    .option(
      '--system <id>',
      "system id (three-lnn systems; with --data, default: the file's)",
      'double-pendulum',
    )
    .option(
      '--data <file>',
      "train on recorded motion: the app's JSON or CSV export, or a trajectory file (docs/training.md); repeat for several",
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option('--lane <key>', 'with --data, app exports: the lane to read (default: the first exact one)')
    .option(
      '--deriv <spec>',
      `with --data: how q̈ is estimated, sg:WINDOW,ORDER (Savitzky–Golay; default sg:${DEFAULT_SG_WINDOW},${DEFAULT_SG_ORDER}) or exact (q̈ of the system at the recorded q, q̇)`,
      derivSpec,
    )
    .addOption(
      new Option('--qd-from <source>', 'with --data: q̇ from the file (where it has one) or estimated from q')
        .choices(['file', 'estimate'])
        .default('file'),
    )
    .option('--params <json>', 'system parameter overrides as JSON, e.g. \'{"l1":0.8}\'', paramsJson)
    .addOption(
      new Option('--kind <kind>', 'model kind (default lnn; lgn for string)').choices([
        'lnn',
        'baseline',
        'lgn',
      ]),
    )
    .option(
      '--hidden <csv>',
      `hidden widths, e.g. 128,128 (integers 1 to ${show(MAX_HIDDEN_WIDTH)}, at most ${MAX_HIDDEN_LAYERS} layers)`,
      hiddenWidths,
    )
    .addOption(
      new Option('--activation <name>', 'activation (default softplus; relu for baseline)').choices([
        'softplus',
        'tanh',
        'relu',
      ]),
    )
    .option(
      '--steps <n>',
      `Adam steps (the total, also when resuming; at most ${show(MAX_TRAIN_STEPS)})`,
      stepsValue,
      1000,
    )
    .option('--batch <n>', `fresh states per step (at most ${show(MAX_TRAIN_BATCH)})`, statesValue, 256)
    .option('--lr <x>', 'peak learning rate', positiveNumber, 1e-3)
    .option('--lr-min <x>', 'final learning rate of the cosine decay', positiveNumber, 1e-5)
    .option('--warmup <n>', 'linear warm-up steps (default min(200, steps/10))', stepsValue)
    .option('--clip <x>', 'global-norm gradient clipping', positiveNumber, 1)
    .addOption(new Option('--loss <name>', 'loss on q̈').choices(['l1', 'l2', 'huber']).default('l1'))
    .addOption(
      new Option(
        '--gradient <method>',
        'how the loss is differentiated: exact (hand-derived backward; lnn, softplus/tanh) or TF.js autodiff',
      )
        .choices(['auto', 'exact', 'autodiff'])
        .default('auto'),
    )
    .option(
      '--seed <n>',
      `seed of weights, batches and validation set (0 to ${show(MAX_SEED)})`,
      boundedInteger(0, MAX_SEED),
      0,
    )
    .option('--val-every <n>', 'validate every n steps', stepsValue, 100)
    .option('--val-size <n>', `validation states (at most ${show(MAX_TRAIN_BATCH)})`, statesValue, 1024)
    .option('--out <dir>', 'write the model (and a resumable checkpoint) here')
    .option('--resume <dir>', 'continue exactly from a checkpoint directory (written by --out)')
    .option(
      '--from <dir>',
      'fine-tune: start from this model (kind, architecture and scaling kept; a directory or a shipped model name)',
      modelPath,
    )
    .option('--shift-invariant', 'lgn: the edge term sees neighbouring q only through their difference')
    .addOption(
      new Option(
        '--angle-embedding <name>',
        "lnn: angles enter the network as wrap(θ) or (cos θ, sin θ) (default wrap; --from keeps its model's)",
      ).choices(['wrap', 'sincos']),
    )
    .addOption(
      new Option(
        '--velocity-embedding <name>',
        "lnn: velocities enter the network as q̇ or atanh(q̇) (speed limit c = 1; default identity; --from keeps its model's)",
      ).choices(['identity', 'rapidity']),
    )
    .option('--checkpoint-every <n>', 'also write the checkpoint every n steps', stepsValue)
    .option(
      '--minutes <m>',
      'stop after this much wall time (the step count reached is recorded)',
      positiveNumber,
    )
    .addOption(new Option('--backend <name>', 'TF.js backend').choices(['wasm', 'cpu']).default('wasm'))
    .option('--no-progress', 'no progress bar (log lines at each validation instead)')
    .addOption(maxInputBytesOption())
    .addHelpText('after', EXAMPLES)
    .action(async (opts: TrainCliOptions, cmd: Command) => {
      const { initBackend, Trainer } = await import('../../src/learned.js');
      await initBackend({ backend: opts.backend as 'wasm' | 'cpu' });
      const command = `three-lnn ${process.argv.slice(2).join(' ')}`;
      const recorded = opts.data
        ? await recordedData(opts, cmd.getOptionValueSource('system') === 'cli')
        : undefined;
      // Everything Trainer.create/resume reject happens before training starts: inconsistent options, a
      // bad --from or --resume directory — bad input, so exit status 2 like every other flag error.
      const trainer = await (opts.resume
        ? Trainer.resume(opts.resume, { steps: opts.steps, command, data: recorded?.source })
        : Trainer.create({
            system: recorded?.system ?? opts.system,
            params: opts.params,
            data: recorded?.source,
            kind: opts.kind,
            hidden: opts.hidden,
            activation: opts.activation,
            steps: opts.steps,
            batch: opts.batch,
            lr: opts.lr,
            lrMin: opts.lrMin,
            warmup: opts.warmup,
            clip: opts.clip,
            loss: opts.loss,
            gradient: opts.gradient,
            seed: opts.seed,
            valEvery: opts.valEvery,
            valSize: opts.valSize,
            from: opts.from,
            shiftInvariant: opts.shiftInvariant,
            angleEmbedding: opts.angleEmbedding,
            velocityEmbedding: opts.velocityEmbedding,
            command,
            hardware: hardware(),
          })
      ).catch((e: unknown) => {
        if (e instanceof CliError) throw e;
        throw new CliError(withFlagNames(e), EXIT_USAGE);
      });
      const out = opts.out ?? opts.resume;
      try {
        const o = trainer.options;
        io.stderr(
          `${o.kind} on ${o.system} ${JSON.stringify(o.params)}: layers ${trainer.layers.join('→')}, batch ${o.batch}, steps ${trainer.currentStep}→${o.steps}\n`,
        );
        if (recorded) io.stderr(`data: ${recorded.source.description}\n`);
        // The starting point's validation error (for a fine-tune: the model's error on the new system).
        const initialVal = trainer.validate();
        io.stderr(`step ${trainer.currentStep} val_qdd_l1 ${initialVal.toPrecision(4)}\n`);
        const start = performance.now();
        const startStep = trainer.currentStep;
        const deadline = opts.minutes ? start + opts.minutes * 60_000 : Number.POSITIVE_INFINITY;
        let bar: import('cli-progress').SingleBar | undefined;
        if (opts.progress && process.stderr.isTTY) {
          const { SingleBar, Presets } = await import('cli-progress');
          bar = new SingleBar(
            {
              format:
                'train [{bar}] {value}/{total} | loss {loss} | val {val} | {rate} samples/s | ETA {eta_formatted}',
              stream: process.stderr,
            },
            Presets.shades_classic,
          );
          bar.start(o.steps, trainer.currentStep, { loss: '-', val: '-', rate: '-' });
        }
        let pending: Promise<void> = Promise.resolve();
        // Steady-state throughput excludes the first step (kernel set-up, first allocations).
        let steadyStart = 0;
        let steadyStep = 0;
        runWithFlagNames(() =>
          trainer.run(
            (info, t) => {
              if (steadyStart === 0) {
                steadyStart = performance.now();
                steadyStep = t.currentStep;
              }
              const sec = (performance.now() - start) / 1000;
              const rate = (((t.currentStep - startStep) * o.batch) / Math.max(sec, 1e-9)).toFixed(0);
              const last = t.history[t.history.length - 1];
              const val = last ? last[1].toPrecision(4) : '-';
              if (bar) bar.update(t.currentStep, { loss: info.loss.toPrecision(4), val, rate });
              else if (last && last[0] === t.currentStep) {
                io.stderr(
                  `step ${t.currentStep} loss ${info.loss.toPrecision(4)} val_qdd_l1 ${val} ${rate} samples/s\n`,
                );
              }
              if (
                out &&
                opts.checkpointEvery &&
                t.currentStep % opts.checkpointEvery === 0 &&
                !info.skipped
              ) {
                pending = pending.then(() => t.saveCheckpoint(out));
              }
            },
            () => performance.now() > deadline,
          ),
        );
        bar?.stop();
        await pending;
        const sec = (performance.now() - start) / 1000;
        const samples = (trainer.currentStep - startStep) * o.batch;
        const last = trainer.history[trainer.history.length - 1];
        io.stdout(
          `${JSON.stringify({
            steps: trainer.currentStep,
            initialValidationQddL1: initialVal,
            validationQddL1: last ? last[1] : null,
            skippedUpdates: trainer.skippedUpdates,
            seconds: Math.round(sec * 10) / 10,
            samplesPerSecond: Math.round(samples / Math.max(sec, 1e-9)),
            steadySamplesPerSecond: Math.round(
              ((trainer.currentStep - steadyStep) * o.batch) /
                Math.max((performance.now() - steadyStart) / 1000, 1e-9),
            ),
            out: out ?? null,
          })}\n`,
        );
        if (out) await trainer.saveCheckpoint(out);
      } finally {
        trainer.dispose();
      }
    });
}

/** Run `fn`; a Trainer option error it throws comes out naming flags (see {@link withFlagNames}). */
function runWithFlagNames(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error && err.name === 'TrainerOptionError') throw new Error(withFlagNames(err));
    throw err;
  }
}

/** A parsed `--deriv`: Savitzky–Golay with a window and an order, or the system's exact q̈. */
type DerivSpec = { method: 'sg'; window: number; order: number } | { method: 'exact' };

/** Parser for `--deriv`: `sg:WINDOW,ORDER` (an odd window from 3, an order below it) or `exact`. */
export function derivSpec(text: string): DerivSpec {
  if (text === 'exact') return { method: 'exact' };
  const m = /^sg:(\d{1,4}),(\d{1,2})$/.exec(text);
  if (!m)
    throw new InvalidArgumentError(
      `'${text.slice(0, 40)}' is not a derivative method; use sg:WINDOW,ORDER (e.g. sg:${DEFAULT_SG_WINDOW},${DEFAULT_SG_ORDER}) or exact.`,
    );
  const window = Number(m[1]);
  const order = Number(m[2]);
  const problem = sgProblem(window, order, 1);
  if (problem) throw new InvalidArgumentError(`Savitzky–Golay: ${problem}.`);
  return { method: 'sg', window, order };
}

/**
 * Read the `--data` files, take the system from them (unless `--system` was given; the files must agree)
 * and estimate their derivatives.
 * @throws CliError (exit status 2) for a file that cannot be used
 */
async function recordedData(
  opts: TrainCliOptions,
  systemGiven: boolean,
): Promise<{ system: string; source: TrajectorySource }> {
  const { createSystem, readTrajectories, trajectorySource } = await import('../../src/index.js');
  const files = await Promise.all(
    (opts.data ?? []).map(async (path) => ({
      content: await readCappedFile(path, '--data', opts.maxInputBytes),
      name: path,
      lane: opts.lane,
    })),
  );
  try {
    const trajs = readTrajectories(files);
    // A resumed run keeps its checkpoint's system.
    const resumed = opts.resume
      ? (await import('../../src/node.js')).readCheckpoint(opts.resume).then((c) => c.state.options)
      : undefined;
    const ck = await resumed;
    let id = ck ? ck.system : systemGiven ? opts.system : undefined;
    let fileParams: Record<string, number> | null = ck ? ck.params : null;
    for (const [i, t] of trajs.entries()) {
      if (t.system === null) continue;
      if (id !== undefined && t.system !== id)
        throw new CliError(
          `--data: ${files[i].name} recorded '${t.system}' but ${ck ? 'the checkpoint trains' : systemGiven ? '--system is' : 'another file recorded'} '${id}'; train one system at a time.`,
          EXIT_USAGE,
        );
      id = t.system;
      if (!ck) fileParams ??= t.params;
    }
    if (id === undefined)
      throw new CliError('--data: the files do not name their system (CSV); add --system <id>.', EXIT_USAGE);
    const params = ck ? ck.params : { ...(fileParams ?? {}), ...(opts.params ?? {}) };
    if (!ck) opts.params = params;
    const system = createSystem(id, params);
    const deriv = opts.deriv ?? { method: 'sg' as const };
    const source = await trajectorySource(files, system, { ...deriv, qd: opts.qdFrom });
    return { system: id, source };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`--data: ${(e as Error).message}`, EXIT_USAGE);
  }
}
