import { Command, Option } from 'commander';
import { ForceSpecError, ForceSupportError, type System } from '../../src/index.js';
import { CliError, EXIT_FAILURE } from '../CliError.js';
import { rolloutCsv, rolloutJson } from '../format.js';
import { type CliIO, readTextInput, writeResult } from '../io.js';
import {
  DEFAULT_MAX_OUTPUT_VALUES,
  listIndices,
  maxInputBytesOption,
  maxOutputValuesOption,
  maxStatesOption,
  maxStepsOption,
  overLimit,
  show,
} from '../limits.js';
import { addPhysicsOptions, integratorOption, type PhysicsOptions } from '../options.js';
import {
  csvVector,
  dampingList,
  type ImpulseSpec,
  impulseSpec,
  parseStates,
  positiveInteger,
  positiveNumber,
  stepCount,
  tidyNumber,
} from '../parse.js';
import { buildEngine, buildIntegrator, buildSystem, checkEngineId, optionalModel } from '../setup.js';
import { recordCapacity, type SimulateForces, type StepImpulse, simulate } from '../simulate.js';

/** Parsed options of `three-lnn rollout`. */
interface RolloutOptions extends PhysicsOptions {
  q0?: number[];
  qd0?: number[];
  states?: string;
  dt: number;
  duration: number;
  integrator: string;
  every: number;
  format: 'json' | 'csv';
  out?: string;
  maxInputBytes: number;
  maxStates: number;
  maxSteps: number;
  maxOutputValues: number;
  damping?: number[];
  impulse?: ImpulseSpec[];
}

const EXAMPLES = `
Examples:
  $ three-lnn rollout --system double-pendulum --engine analytic --q0 2.0,1.0 --qd0 0,0 --dt 0.001 --duration 5
  $ three-lnn rollout --system double-pendulum --engine analytic --states starts.json --dt 0.01 --duration 10 --every 10 --out run.json
  $ three-lnn rollout --system double-pendulum --engine lnn --model assets/models/double-pendulum-lnn \\
      --q0 2,1 --qd0 0,0 --dt 0.005 --duration 20 --format csv
  $ three-lnn rollout --system simple-pendulum --engine analytic --q0 1 --qd0 0 --dt 0.01 --duration 10 \\
      --damping 0.1 --impulse 2:0.5 --impulse 5:point=1:0.3,0,0

Output (JSON): {"system","engine","integrator","dt","t":[T],"q":[T][n],"qd":[T][n],"energy":[T]} for one start;
with --states the arrays are q, qd: [T][B][n] and energy: [T][B]. energy is the system's true energy.
With --damping or --impulse: also "work" W and "ledger" E − E(0) − W (shaped like energy; the ledger stays
at zero up to integration error) and "impulses" (those applied); CSV gains the columns work,ledger.

--impulse T:P1,P2,…            generalized impulse p (one number per coordinate) at time T: q̇ += H_vv⁻¹ p
--impulse T:point=K:Jx,Jy,Jz   impulse J (N·s, world axes, y up) on drawn point K: p = J(q)ᵀ J
An impulse fires at the first step boundary k·dt ≥ T, on every start, before that boundary's record.`;

/** `three-lnn rollout`: integrate one start or a batch and print the trajectory. */
export function rolloutCommand(io: CliIO): Command {
  const cmd = new Command('rollout').description(
    'integrate a system from one initial state or a batch, and print the trajectory with its true energy',
  );
  addPhysicsOptions(cmd)
    .option('--q0 <csv>', 'initial coordinates of one start, comma-separated (n values)', csvVector)
    .option('--qd0 <csv>', 'initial velocities of one start, comma-separated (n values)', csvVector)
    .option('--states <file>', 'a batch of starts: JSON {"q":[[...]],"qd":[[...]]}, or - for stdin')
    .requiredOption('--dt <s>', 'time step in seconds (> 0)', positiveNumber)
    .requiredOption('--duration <s>', 'simulated time in seconds: a whole multiple of --dt', positiveNumber)
    .addOption(integratorOption())
    .option(
      '--damping <C>',
      "Rayleigh damping Q = −C q̇ in the system's units: one C ≥ 0 for every coordinate, or one per coordinate (comma-separated)",
      dampingList,
    )
    .option(
      '--impulse <spec>',
      'an impulse at time T, repeatable: T:P1,P2,… (generalized, one per coordinate) or T:point=K:Jx,Jy,Jz (on drawn point K)',
      impulseSpec,
    )
    .option('--every <k>', 'record every k-th step (t = 0 is always recorded)', positiveInteger, 1)
    .addOption(new Option('--format <fmt>', 'output format').choices(['json', 'csv']).default('json'))
    .option('--out <file>', 'write to a file instead of standard output')
    .addOption(maxInputBytesOption())
    .addOption(maxStatesOption())
    .addOption(maxStepsOption('counted over the starts (steps × starts)'))
    .addOption(
      maxOutputValuesOption(
        'records × starts × (2n + 1), held in memory until written',
        DEFAULT_MAX_OUTPUT_VALUES,
      ),
    )
    .addHelpText('after', EXAMPLES)
    .action((opts: RolloutOptions) => runRollout(io, opts));
  return cmd;
}

