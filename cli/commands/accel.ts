import { Command } from 'commander';
import { CliError, EXIT_FAILURE } from '../CliError.js';
import { type CliIO, readTextInput, writeResult } from '../io.js';
import { addPhysicsOptions, type PhysicsOptions } from '../options.js';
import { parseStates } from '../parse.js';
import { buildEngine, buildSystem, optionalModel } from '../setup.js';

/** Parsed options of `three-lnn accel`. */
interface AccelOptions extends PhysicsOptions {
  states: string;
  out?: string;
}

const EXAMPLES = `
Examples:
  $ echo '{"q":[[2,1]],"qd":[[0,0]]}' | three-lnn accel --system double-pendulum --engine analytic --states -
  $ three-lnn accel --system double-pendulum --engine lnn --model assets/models/double-pendulum-lnn --states states.json

Output: {"qdd": [B][n]}, one row per input state.`;

/** `three-lnn accel`: accelerations q̈ of a batch of states under one engine. */
export function accelCommand(io: CliIO): Command {
  const cmd = new Command('accel').description(
    'print the accelerations q̈ of a batch of states under an engine',
  );
  addPhysicsOptions(cmd)
    .requiredOption('--states <file>', 'states as JSON {"q":[[...]],"qd":[[...]]}; - reads standard input')
    .option('--out <file>', 'write to a file instead of standard output')
    .addHelpText('after', EXAMPLES)
    .action((opts: AccelOptions) => runAccel(io, opts));
  return cmd;
}

async function runAccel(io: CliIO, opts: AccelOptions): Promise<void> {
  const model = await optionalModel(opts.model);
  const system = buildSystem(opts.system, opts.params, model, (m) => io.stderr(`three-lnn: warning: ${m}\n`));
  const dof = system.dof;
  const states = parseStates(
    await readTextInput(io, opts.states, '--states'),
    `--states ${opts.states}`,
    dof,
  );
  const batch = states.q.length;
  const q = Float64Array.from(states.q.flat());
  const qd = Float64Array.from(states.qd.flat());
  const qdd = new Float64Array(batch * dof);
  const engine = await buildEngine(opts.engine, system, model, opts.backend);
  try {
    engine.accelerations(q, qd, qdd, batch);
  } catch (err) {
    throw new CliError(`--engine ${opts.engine} failed: ${(err as Error).message}`, EXIT_FAILURE);
  } finally {
    engine.dispose();
  }
  const rows: number[][] = [];
  for (let b = 0; b < batch; b++) rows.push(Array.from(qdd.subarray(b * dof, (b + 1) * dof)));
  // JSON writes non-finite numbers as null; the exit status and message say which state it was.
  await writeResult(io, `{"qdd":${JSON.stringify(rows)}}\n`, opts.out);
  const bad = rows.findIndex((r) => r.some((v) => !Number.isFinite(v)));
  if (bad >= 0) {
    throw new CliError(
      `q̈ of state ${bad} is not finite (${rows[bad].join(', ')}); written as null.`,
      EXIT_FAILURE,
    );
  }
}
