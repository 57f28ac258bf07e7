import { Command } from 'commander';
import { listSystems } from '../../src/index.js';
import type { CliIO } from '../io.js';

/** Render rows as a left-aligned, space-padded text table. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return (
    rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') +
    '\n'
  );
}

/** `three-lnn systems`: the registered systems, their degrees of freedom and parameters. */
export function systemsCommand(io: CliIO): Command {
  return new Command('systems')
    .description('list the systems with their degrees of freedom and parameters (defaults)')
    .option('--json', 'print JSON: [{id, name, description, dof, params: [{name, default, doc, …}]}]')
    .action((opts: { json?: boolean }) => {
      const systems = listSystems();
      if (opts.json) {
        io.stdout(JSON.stringify(systems, null, 2) + '\n');
        return;
      }
      const rows: string[][] = [['SYSTEM', 'DOF', 'NAME', 'DESCRIPTION']];
      const params: string[][] = [['SYSTEM', 'PARAMETER', 'DEFAULT', 'MEANING']];
      for (const s of systems) {
        rows.push([s.id, typeof s.dof === 'number' ? String(s.dof) : `= ${s.dof}`, s.name, s.description]);
        for (const p of s.params) params.push([s.id, p.name, String(p.default), p.doc]);
      }
      const text = `${table(rows)}\n${table(params)}`;
      io.stdout(text);
    });
}
