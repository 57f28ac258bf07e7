/**
 * `Trainer` is exported from the browser-facing `three-lnn/learned` entry, so neither the training code
 * nor anything a bundler pulls in with that entry may name a Node built-in (`node:fs`, `node:module`, …):
 * Node-only modules come from `process.getBuiltinModule` (src/model/nodeIo.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type Rollup } from 'vite';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
/** A `node:` module specifier in source or bundle text. */
const NODE_SPECIFIER = /["'`]node:[a-z_/]+["'`]/;

/** Every .ts file under `dir`. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('the trainer is safe to bundle for the browser', () => {
  it('src/train/** and src/nn/registerGradients.ts name no node: module', () => {
    const files = [...tsFiles(join(repo, 'src', 'train')), join(repo, 'src', 'nn', 'registerGradients.ts')];
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const hit = readFileSync(file, 'utf8').match(NODE_SPECIFIER);
      expect(hit?.[0], file).toBeUndefined();
    }
  });

  it('a Vite build of the learned entry (three-lnn/learned) holds no node: specifier', async () => {
    const out = (await build({
      configFile: false,
      logLevel: 'silent',
      root: repo,
      build: {
        write: false,
        minify: true,
        lib: { entry: join(repo, 'src', 'learned.ts'), formats: ['es'], fileName: 'learned' },
        rollupOptions: { external: [/^@tensorflow\//] },
      },
    })) as Rollup.RollupOutput | Rollup.RollupOutput[];
    const outputs = (Array.isArray(out) ? out : [out]).flatMap((o) => o.output);
    const chunks = outputs.filter((o): o is Rollup.OutputChunk => o.type === 'chunk');
    expect(chunks.length, 'chunks built').toBeGreaterThan(0);
    const text = chunks.map((c) => c.code).join('\n');
    expect(text, 'the bundle contains the trainer').toContain('TrainerOptionError');
    for (const c of chunks) expect(c.code.match(NODE_SPECIFIER)?.[0], c.fileName).toBeUndefined();
  }, 120_000);
});