/** Validate the options, run the roll-out and write it; a failure mid-run still writes what was computed. */
async function runRollout(io: CliIO, opts: RolloutOptions): Promise<void> {
  const single = opts.q0 !== undefined || opts.qd0 !== undefined;
  if (single && opts.states !== undefined) {
    throw new CliError('give either --q0/--qd0 (one start) or --states (a batch), not both.');
  }
  if (!single && opts.states === undefined) {
    throw new CliError(
      'no initial state: add --q0 <csv> --qd0 <csv> (one start) or --states <file> (a batch).',
    );
  }
  const steps = stepCount(opts.duration, opts.dt);
  checkEngineId(opts.engine);
  // Checked before anything is read or built: --duration 1e15 must not start 10¹⁸ steps.
  const stepAdvice = 'shorten --duration or take a larger --dt';
  if (steps > opts.maxSteps) {
    throw overLimit(
      `--duration ${opts.duration} / --dt ${opts.dt}`,
      steps,
      '--max-steps',
      opts.maxSteps,
      stepAdvice,
      'steps',
    );
  }
  const model = await optionalModel(opts.model, opts.maxInputBytes);
  const system = buildSystem(opts.system, opts.params, model, { outsideTraining: opts.outsideTraining });
  const dof = system.dof;
  const integrator = buildIntegrator(opts.integrator);

  let q0: Float64Array;
  let qd0: Float64Array;
  let batch = 1;
  if (single) {
    for (const [flag, v] of [
      ['--q0', opts.q0],
      ['--qd0', opts.qd0],
    ] as const) {
      if (v === undefined)
        throw new CliError(`${flag} is missing: give both --q0 and --qd0 (${dof} values each).`);
      if (v.length !== dof) {
        throw new CliError(
          `${flag} has ${v.length} value${v.length === 1 ? '' : 's'}; ${system.id} has ${dof} degrees of freedom, so give ${dof}.`,
        );
      }
    }
    q0 = Float64Array.from(opts.q0!);
    qd0 = Float64Array.from(opts.qd0!);
  } else {
    const states = parseStates(
      await readTextInput(io, opts.states!, '--states', opts.maxInputBytes),
      `--states ${opts.states}`,
      dof,
      opts.maxStates,
    );
    q0 = states.q;
    qd0 = states.qd;
    batch = states.batch;
  }
  if (steps * batch > opts.maxSteps) {
    throw overLimit(
      `--duration ${opts.duration} / --dt ${opts.dt} for ${show(batch)} starts`,
      steps * batch,
      '--max-steps',
      opts.maxSteps,
      `${stepAdvice}, or give fewer starts`,
      'steps (steps × starts)',
    );
  }
  const forces = checkForces(opts, system, steps);
  // Records are kept in memory until written: refuse runs whose output could not fit.
  const perRecord = batch * (2 * dof + (forces ? 3 : 1));
  const values = recordCapacity(steps, opts.every) * perRecord;
  if (values > opts.maxOutputValues) {
    const room = opts.maxOutputValues - 2 * perRecord;
    const every = room > 0 ? Math.ceil(((steps + 1) * perRecord) / room) : Number.NaN;
    throw overLimit(
      `what this run would record (records × starts × (2n + ${forces ? 3 : 1}))`,
      values,
      '--max-output-values',
      opts.maxOutputValues,
      Number.isFinite(every) && every <= steps
        ? `record less often with --every ${every} or more, or shorten --duration`
        : 'give fewer starts',
      'numbers',
    );
  }

  const engine = await buildEngine(opts.engine, system, model, opts.backend, opts.outsideTraining);
  let traj: ReturnType<typeof simulate>;
  try {
    traj = simulate(engine, integrator, q0, qd0, batch, {
      dt: opts.dt,
      steps,
      every: opts.every,
      ...(forces ? { forces } : {}),
    });
  } catch (err) {
    // Raised before the first step: bad input, nothing was run.
    if (err instanceof ForceSupportError) {
      throw new CliError(
        `${forceFlags(opts)}: --engine ${opts.engine} takes no forces: ${err.message.replace(/^forces: /, '').replace(/\.$/, '')}. ` +
          'Run forces on an engine that takes them (analytic, lagrangian, cannon, or a learned lnn or lgn model).',
      );
    }
    if (err instanceof ForceSpecError)
      throw new CliError(`${forceFlags(opts)}: ${err.message.replace(/^forces: /, '')}`);
    throw err;
  } finally {
    engine.dispose();
  }

  const header = {
    system: system.id,
    engine: opts.engine,
    integrator: integrator.id,
    dt: opts.dt,
    every: opts.every,
    params: system.params,
    ...(model ? { model: model.dir } : {}),
    ...(forces?.damping !== undefined ? { damping: forces.damping } : {}),
  };
  await writeResult(
    io,
    opts.format === 'csv' ? rolloutCsv(traj, !single) : rolloutJson(header, traj, !single),
    opts.out,
  );
  const f = traj.failure;
  if (f) {
    const where =
      f.index < 0 || single
        ? ''
        : f.count === 1
          ? ` in start ${f.index} of the batch`
          : ` in ${show(f.count)} of ${show(batch)} starts (${listIndices(f.indices, f.count)})`;
    const last = tidyNumber(traj.t[traj.count - 1]);
    throw new CliError(
      `the run stopped at t = ${tidyNumber(f.t)} s (step ${f.step})${where}: ${f.reason}. ` +
        `Wrote the ${traj.count} state${traj.count === 1 ? '' : 's'} recorded up to t = ${last} s${opts.out ? ` to ${opts.out}` : ''}. ` +
        (f.cause === 'solve'
          ? "Keep the starts inside the model's training box (three-lnn inspect) or use an exact engine."
          : 'Try a smaller --dt or another --integrator.'),
      EXIT_FAILURE,
    );
  }
}

