import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { SHIPPED_MODELS, type ShippedModelName } from '../../src/index.js';
import { packageAssets } from '../../src/node.js';
import { CliError } from '../CliError.js';
import type { CliIO } from '../io.js';

const EXAMPLES = `
Examples:
  $ three-lnn assets public/three-lnn
  $ three-lnn assets static/three-lnn --models double-pendulum-lnn --no-wasm

The folder receives models/<name>/{model.json,weights.bin} and wasm/*.wasm. Serve it and point the library
at it: <meta name="three-lnn-assets" content="/three-lnn/"> in the page, or configureAssets({ base: '/three-lnn/' }).
With Vite, the plugin threeLnn() from 'three-lnn/vite' does this without copying.`;

/** Parse `--models a,b` into shipped model names. */
function modelList(value: string): ShippedModelName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const name of names) {
    if (!(SHIPPED_MODELS as readonly string[]).includes(name)) {
      throw new CliError(
        `--models: '${name}' is not a shipped model; choose from ${SHIPPED_MODELS.join(', ')}.`,
      );
    }
  }
  if (names.length === 0) throw new CliError('--models: give at least one model name.');
  return names as ShippedModelName[];
}

/** `three-lnn assets`: copy the shipped models and the TF.js wasm binaries into a folder a site serves. */
export function assetsCommand(io: CliIO): Command {
  return new Command('assets')
    .description('copy the shipped models and the TF.js wasm binaries into a folder your site serves')
    .argument('<dir>', 'destination folder (created if missing), e.g. public/three-lnn')
    .option('--models <names>', `comma-separated shipped models (default: all: ${SHIPPED_MODELS.join(', ')})`)
    .option('--no-wasm', 'leave out the TF.js wasm binaries')
    .addHelpText('after', EXAMPLES)
    .action(async (dir: string, opts: { models?: string; wasm: boolean }) => {
      const models = opts.models === undefined ? undefined : modelList(opts.models);
      const files = packageAssets({ models, wasm: opts.wasm });
      const out = resolve(dir);
      for (const [rel, file] of files) {
        const target = join(out, ...rel.split('/'));
        try {
          await mkdir(dirname(target), { recursive: true });
          await copyFile(file, target);
        } catch (err) {
          throw new CliError(
            `<dir>: cannot write ${target} (${(err as NodeJS.ErrnoException).code ?? err}).`,
          );
        }
      }
      io.stdout(`copied ${files.size} files to ${out}\n`);
    });
}
