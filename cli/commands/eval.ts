import { Command } from 'commander';
import type { CliIO } from '../io.js';
import { modelPath } from '../parse.js';
import { table } from './systems.js';

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
    .option('--backend <name>', 'learned-engine backend: wasm, cpu, js (float64 reference)', 'wasm')
    .option('--seed <n>', 'seed of every random draw', '0')
    .option('--starts <n>', 'energy-protocol starts (default 40; quick 8)')
    .option('--seconds <s>', 'roll-out length (default 100; quick 10)')
    .option('--states <n>', 'states for the q̈ error (default 100000; quick 5000)')
    .option('--write', "record the metrics in the model's metadata (quick runs under metrics.quick)")
    .option('--json', 'print the report as JSON')
    .action(
      async (opts: {
        model: string;
        quick?: boolean;
        backend: string;
        seed: string;
        starts?: string;
        seconds?: string;
        states?: string;
        write?: boolean;
        json?: boolean;
      }) => {
        const { evaluateModel } = await import('../../src/eval/evaluateModel.js');
        const num = (s: string | undefined, flag: string): number | undefined => {
          if (s === undefined) return undefined;
          const v = Number(s);
          if (!Number.isFinite(v) || v <= 0)
            throw new Error(`${flag} must be a positive number, got '${s}'.`);
          return v;
        };
        const report = await evaluateModel(opts.model, {
          quick: opts.quick,
          backend: opts.backend,
          seed: Number(opts.seed),
          starts: num(opts.starts, '--starts'),
          seconds: num(opts.seconds, '--seconds'),
          states: num(opts.states, '--states'),
        });
        if (opts.write) {
          const { writeMetrics } = await import('../../src/eval/writeMetrics.js');
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
