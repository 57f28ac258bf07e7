import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import {
  createSystem,
  defineScene,
  ModelFormatError,
  runScene,
  type Scene,
  SceneError,
} from '../../src/index.js';
import { CliError, EXIT_FAILURE } from '../CliError.js';
import { type CliIO, readCappedFile, writeResult } from '../io.js';
import {
  DEFAULT_MAX_INPUT_BYTES,
  DEFAULT_MAX_SCENE_OUTPUT_VALUES,
  listIndices,
  maxInputBytesOption,
  maxOutputValuesOption,
  maxStepsOption,
  overLimit,
  show,
} from '../limits.js';
import { positiveNumber, tidyNumber } from '../parse.js';
import { loadEngine } from '../setup.js';

/** Parsed options of `three-lnn scene`. */
interface SceneOptions {
  duration?: number;
  out?: string;
  pretty?: boolean;
  outsideTraining?: boolean;
  maxInputBytes: number;
  maxSteps: number;
  maxOutputValues: number;
}

/** Degrees of freedom and point count of a scene system, or undefined when it cannot be built (the run reports why). */
function shapeOf(system: Scene['systems'][number]): { dof: number; points: number } | undefined {
  try {
    const sys =
      typeof system.system === 'string' ? createSystem(system.system, system.params ?? {}) : system.system;
    return { dof: sys.dof, points: sys.pointCount };
  } catch {
    return undefined;
  }
}

/**
 * Check the work and the recordings of a scene run against the limits before it starts.
 * @throws CliError naming the limit and its flag
 */
function checkSceneLimits(scene: Scene, steps: number, opts: SceneOptions): void {
  const copies = scene.systems.reduce((n, s) => n + (s.count ?? 1), 0);
  if (steps * copies > opts.maxSteps) {
    throw overLimit(
      `scene '${scene.name}' (${show(steps)} steps × ${show(copies)} copies)`,
      steps * copies,
      '--max-steps',
      opts.maxSteps,
      'shorten --duration or the scene, or take a larger dt',
      'steps',
    );
  }
  const byId = new Map(scene.systems.map((s) => [s.id, s]));
  const shapes = new Map<string, { dof: number; points: number } | undefined>();
  let values = 0;
  for (const r of scene.recorders) {
    const target = byId.get(r.target);
    if (!target) continue;
    if (!shapes.has(r.target)) shapes.set(r.target, shapeOf(target));
    const shape = shapes.get(r.target);
    if (!shape) continue;
    const perCopy = r.quantities.reduce(
      (n, q) => n + (q === 'q' || q === 'qd' ? shape.dof : q === 'positions' ? 3 * shape.points : 1),
      0,
    );
    values += (Math.floor(steps / r.every) + 1) * ((target.count ?? 1) * perCopy + 2);
  }
  if (values > opts.maxOutputValues) {
    throw overLimit(
      `what scene '${scene.name}' would record`,
      values,
      '--max-output-values',
      opts.maxOutputValues,
      "record less often (a recorder's every), fewer quantities or copies, or shorten --duration",
      'numbers',
    );
  }
}

const EXAMPLES = `
Examples:
  $ three-lnn scene scenes/kick.ts --duration 10 --out run.json
  $ three-lnn scene my-scene.json
  $ three-lnn scene my-moon-scene.ts --outside-training   # learned systems on params they were not trained on

A learned system whose params differ from its model's training values is refused unless the scene
system sets outsideTraining: 'run' or --outside-training is given (as the app runs scenes).

The file is a module whose default export is a scene (see docs/scenes.md), or a JSON scene.
Output: {"format":"three-lnn/scene-run","scene","dt","duration","steps","systems","events","failures",
"recordings":{name:{"t":[T],"q":[T][count][n],"qd":…,"energy":[T][count],"positions":[T][count][3·points]}}}
A scene system may declare forces: { damping, constant }, and impulse events a generalized impulse p or a
point impulse point/J; recorders then take "work" and "ledger" (E − E(0) − W) as [T][count].`;

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

/**
 * Load a scene file: the default export of a JS/TS module, or a JSON document of at most `maxBytes`
 * bytes.
 */
async function loadSceneFile(file: string, maxBytes: number = DEFAULT_MAX_INPUT_BYTES): Promise<unknown> {
  const path = resolve(file);
  if (extname(path) === '.json') {
    const text = await readCappedFile(file, '<file>', maxBytes);
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
    .option(
      '--outside-training',
      "run learned systems on params other than their model's training values, with a warning, as the app does (a scene system's own outsideTraining still wins); without it they are refused",
    )
    .addOption(maxInputBytesOption())
    .addOption(maxStepsOption('counted over the copies (steps × copies)'))
    .addOption(
      maxOutputValuesOption(
        'summed over the recorders (records × (copies × values per copy + 2))',
        DEFAULT_MAX_SCENE_OUTPUT_VALUES,
      ),
    )
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, opts: SceneOptions) => {
      const raw = await loadSceneFile(file, opts.maxInputBytes);
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
      const ratio = (opts.duration ?? scene.duration) / scene.dt;
      checkSceneLimits(scene, Math.round(ratio), opts);
      for (const s of scene.systems) await loadEngine(s.engine ?? 'analytic');
      let run: Awaited<ReturnType<typeof runScene>>;
      try {
        run = await runScene(scene, {
          ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
          // The app's way: every learned engine runs outside its training values unless its system says otherwise.
          ...(opts.outsideTraining ? { engineDefaults: { outsideTraining: 'run' as const } } : {}),
        });
      } catch (err) {
        if (err instanceof SceneError) {
          const cause = err.cause;
          const hint =
            cause instanceof ModelFormatError && cause.problem === 'param-mismatch'
              ? " For three-lnn scene: add --outside-training, or set outsideTraining: 'run' on the scene system."
              : '';
          throw new CliError(`${file}: ${err.message}${hint}`);
        }
        throw err;
      }
      await writeResult(io, JSON.stringify(run, null, opts.pretty ? 2 : undefined) + '\n', opts.out);
      if (run.failures.length > 0) {
        const f = run.failures[0];
        const n = run.failures.length;
        const copies = listIndices(
          run.failures.map((x) => `'${x.target}'[${x.index}]`),
          n,
        );
        throw new CliError(
          `${show(n)} cop${n === 1 ? 'y' : 'ies'} stopped on a non-finite state (${copies}), the first ` +
            `at t = ${f.t} s (${f.reason}); each was frozen at its last finite state and ` +
            `the full run was written${opts.out ? ` to ${opts.out}` : ''}.`,
          EXIT_FAILURE,
        );
      }
    });
}
