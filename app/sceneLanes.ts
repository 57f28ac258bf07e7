import { engineColor, engineLabels } from '../scenes/palette.js';
import { listSystems, type SceneDefinition, type SceneSystem, systemFrom } from '../src/index.js';
import { Lane } from './Lane.js';
import type { AppUrlState } from './urlState.js';

/**
 * The lanes of a scene, one per system of its definition, with the link's overrides applied: system
 * parameters (`p.*`), models (`m.*`), lanes switched off (`off`) and the initial state (`q0`, `qd0`, for
 * every lane of matching dof and batch 1).
 */
export function sceneLanes(def: SceneDefinition, url: AppUrlState): Lane[] {
  const lanes = def.systems.map((sys) => makeLane(sys, url));
  for (const lane of lanes) lane.enabled = !url.off.includes(lane.key);
  const { q0, qd0 } = url;
  if (!q0 && !qd0) return lanes;
  for (const lane of lanes) {
    const dof = lane.system.dof;
    const q = q0 && q0.length === dof ? q0 : Array.from(lane.q0.subarray(0, dof));
    const qd = qd0 && qd0.length === dof ? qd0 : Array.from(lane.qd0.subarray(0, dof));
    if (lane.batch === 1) lane.setInitial(q, qd);
  }
  return lanes;
}

function makeLane(sys: SceneSystem, url: AppUrlState): Lane {
  // Parameter overrides from the GUI / URL apply to a registered system, for the parameters it has.
  const id = sys.system;
  const specs = typeof id === 'string' ? (listSystems().find((x) => x.id === id)?.params ?? []) : [];
  const extra = Object.fromEntries(
    Object.entries(url.params).filter(([k]) => specs.some((p) => p.name === k && !p.integer)),
  );
  const params = { ...(sys.params ?? {}), ...extra };
  const system = systemFrom(sys.system, Object.keys(params).length > 0 ? params : undefined, 'scene');
  const engine = sys.engine ?? 'analytic';
  const lane = new Lane({
    key: sys.id,
    engine,
    label: sys.view?.label ?? engineLabels[engine] ?? sys.id,
    color: sys.view?.color ?? engineColor(engine),
    system,
    batch: sys.count ?? 1,
    model: url.models[sys.id] ?? modelName(sys.model),
  });
  lane.setInitial(flatten(sys.q0, system.dof), flatten(sys.qd0, system.dof));
  return lane;
}

/** Model name from a scene's model path/URL (`assets/models/<name>` or `/models/<name>/`). */
function modelName(model: string | undefined): string | undefined {
  if (!model) return undefined;
  const parts = model.replace(/\/+$/, '').split('/');
  return parts[parts.length - 1] || undefined;
}

/** A flat `[count * dof]` array from `[dof]` or `[count][dof]`. */
function flatten(v: SceneSystem['q0'], dof: number): number[] {
  if (!v || v.length === 0) return new Array(dof).fill(0);
  if (typeof v[0] === 'number') return v as number[];
  return (v as number[][]).flat();
}
