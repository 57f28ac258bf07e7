import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The code block after the `<!-- example: core` marker in README.md, unmodified. */
function coreExample(): string {
  const md = readFileSync(join(root, 'README.md'), 'utf8');
  const at = md.indexOf('<!-- example: core');
  expect(at, 'README.md has the core example marker').toBeGreaterThan(-1);
  const m = /```ts\n([\s\S]*?)```/.exec(md.slice(at));
  expect(m, 'a ```ts block follows the marker').not.toBeNull();
  return m![1];
}

describe('README', () => {
  it('the minimal three.js example is examples/minimal/main.ts, which the consumer test builds and runs', () => {
    const md = readFileSync(join(root, 'README.md'), 'utf8');
    const at = md.indexOf('<!-- example: minimal');
    expect(at, 'README.md has the minimal example marker').toBeGreaterThan(-1);
    const block = /```ts\n([\s\S]*?)```/.exec(md.slice(at));
    expect(block, 'a ```ts block follows the marker').not.toBeNull();
    expect(block![1]).toBe(readFileSync(join(root, 'examples', 'minimal', 'main.ts'), 'utf8'));
  });

  it('the engine-core example runs verbatim in Node and prints finite states and the exact spring q̈', () => {
    const dir = join(root, 'tmp');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'readme-core.ts');
    writeFileSync(file, coreExample());
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const nums = (label: string): number[] => {
      const m = new RegExp(`${label} Float64Array\\(2\\) \\[ ([^\\]]+) \\]`).exec(out);
      expect(m, `output names the ${label} state:\n${out}`).not.toBeNull();
      return m![1].split(',').map(Number);
    };
    const exact = nums('exact');
    const learned = nums('learned');
    for (const v of [...exact, ...learned]) expect(Number.isFinite(v), out).toBe(true);
    // After 1 s from (2, 1) at rest the learned pendulum is still close to the exact one.
    expect(Math.hypot(exact[0] - learned[0], exact[1] - learned[1]), out).toBeLessThan(0.5);
    expect(out, 'spring q̈ = −k x / m').toMatch(/spring q̈ -2\b/);
  });
});
