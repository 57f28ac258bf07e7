import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

/** Every .ts file under `dir`, recursively. */
function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Module specifiers of static and dynamic imports and re-exports in `file`. */
function specifiers(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^']+)'/g)) out.push(m[1]);
  return out;
}

/** Imports of the src/ tree that bypass the public entries (index, learned, node). */
function deepImports(files: string[]): string[] {
  const bad: string[] = [];
  for (const f of files) {
    for (const s of specifiers(f)) {
      if (/^(\.\.\/)+src\//.test(s) && !/^(\.\.\/)+src\/(index|learned|node)\.js$/.test(s))
        bad.push(`${f}: ${s}`);
    }
  }
  return bad;
}

describe('plugins, scenes and the CLI use the public entries', () => {
  it('no import reaches past src/index.js, src/learned.js or src/node.js', () => {
    const files = [...tsFiles('plugins'), ...tsFiles('scenes'), ...tsFiles('cli')].filter(
      // The training command's imports follow the Trainer's own module layout.
      (f) => f !== join('cli', 'commands', 'train.ts'),
    );
    expect(deepImports(files)).toEqual([]);
  });

  it('the cannon-es plugin does not depend on the three.js plugin', () => {
    const bad = tsFiles(join('plugins', 'cannon')).flatMap((f) =>
      specifiers(f)
        .filter((s) => s.includes('/three/'))
        .map((s) => `${f}: ${s}`),
    );
    expect(bad).toEqual([]);
  });
});
