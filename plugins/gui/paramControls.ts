import type GUI from 'lil-gui';
import type { ParamSpec } from '../../src/index.js';

/** Options of {@link paramControls}. */
export interface ParamControlsOptions {
  /** Folder title. @default 'Parameters' */
  title?: string;
  /** Slider range used where a spec has no bound: [default / span, default · span]. @default 4 */
  span?: number;
  /** Called with the full parameter set after a slider is released. */
  onChange: (params: Record<string, number>) => void;
}

/**
 * Sliders for a system's parameters, built from its {@link ParamSpec} list (defaults, bounds, integer
 * flags and docs become the sliders' ranges, steps and tooltips). Invalid combinations are left to the
 * system's own validation, which throws a clear Error.
 * @example paramControls(gui, DoublePendulum.paramSpecs, system.params, { onChange: (p) => rebuild(p) });
 */
export function paramControls(
  gui: GUI,
  specs: readonly ParamSpec[],
  values: Readonly<Record<string, number>>,
  options: ParamControlsOptions,
): GUI {
  const folder = gui.addFolder(options.title ?? 'Parameters');
  const state: Record<string, number> = { ...values };
  const span = options.span ?? 4;
  for (const spec of specs) {
    const d = spec.default;
    const base = Math.abs(d) > 0 ? Math.abs(d) : 1;
    let lo = spec.min ?? (spec.positive ? base / span : -base * span);
    let hi = spec.max ?? base * span;
    if (spec.integer) {
      lo = Math.ceil(lo);
      hi = Math.min(Math.floor(hi), Math.max(Math.ceil(lo) + 1, Math.round(base * span)));
    }
    const step = spec.integer ? 1 : (hi - lo) / 200;
    const ctl = folder
      .add(state, spec.name, lo, hi, step)
      .name(spec.name)
      .onFinishChange(() => options.onChange({ ...state }));
    ctl.domElement.title = spec.doc;
  }
  return folder;
}
