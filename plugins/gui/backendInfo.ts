import type GUI from 'lil-gui';

/** What {@link backendInfo} shows. */
export interface BackendInfo {
  /** Active TF.js backend, e.g. `webgl`. */
  name: string;
  /** Float precision learned engines compute in. */
  precision: string;
  /** Why another backend than the requested one is active, if so. */
  fallbackReason?: string | null;
}

/**
 * Read-only controllers showing the active TF.js backend and its float precision, with the fallback
 * reason as a tooltip.
 * @example backendInfo(gui, { name: tf.getBackend(), precision: 'float32' });
 */
export function backendInfo(gui: GUI, info: BackendInfo): { update(info: BackendInfo): void } {
  const view = { backend: info.name, precision: info.precision };
  const b = gui.add(view, 'backend').name('TF.js backend').disable();
  const p = gui.add(view, 'precision').name('TF.js precision').disable();
  const apply = (i: BackendInfo) => {
    view.backend = i.fallbackReason ? `${i.name} (fallback)` : i.name;
    view.precision = i.precision;
    b.domElement.title = i.fallbackReason ?? '';
    b.updateDisplay();
    p.updateDisplay();
  };
  apply(info);
  return { update: apply };
}
