/**
 * three-lnn/gui: lil-gui adapters for the core objects — a World's clock, a system's parameters and the
 * TF.js backend in use.
 * @example
 * import GUI from 'lil-gui';
 * import { worldControls } from 'three-lnn/gui';
 * worldControls(new GUI(), world, { dt: 1 / 120 });
 */
export { type BackendInfo, backendInfo } from './backendInfo.js';
export { type ParamControlsOptions, paramControls } from './paramControls.js';
export {
  type ClockLike,
  type WorldControls,
  type WorldControlsOptions,
  worldControls,
} from './worldControls.js';