/** The force flags given, for messages: `--damping`, `--impulse` or `--damping/--impulse`. */
function forceFlags(opts: RolloutOptions): string {
  const flags = [];
  if (opts.damping !== undefined) flags.push('--damping');
  if (opts.impulse !== undefined) flags.push('--impulse');
  return flags.join('/');
}

/**
 * `--damping` and `--impulse` checked against the system and the run (counts against the dof, impulse
 * times within the run, point indices); undefined when neither is given.
 * @throws CliError naming the flag and the fix
 */
function checkForces(opts: RolloutOptions, system: System, steps: number): SimulateForces | undefined {
  const { damping, impulse } = opts;
  if (damping === undefined && impulse === undefined) return undefined;
  const dof = system.dof;
  if (damping !== undefined && damping.length !== 1 && damping.length !== dof) {
    throw new CliError(
      `--damping has ${damping.length} values; give one for every coordinate or ${dof} (one per coordinate of ${system.id}).`,
    );
  }
  const duration = steps * opts.dt;
  const impulses: StepImpulse[] = [];
  for (const imp of impulse ?? []) {
    const flag = `--impulse ${imp.text}`;
    const ratio = imp.at / opts.dt;
    if (ratio > steps + 1e-9 * Math.max(1, steps)) {
      throw new CliError(
        `${flag}: t = ${imp.at} s is after the end of the run (--duration ${tidyNumber(duration)}); give a time from 0 to ${tidyNumber(duration)}.`,
      );
    }
    const step = Math.min(steps, Math.max(0, Math.ceil(ratio - 1e-9)));
    if ('p' in imp) {
      if (imp.p.length !== dof) {
        throw new CliError(
          `${flag}: the impulse has ${imp.p.length} value${imp.p.length === 1 ? '' : 's'}; ${system.id} has ${dof} degree${dof === 1 ? '' : 's'} of freedom, so give ${dof} (T:${dof === 1 ? 'P1' : `P1,…,P${dof}`}).`,
        );
      }
      impulses.push({ step, p: imp.p });
    } else {
      if (imp.point >= system.pointCount) {
        throw new CliError(
          `${flag}: point ${imp.point} does not exist; ${system.id} has ${system.pointCount} drawn points (0 to ${system.pointCount - 1}).`,
        );
      }
      if (system.pointJacobian === undefined) {
        throw new CliError(
          `${flag}: ${system.id} gives no point Jacobian, so an impulse on a point is undefined; give a generalized impulse (T:${dof === 1 ? 'P1' : `P1,…,P${dof}`}).`,
        );
      }
      impulses.push({ step, point: imp.point, J: imp.J });
    }
  }
  return {
    ...(damping !== undefined ? { damping: damping.length === 1 ? damping[0] : damping } : {}),
    impulses,
  };
}
