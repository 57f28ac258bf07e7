import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliIO } from '../io.js';
import {
  boundedInteger,
  MAX_EVAL_SECONDS,
  MAX_EVAL_STARTS,
  MAX_EVAL_STATES,
  MAX_SEED,
  maxInputBytesOption,
  show,
} from '../limits.js';
import { modelPath, positiveNumber } from '../parse.js';
import { readModelJson } from '../setup.js';
import { table } from './systems.js';

/** Parser for `--seconds`: a positive number up to {@link MAX_EVAL_SECONDS}. */
function evalSeconds(text: string): number {
  const v = positiveNumber(text);
  if (v > MAX_EVAL_SECONDS) {
    throw new InvalidArgumentError(`It must be at most ${show(MAX_EVAL_SECONDS)} seconds, got ${text}.`);
  }
  return v;
}

/** Format a metric value for the table. */
function fmt(x: unknown): string {
  if (typeof x === 'number' && Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  if (typeof x === 'number')
    return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toPrecision(4);
  return String(x);
}

/** `three-lnn eval --model <dir>`: the paper's protocols (or per-system equivalents) on a learned model. */
export function evalCommand(io: CliIO): Command {
  return new Command('eval')
    .description("measure a learned model: the paper's energy protocol, q̈ error, per-system checks")
    .requiredOption(
      '--model <dir>',
      'model directory (model.json + weights), or a shipped model name',
      modelPath,
    )
    .option('--quick', 'small subsets for CI (8 starts × 10 s, 5,000 states)')
    .addOption(
      new Option('--backend <name>', 'learned-engine backend (js: the float64 reference)')
        .choices(['wasm', 'cpu', 'js'])
        .default('wasm'),
    )
    .option(
      '--seed <n>',
      `seed of every random draw (0 to ${show(MAX_SEED)})`,
      boundedInteger(0, MAX_SEED),
      0,
    )
    .option(
      '--starts <n>',
      `energy-protocol starts (default 40; quick 8; at most ${show(MAX_EVAL_STARTS)})`,
      boundedInteger(1, MAX_EVAL_STARTS),
    )
    .option(
      '--seconds <s>',
      `roll-out length (default 100; quick 10; at most ${show(MAX_EVAL_SECONDS)})`,
      evalSeconds,
    )
    .option(
      '--states <n>',
      `states for the q̈ error (default 100000; quick 5000; at most ${show(MAX_EVAL_STATES)})`,
      boundedInteger(1, MAX_EVAL_STATES),
    )
    .option('--write', "record the metrics in the model's metadata (quick runs under metrics.quick)")
    .option('--json', 'print the report as JSON')
    .addOption(maxInputBytesOption())
    .action(
      async (opts: {
        model: string;
        quick?: boolean;
        backend: string;
        seed: number;
        starts?: number;
        seconds?: number;
        states?: number;
        write?: boolean;
        json?: boolean;
        maxInputBytes: number;
      }) => {
        // A missing, oversized or damaged model.json is bad input (exit 2), found before any work.
        await readModelJson(opts.model, opts.maxInputBytes);
        const { evaluateModel } = await import('../../src/learned.js');
        const report = await evaluateModel(opts.model, {
          quick: opts.quick,
          backend: opts.backend,
          seed: opts.seed,
          starts: opts.starts,
          seconds: opts.seconds,
          states: opts.states,
        });
        if (opts.write) {
          const { writeMetrics } = await import('../../src/node.js');
          writeMetrics(opts.model, report);
        }
        if (opts.json) {
          io.stdout(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const rows: string[][] = [['METRIC', 'VALUE', 'DETAILS']];
        for (const [name, m] of Object.entries(report.metrics)) {
          const details = Object.entries(m)
            .filter(([k]) => k !== 'value' && k !== 'protocol')
            .map(([k, v]) => `${k}=${fmt(v)}`)
            .join(' ');
          rows.push([name, fmt(m.value), details]);
        }
        io.stdout(
          `${report.system.id} ${report.kind} (${report.quick ? 'quick' : 'full'} protocol, ${report.backend}, ${report.seconds.toFixed(1)} s)\n${table(rows)}`,
        );
        for (const [name, m] of Object.entries(report.metrics)) io.stdout(`  ${name}: ${m.protocol}\n`);
      },
    );
}
