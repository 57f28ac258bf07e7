/**
 * The app's shareable state, kept in the page's query string so a view can be shared as a link.
 * Only plain numbers and short strings; a typed Lagrangian travels as text and is parsed (never run).
 */
export interface AppUrlState {
  /** Scene id. */
  scene?: string;
  /** Scene option values (`o.<name>` in the URL). */
  options: Record<string, string>;
  /** Initial q override, `[dof]`. */
  q0?: number[];
  /** Initial q̇ override, `[dof]`. */
  qd0?: number[];
  dt?: number;
  substeps?: number;
  integrator?: string;
  timeScale?: number;
  layout?: 'side' | 'overlay';
  trails?: boolean;
  /** Lanes switched off. */
  off: string[];
  /** Model override per lane key (`m.<key>` in the URL). */
  models: Record<string, string>;
  /** System parameter overrides (`p.<name>` in the URL), applied to every lane of a registry system. */
  params: Record<string, number>;
  /** TF.js backend choice. */
  backend?: string;
  /** Coordinate in the phase portrait. */
  phase?: number;
  /** Start paused. */
  paused?: boolean;
}

function num(v: string | null): number | undefined {
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function nums(v: string | null): number[] | undefined {
  if (!v) return undefined;
  const parts = v.split(',').map(Number);
  return parts.every(Number.isFinite) ? parts : undefined;
}

/** Read the state from a query string (missing or malformed entries are left undefined). */
export function parseUrlState(search: string): AppUrlState {
  const p = new URLSearchParams(search);
  const options: Record<string, string> = {};
  const models: Record<string, string> = {};
  const params: Record<string, number> = {};
  for (const [k, v] of p) {
    if (k.startsWith('o.')) options[k.slice(2)] = v;
    if (k.startsWith('m.')) models[k.slice(2)] = v;
    if (k.startsWith('p.') && num(v) !== undefined) params[k.slice(2)] = num(v)!;
  }
  const layout = p.get('layout');
  return {
    scene: p.get('scene') ?? undefined,
    options,
    q0: nums(p.get('q0')),
    qd0: nums(p.get('qd0')),
    dt: num(p.get('dt')),
    substeps: num(p.get('sub')),
    integrator: p.get('int') ?? undefined,
    timeScale: num(p.get('speed')),
    layout: layout === 'overlay' || layout === 'side' ? layout : undefined,
    trails: p.has('trails') ? p.get('trails') !== '0' : undefined,
    off: (p.get('off') ?? '').split(',').filter(Boolean),
    models,
    params,
    backend: p.get('backend') ?? undefined,
    phase: num(p.get('phase')),
    paused: p.get('paused') === '1' ? true : undefined,
  };
}

/** Write the state as a query string (`?…`), omitting undefined entries. */
export function formatUrlState(s: AppUrlState): string {
  const p = new URLSearchParams();
  if (s.scene) p.set('scene', s.scene);
  for (const [k, v] of Object.entries(s.options)) p.set(`o.${k}`, v);
  if (s.q0) p.set('q0', s.q0.map(fmt).join(','));
  if (s.qd0) p.set('qd0', s.qd0.map(fmt).join(','));
  if (s.dt !== undefined) p.set('dt', fmt(s.dt));
  if (s.substeps !== undefined) p.set('sub', String(s.substeps));
  if (s.integrator) p.set('int', s.integrator);
  if (s.timeScale !== undefined && s.timeScale !== 1) p.set('speed', fmt(s.timeScale));
  if (s.layout) p.set('layout', s.layout);
  if (s.trails === false) p.set('trails', '0');
  if (s.off.length) p.set('off', s.off.join(','));
  for (const [k, v] of Object.entries(s.models)) p.set(`m.${k}`, v);
  for (const [k, v] of Object.entries(s.params)) p.set(`p.${k}`, fmt(v));
  if (s.backend && s.backend !== 'auto') p.set('backend', s.backend);
  if (s.phase) p.set('phase', String(s.phase));
  if (s.paused) p.set('paused', '1');
  const q = p.toString();
  return q ? `?${q}` : '';
}

/** Shortest decimal that round-trips the float64 exactly (a shared view reproduces the same run). */
function fmt(x: number): string {
  return String(x);
}
