import { Command } from 'commander';
import type { Engine } from '../../src/index.js';
import { CliError, EXIT_FAILURE } from '../CliError.js';
import { type CliIO, readTextInput, writeResult } from '../io.js';
import { listIndices, maxInputBytesOption, maxStatesOption, show } from '../limits.js';
import { addPhysicsOptions, type PhysicsOptions } from '../options.js';
import { parseStates } from '../parse.js';
import { buildEngine, buildSystem, checkEngineId, optionalModel } from '../setup.js';
import { engineFlags, failedStates } from '../simulate.js';

/** Parsed options of `three-lnn accel`. */
interface AccelOptions extends PhysicsOptions {
  states: string;
  out?: string;
  maxInputBytes: number;
  maxStates: number;
}

const EXAMPLES = `
Examples:
  $ echo '{"q":[[2,1]],"qd":[[0,0]]}' | three-lnn accel --system double-pendulum --engine analytic --states -
  $ three-lnn accel --system double-pendulum --engine lnn --model assets/models/double-pendulum-lnn --states states.json

Output: {"qdd": [B][n]}, one row per input state; a state whose q̈ could not be computed is written as
null and reported on standard error (exit status 1).`;

/** `three-lnn accel`: accelerations q̈ of a batch of states under one engine. */
export function accelCommand(io: CliIO): Command {
  const cmd = new Command('accel').description(
    'print the accelerations q̈ of a batch of states under an engine',
  );
  addPhysicsOptions(cmd)
    .requiredOption('--states <file>', 'states as JSON {"q":[[...]],"qd":[[...]]}; - reads standard input')
    .option('--out <file>', 'write to a file instead of standard output')
    .addOption(maxInputBytesOption())
    .addOption(maxStatesOption())
    .addHelpText('after', EXAMPLES)
    .action((opts: AccelOptions) => runAccel(io, opts));
  return cmd;
}

/** Rows per output chunk (bounds the size of any one string for large batches). */
const CHUNK = 4096;

/** `{"qdd":[[…],…]}` in chunks; every entry of a row in `failed`, and any non-finite number, is null. */
function* qddJson(
  qdd: Float64Array,
  batch: number,
  dof: number,
  failed: ReadonlySet<number>,
): Generator<string> {
  yield '{"qdd":[';
  for (let b0 = 0; b0 < batch; b0 += CHUNK) {
    const parts: string[] = [];
    for (let b = b0; b < Math.min(batch, b0 + CHUNK); b++) {
      const bad = failed.has(b);
      let row = '[';
      for (let i = 0; i < dof; i++) {
        const v = qdd[b * dof + i];
        row += (i > 0 ? ',' : '') + (!bad && Number.isFinite(v) ? String(v) : 'null');
      }
      parts.push(row + ']');
    }
    yield (b0 > 0 ? ',' : '') + parts.join(',');
  }
  yield ']}\n';
}

/** Why states failed, one entry per state. */
type Failure = { index: number; why: 'flagged' | 'non-finite' | 'threw'; message?: string };

/**
 * After a batch call threw, the engine is given up on (the error reported as a whole, nothing written)
 * only when every single-state retry threw too and the retries have taken longer than this: an exact
 * engine that refuses every state of a batch still gets a row of nulls per state, while a broken, slow
 * engine is not retried a million times.
 */
const RETRY_BUDGET_MS = 1000;

/**
 * q̈ of every state, and the states that failed. A batch call that throws is retried state by state, so
 * that one bad state (e.g. |q̇| ≥ c for an exact relativistic engine) costs only its own row (see
 * {@link RETRY_BUDGET_MS} for when the engine is taken as broken instead).
 */
function accelerations(
  engine: Engine,
  q: Float64Array,
  qd: Float64Array,
  batch: number,
  dof: number,
): { qdd: Float64Array; failures: Failure[] } {
  const qdd = new Float64Array(batch * dof);
  const classify = (
    start: number,
    count: number,
    out: Failure[],
    flags: ArrayLike<number> | undefined,
  ): void => {
    const bad = failedStates([qdd.subarray(start * dof, (start + count) * dof)], dof, count, flags);
    for (const s of bad) out.push({ index: start + s.index, why: s.flagged ? 'flagged' : 'non-finite' });
  };
  try {
    engine.accelerations(q, qd, qdd, batch);
    const failures: Failure[] = [];
    classify(0, batch, failures, engineFlags(engine, batch));
    return { qdd, failures };
  } catch (err) {
    const failures: Failure[] = [];
    const start = performance.now();
    let thrown = 0;
    for (let b = 0; b < batch; b++) {
      const o = b * dof;
      try {
        engine.accelerations(q.subarray(o, o + dof), qd.subarray(o, o + dof), qdd.subarray(o, o + dof), 1);
        classify(b, 1, failures, engineFlags(engine, 1));
      } catch (e) {
        thrown++;
        if (thrown === b + 1 && b + 1 < batch && performance.now() - start > RETRY_BUDGET_MS) throw err;
        qdd.fill(Number.NaN, o, o + dof);
        failures.push({ index: b, why: 'threw', message: (e as Error).message });
      }
    }
    return { qdd, failures };
  }
}

/** One line: how many states failed, the first few indices, and why. */
function summary(failures: readonly Failure[], batch: number, engine: string): string {
  const indices = failures.map((f) => f.index);
  const counts = { flagged: 0, 'non-finite': 0, threw: 0 };
  for (const f of failures) counts[f.why]++;
  const why: string[] = [];
  if (counts.flagged > 0) {
    why.push(
      `${show(counts.flagged)} flagged failed by the engine (no finite q̈; it substituted 0 — e.g. outside the model's training box)`,
    );
  }
  if (counts['non-finite'] > 0) why.push(`${show(counts['non-finite'])} with a non-finite q̈`);
  if (counts.threw > 0) {
    const first = failures.find((f) => f.why === 'threw')!;
    why.push(
      `${show(counts.threw)} where the engine threw (first: ${(first.message ?? '').replace(/\.$/, '')})`,
    );
  }
  return (
    `${show(failures.length)} of ${show(batch)} state${batch === 1 ? '' : 's'} failed under --engine ${engine} ` +
    `(state${failures.length === 1 ? '' : 's'} ${listIndices(indices)}): ${why.join('; ')}. ` +
    (failures.length === 1 ? 'Its q̈ is written as null.' : 'Their q̈ are written as null.')
  );
}

async function runAccel(io: CliIO, opts: AccelOptions): Promise<void> {
  checkEngineId(opts.engine);
  const model = await optionalModel(opts.model, opts.maxInputBytes);
  const system = buildSystem(opts.system, opts.params, model, { outsideTraining: opts.outsideTraining });
  const dof = system.dof;
  const { q, qd, batch } = parseStates(
    await readTextInput(io, opts.states, '--states', opts.maxInputBytes),
    `--states ${opts.states}`,
    dof,
    opts.maxStates,
  );
  const engine = await buildEngine(opts.engine, system, model, opts.backend, opts.outsideTraining);
  let result: ReturnType<typeof accelerations>;
  try {
    result = accelerations(engine, q, qd, batch, dof);
  } catch (err) {
    throw new CliError(`--engine ${opts.engine} failed: ${(err as Error).message}`, EXIT_FAILURE);
  } finally {
    engine.dispose();
  }
  const { qdd, failures } = result;
  // The rows are written in any case; the exit status and the message say which states failed.
  await writeResult(io, qddJson(qdd, batch, dof, new Set(failures.map((f) => f.index))), opts.out);
  if (failures.length > 0) throw new CliError(summary(failures, batch, opts.engine), EXIT_FAILURE);
}
