/**
 * Benchmark runner: `npm run bench` runs every suite in bench/suites/, `npm run bench -- analytic`
 * the named ones. Each suite prints a table and writes bench/results/<suite>.json with the machine
 * it ran on. Benchmarks measure; they never assert.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import type { BenchRow, BenchSuite } from './types';

const here = dirname(fileURLToPath(import.meta.url));
const suitesDir = join(here, 'suites');
const resultsDir = join(here, 'results');

/** The machine a result was measured on. */
export function machineInfo() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    node: process.version,
    platform: `${platform()} ${arch()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
    date: new Date().toISOString(),
  };
}

/** Render rows as an aligned text table. */
export function formatTable(rows: BenchRow[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]);
  const cell = (v: string | number | undefined) =>
    typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2)) : (v ?? '');
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(cell(r[c])).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (typeof rows[0][cols[i]] === 'number' ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ');
  return [
    line(cols),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => line(cols.map((c) => String(cell(r[c]))))),
  ].join('\n');
}

async function loadSuites(): Promise<BenchSuite[]> {
  const files = readdirSync(suitesDir)
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const suites: BenchSuite[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(suitesDir, f)).href)) as Partial<BenchSuite>;
    if (typeof mod.name !== 'string' || typeof mod.run !== 'function') {
      throw new Error(`bench/suites/${f} must export 'name' (string) and 'run(options)'`);
    }
    suites.push({ name: mod.name, run: mod.run });
  }
  return suites;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('bench')
    .description('Run benchmark suites (all by default); results go to bench/results/<suite>.json')
    .argument('[suites...]', 'names of the suites to run')
    .option('--quick', 'short runs to check that the suites work (numbers not representative)', false)
    .option('--list', 'list the suites and exit', false)
    .option('--no-save', 'do not write bench/results/*.json');
  program.parse(argv);
  const opts = program.opts<{ quick: boolean; list: boolean; save: boolean }>();
  const all = await loadSuites();
  if (opts.list) {
    for (const s of all) console.log(s.name);
    return 0;
  }
  const wanted = program.args;
  const unknown = wanted.filter((w) => !all.some((s) => s.name === w));
  if (unknown.length > 0) {
    console.error(`Unknown suite(s): ${unknown.join(', ')}. Available: ${all.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const chosen = wanted.length > 0 ? all.filter((s) => wanted.includes(s.name)) : all;
  const machine = machineInfo();
  console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage1m}`);
  for (const suite of chosen) {
    console.log(`\n== ${suite.name}${opts.quick ? ' (quick)' : ''} ==`);
    const result = await suite.run({ quick: opts.quick });
    console.log(formatTable(result.rows));
    if (opts.save) {
      mkdirSync(resultsDir, { recursive: true });
      const file = join(resultsDir, `${suite.name}.json`);
      const payload = {
        suite: suite.name,
        quick: opts.quick,
        machine: { ...machineInfo(), date: machine.date },
        results: result.json,
      };
      writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
      console.log(`wrote ${file}`);
    }
  }
  return 0;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
