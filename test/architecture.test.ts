/**
 * The module layers (see .dependency-cruiser.cjs): no import cycles, src/ free of the outer layers, and
 * plugins/, app/, cli/ and scenes/ written against the public entries only. dependency-cruiser checks the
 * compiled JavaScript (value imports); a scan of the TypeScript sources adds the type-only imports the
 * compiler erases.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { cruise } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const graph = join(root, 'node_modules/.cache/three-lnn-graph');
const layers = ['src', 'plugins', 'cli', 'app', 'scenes'];

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

describe('module layers', () => {
  it('has no cycles and keeps the layer rules (dependency-cruiser on the compiled modules)', async () => {
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
    // A fresh emit (no modules of deleted sources); type errors are the typecheck's business.
    rmSync(graph, { recursive: true, force: true });
    try {
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.graph.json'], { cwd: root, stdio: 'pipe' });
    } catch {}
    const config = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs'));
    const cwd = process.cwd();
    process.chdir(graph);
    let result: Awaited<ReturnType<typeof cruise>>;
    try {
      result = await cruise(layers, { validate: true, ruleSet: config, ...config.options });
    } finally {
      process.chdir(cwd);
    }
    const output = result.output as {
      summary: { violations: { rule: { name: string }; from: string; to: string }[]; totalCruised: number };
    };
    const violations = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(output.summary.totalCruised, 'modules cruised').toBeGreaterThan(150);
    expect(violations, 'dependency-cruiser violations (npm run deps)').toEqual([]);
  }, 120_000);

  it('imports the core only through its public entries, type-only imports included', () => {
    const deep: string[] = [];
    const specifier = /(?:from\s+|import\s*\(\s*)'([^']+)'/g;
    for (const file of layers.filter((l) => l !== 'src').flatMap(sources)) {
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(specifier)) {
        if (!m[1].startsWith('.')) continue;
        const target = relative(root, resolve(root, dirname(file), m[1]));
        const layer = target.split('/')[0];
        if (layer === 'src' && !/^src\/(index|learned|node)(\.(js|ts))?$/.test(target))
          deep.push(`${file} → ${m[1]}`);
        const own = file.split('/').slice(0, 2).join('/');
        // A plugin imports no other plugin; app/, cli/ and scenes/ import a plugin through its index.
        const viaIndex = /^plugins\/[^/]+(\/index(\.(js|ts))?)?$/.test(target);
        if (
          layer === 'plugins' &&
          !target.startsWith(`${own}/`) &&
          (file.startsWith('plugins/') || !viaIndex)
        )
          deep.push(`${file} → ${m[1]}`);
      }
    }
    expect(deep, 'imports past the public entries').toEqual([]);
  });
  it('keeps TF.js out of the core entry, types included (a consumer of `three-lnn` alone needs no TF.js types)', () => {
    // Static imports and re-exports only: a lazy import() of the learned module is the point of the split.
    const specifier = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g;
    const seen = new Set<string>();
    const reach: string[] = [];
    const walk = (file: string, chain: string[]) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(specifier)) {
        if (m[1].startsWith('@tensorflow/')) reach.push([...chain, file, m[1]].join(' → '));
        if (m[1].startsWith('.'))
          walk(relative(root, resolve(root, dirname(file), m[1].replace(/\.js$/, '.ts'))), [...chain, file]);
      }
    };
    walk('src/index.ts', []);
    expect(seen.size, 'modules reached from src/index.ts').toBeGreaterThan(50);
    expect(reach, 'TF.js reached from the core entry').toEqual([]);
  });
});
