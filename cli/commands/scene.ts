import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { CliError, EXIT_FAILURE } from '../CliError.js';
import { type CliIO, writeResult } from '../io.js';
import { positiveNumber, tidyNumber } from '../parse.js';
import { ensureEngine } from '../setup.js';

/** Parsed options of `three-lnn scene`. */
interface SceneOptions {
  duration?: number;
  out?: string;
  pretty?: boolean;
}

const EXAMPLES = `
Examples:
  $ three-lnn scene scenes/kick.ts --duration 10 --out run.json
  $ three-lnn scene my-scene.json

The file is a module whose default export is a scene (see docs/scenes.md), or a JSON scene.
Output: {"format":"three-lnn/scene-run","scene","dt","duration","steps","systems","events","failures",
"recordings":{name:{"t":[T],"q":[T][count][n],"qd":…,"energy":[T][count],"positions":[T][count][3·points]}}}`;

/**
 * Let `import()` load TypeScript scene files: tsx's loader when tsx is installed (a development dependency
 * of most TypeScript projects); without it, Node versions that strip types load them on their own.
 */
async function registerTypeScriptLoader(): Promise<void> {
  try {
    const tsx = (await import(/* @vite-ignore */ TSX_API)) as { register(): unknown };
    tsx.register();
  } catch {
    // No tsx: the import below reports what to do if Node cannot load the file itself.
  }
}

/** tsx's loader API, an optional dependency; named through a variable so tsc needs no types for it. */
const TSX_API = 'tsx/esm/api';

/** Load a scene file: the default export of a JS/TS module, or a JSON document. */
async function loadSceneFile(file: string): Promise<unknown> {
  const path = resolve(file);
  if (extname(path) === '.json') {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new CliError(`<file>: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? err}).`);
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new CliError(`<file>: '${file}' is not valid JSON (${(err as Error).message}).`);
    }
  }
  const typescript = /\.[mc]?ts$/.test(path);
  if (typescript) await registerTypeScriptLoader();
  let mod: { default?: unknown; scene?: unknown };
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typescript && e.code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new CliError(
        `<file>: '${file}' is TypeScript, which this Node (${process.version}) cannot load by itself: install tsx next to three-lnn (npm i -D tsx), use Node ≥ 22.18, or write the scene as .js, .mjs or .json.`,
      );
    }
    if (e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(path)) {
      throw new CliError(
        `<file>: '${file}' does not exist. Give a scene module (.ts, .mts, .js, .mjs) or .json.`,
      );
    }
    throw new CliError(`<file>: loading '${file}' failed: ${e.message}`, EXIT_FAILURE);
  }
  const scene = mod.default ?? mod.scene;
  if (scene === undefined) {
    throw new CliError(
      `<file>: '${file}' has no default export; end it with 'export default defineScene({ … })'.`,
    );
  }
  return scene;
}

/** `three-lnn scene`: run a scripted scene headless and write its recordings. */
export function sceneCommand(io: CliIO): Command {
  return new Command('scene')
    .description('run a scripted scene headless and write its recordings as JSON')
    .argument('<file>', 'scene module (.ts/.js exporting the scene as default) or .json scene')
    .option('--duration <s>', "simulated time in seconds (a whole number of the scene's dt)", positiveNumber)
    .option('--out <file>', 'write the run to a file instead of standard output')
    .option('--pretty', 'indent the JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, opts: SceneOptions) => {
      const { defineScene, runScene, SceneError } = await import('../../src/scene/index.js');
      const raw = await loadSceneFile(file);
      let scene: ReturnType<typeof defineScene>;
      try {
        scene = defineScene(raw as Parameters<typeof defineScene>[0]);
      } catch (err) {
        throw new CliError(`${file}: ${(err as Error).message}`);
      }
      if (opts.duration !== undefined) {
        const ratio = opts.duration / scene.dt;
        if (Math.abs(ratio - Math.round(ratio)) > 1e-9 * Math.max(1, ratio)) {
          const lo = Math.max(1, Math.floor(ratio));
          throw new CliError(
            `--duration ${opts.duration} is not a whole number of the scene's dt = ${scene.dt} steps; ` +
              `the nearest valid durations are ${tidyNumber(lo * scene.dt)} and ${tidyNumber((lo + 1) * scene.dt)}.`,
          );
        }
      }
      for (const s of scene.systems) await ensureEngine(s.engine ?? 'analytic');
      let run: Awaited<ReturnType<typeof runScene>>;
      try {
        run = await runScene(scene, opts.duration !== undefined ? { duration: opts.duration } : {});
      } catch (err) {
        if (err instanceof SceneError) throw new CliError(`${file}: ${err.message}`);
        throw err;
      }
      await writeResult(io, JSON.stringify(run, null, opts.pretty ? 2 : undefined) + '\n', opts.out);
      if (run.failures.length > 0) {
        const f = run.failures[0];
        throw new CliError(
          `${run.failures.length} cop${run.failures.length === 1 ? 'y' : 'ies'} stopped on a non-finite state, the first ` +
            `'${f.target}'[${f.index}] at t = ${f.t} s (${f.reason}); each was frozen at its last finite state and ` +
            `the full run was written${opts.out ? ` to ${opts.out}` : ''}.`,
          EXIT_FAILURE,
        );
      }
    });
}
