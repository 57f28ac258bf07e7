import type { EngineRoute } from '../src/index.js';
import type { Lane } from './Lane.js';
import { LEARNED_ENGINES } from './loadLane.js';

/** The route each running learned lane takes now (`Engine.describeRoute`), by lane key. */
export function laneRoutes(lanes: readonly Lane[]): Record<string, EngineRoute> {
  const out: Record<string, EngineRoute> = {};
  for (const lane of lanes) {
    const engine = lane.handle?.engine;
    if (LEARNED_ENGINES.has(lane.engineId) && engine?.describeRoute)
      out[lane.key] = engine.describeRoute(lane.batch);
  }
  return out;
}

/**
 * Pin each lane named in `routes` to its route (`Engine.pinRoute`), so a link replays a recorded run bit
 * for bit. Returns one line for every route this page cannot take: what the link asked for, why not,
 * and the route the lane takes instead. Lanes not running are skipped.
 */
export function pinLaneRoutes(
  lanes: readonly Lane[],
  routes: Readonly<Record<string, EngineRoute>>,
): { key: string; text: string }[] {
  const refused: { key: string; text: string }[] = [];
  for (const [key, route] of Object.entries(routes)) {
    const lane = lanes.find((l) => l.key === key);
    const engine = lane?.handle?.engine;
    if (!lane || !engine) continue;
    let why: string | null = null;
    if (!engine.pinRoute) why = `the ${lane.engineId} engine cannot pin a route`;
    else {
      try {
        engine.pinRoute(route);
      } catch (err) {
        why = (err as Error).message;
      }
    }
    if (why === null) continue;
    const now = engine.describeRoute?.(lane.batch);
    refused.push({
      key,
      text: `The link runs ${lane.label} on ${routeText(route)}, which is not available here (${why}); it runs on ${now ? routeText(now) : 'its own choice'} instead, so the run may differ from the recording.`,
    });
  }
  return refused;
}

/** `route <name> (<backend>, <precision>)`. */
function routeText(r: EngineRoute): string {
  return `route ${r.route} (${r.backend}, ${r.precision})`;
}
