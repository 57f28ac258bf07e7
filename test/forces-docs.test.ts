import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('docs/forces.md', () => {
  it('the World example runs verbatim and closes its energy ledger', () => {
    const md = readFileSync(join(root, 'docs/forces.md'), 'utf8');
    const at = md.indexOf('<!-- example: forces');
    expect(at, 'docs/forces.md has the forces example marker').toBeGreaterThan(-1);
    const block = /```ts\n([\s\S]*?)```/.exec(md.slice(at));
    expect(block).not.toBeNull();
    const dir = join(root, 'tmp');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'docs-forces.ts');
    // The package name resolves to the source entry, as in the README test.
    writeFileSync(file, block![1].replace("from 'three-lnn'", `from '${join(root, 'src/index.ts')}'`));
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
    const m = /work (-?[\d.]+) ledger (-?[\d.e+-]+)/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Math.abs(Number(m![1]))).toBeGreaterThan(0.01);
    expect(Math.abs(Number(m![2]))).toBeLessThan(1e-4);
  });
});
