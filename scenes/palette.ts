/** Colours of the engines, the same in every scene, plot and legend. */
export const engineColors: Readonly<Record<string, string>> = {
  analytic: '#e5e7eb',
  lagrangian: '#a3e635',
  cannon: '#fb923c',
  lnn: '#22d3ee',
  baseline: '#f472b6',
  lgn: '#34d399',
};

/** Human labels of the engines. */
export const engineLabels: Readonly<Record<string, string>> = {
  analytic: 'Exact (closed form)',
  lagrangian: 'Exact (Euler–Lagrange)',
  cannon: 'cannon-es',
  lnn: 'LNN (learned L)',
  baseline: 'Black-box net',
  lgn: 'Graph LNN',
};

/** Colour of an engine id (grey for unknown ones). */
export function engineColor(engine: string): string {
  return engineColors[engine] ?? '#9ca3af';
}
