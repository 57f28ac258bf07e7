import { type Command, Option } from 'commander';
import { INTEGRATOR_IDS } from '../src/index.js';
import { modelPath, paramsJson } from './parse.js';

/** Options shared by the commands that build a system and an engine (`rollout`, `accel`). */
export interface PhysicsOptions {
  system: string;
  engine: string;
  model?: string;
  params?: Record<string, number>;
  backend?: string;
  outsideTraining?: boolean;
}

/** Add `--system`, `--engine`, `--model`, `--params`, `--outside-training` and `--backend` to `cmd`. */
export function addPhysicsOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--system <id>', "system id (see 'three-lnn systems'), e.g. double-pendulum")
    .requiredOption('--engine <engine>', 'engine: analytic | lagrangian | cannon | lnn | baseline | lgn')
    .option(
      '--model <dir>',
      'trained model directory (model.json + weights) or shipped model name (double-pendulum-lnn, …) for the learned engines',
      modelPath,
    )
    .option('--params <json>', 'system parameter overrides as a JSON object, e.g. \'{"g":1.62}\'', paramsJson)
    .option(
      '--outside-training',
      'run a learned model on --params other than its training values (with a warning); without it they are refused',
    )
    .addOption(
      new Option(
        '--backend <name>',
        "TF.js backend of a learned engine (default: the engine's choice)",
      ).choices(BACKENDS),
    );
}

/** Backends a learned engine accepts (`js`: plain float32 JavaScript; `auto`: the engine picks). */
const BACKENDS = ['wasm', 'cpu', 'webgl', 'js', 'auto'];

/** The `--integrator` option with its valid choices. */
export function integratorOption(): Option {
  return new Option('--integrator <id>', 'fixed-step integrator').choices(INTEGRATOR_IDS).default('rk4');
}
