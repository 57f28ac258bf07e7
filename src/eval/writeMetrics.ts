import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvaluationReport } from './evaluateModel.js';

/**
 * Record an evaluation in a model directory's `model.json` (`userDefinedMetadata.threeLnn.metrics`):
 * full runs merge into `metrics`, quick runs replace `metrics.quick`. A full run of a model with a mass
 * matrix also records its `massScale` (what learned engines scale forces by). Node only.
 * @param modelDir directory holding model.json
 * @example writeMetrics('assets/models/double-pendulum-lnn', report);
 */
export function writeMetrics(modelDir: string, report: EvaluationReport): void {
  const path = modelDir.endsWith('.json') ? modelDir : join(modelDir, 'model.json');
  const json = JSON.parse(readFileSync(path, 'utf8')) as {
    userDefinedMetadata: { threeLnn: { metrics?: Record<string, unknown>; massScale?: unknown } };
  };
  const meta = json.userDefinedMetadata.threeLnn;
  const metrics = meta.metrics ?? {};
  const stamp = {
    evaluator: `three-lnn eval (${report.backend})`,
    date: new Date().toISOString().slice(0, 10),
  };
  const tagged = Object.fromEntries(Object.entries(report.metrics).map(([k, v]) => [k, { ...v, ...stamp }]));
  if (report.quick) metrics.quick = tagged;
  else Object.assign(metrics, tagged);
  meta.metrics = metrics;
  if (report.massScale !== undefined) meta.massScale = report.massScale;
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
}
