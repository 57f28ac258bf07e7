import { type Object3D, Vector3 } from 'three';
import type { BindingAxis } from './LNNPhysicsOptions.js';
import { PhysicsSystem } from './PhysicsSystem.js';

/**
 * The key of a three-lnn binding in `object.userData`: `mesh.userData.lnn = { system: 'dp', point: 2 }`.
 * Its own key, so that three.js's physics addons (`userData.physics = { mass, restitution }`) and three-lnn
 * can share a scene: `addScene` binds only objects that carry `userData.lnn`.
 */
export const BINDING_KEY = 'lnn';

/** A parsed, checked binding: what `place` reads every frame. */
export interface BoundMesh {
  readonly system: PhysicsSystem;
  readonly index: number;
  /** The point followed (point binding) or the first end (link binding). */
  readonly a: number;
  /** `alignTo` or the second end; −1 when the mesh is only positioned. */
  readonly b: number;
  /** Link binding: placed at the midpoint of `a` and `b` (else at `a`). */
  readonly midpoint: boolean;
  readonly axis: BindingAxis;
  readonly stretch: boolean;
  /** All points of the copy, `[pointCount * 3]`, reused every frame. */
  readonly points: Float64Array;
}

/** The shapes a binding may take, for error messages. */
const SHAPE =
  '{ system, point, index?, alignTo?, axis? } or { system, link: [a, b], index?, axis?, stretch? }';
const POINT_FIELDS = new Set(['system', 'point', 'index', 'alignTo', 'axis']);
const LINK_FIELDS = new Set(['system', 'link', 'index', 'axis', 'stretch']);
const UNIT: Readonly<Record<BindingAxis, Vector3>> = {
  x: new Vector3(1, 0, 0),
  y: new Vector3(0, 1, 0),
  z: new Vector3(0, 0, 1),
};
/** Shorter segments than this (in the parent's units) keep the last orientation and length. */
const MIN_LENGTH = 1e-9;

const pa = new Vector3();
const pb = new Vector3();
const dir = new Vector3();

/** A short one-line rendering of a user value for an error message. */
function show(value: unknown): string {
  let text: string;
  try {
    text =
      JSON.stringify(value, (_key, v: unknown) =>
        v !== null &&
        typeof v === 'object' &&
        !Array.isArray(v) &&
        Object.getPrototypeOf(v) !== Object.prototype
          ? `[${(v as object).constructor?.name ?? 'object'}]`
          : v,
      ) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * Check `binding` and resolve its system.
 * @param label prefix of every error message (names the mesh)
 * @param resolve finds a system of this physics world by handle or name (throws when there is none)
 * @throws Error (one line) naming the mesh, what is wrong and the expected shape
 */
export function parseBinding(
  binding: unknown,
  label: string,
  resolve: (system: PhysicsSystem | string) => PhysicsSystem,
): BoundMesh {
  const fail = (what: string): never => {
    throw new Error(`${label}: ${what}; a binding is ${SHAPE}, got ${show(binding)}`);
  };
  if (binding === null || typeof binding !== 'object' || Array.isArray(binding)) fail('not an object');
  const b = binding as Record<string, unknown>;
  const hasPoint = b.point !== undefined;
  const hasLink = b.link !== undefined;
  if (hasPoint === hasLink) fail(hasPoint ? 'give point or link, not both' : 'point or link is missing');
  const allowed = hasLink ? LINK_FIELDS : POINT_FIELDS;
  for (const key of Object.keys(b)) {
    if (!allowed.has(key)) fail(`unknown field '${key}' for a ${hasLink ? 'link' : 'point'} binding`);
  }
  const s = b.system;
  let system: PhysicsSystem;
  if (s instanceof PhysicsSystem) system = resolve(s);
  else if (typeof s === 'string') system = resolve(s);
  else if (s !== null && typeof s === 'object' && typeof (s as { name?: unknown }).name === 'string') {
    system = resolve((s as { name: string }).name);
  } else return fail('binding.system must be a system name or handle');
  const axis = (b.axis ?? 'y') as BindingAxis;
  if (!Object.hasOwn(UNIT, axis)) fail(`binding.axis must be 'x', 'y' or 'z'`);
  if (b.stretch !== undefined && typeof b.stretch !== 'boolean') fail('binding.stretch must be a boolean');
  const index = (b.index ?? 0) as number;
  let a: number;
  let end: number;
  if (hasLink) {
    const link = b.link;
    if (!Array.isArray(link) || link.length !== 2)
      return fail('binding.link must be two point indices [a, b]');
    [a, end] = link as number[];
    if (a === end) fail('binding.link needs two different points');
  } else {
    a = b.point as number;
    end = b.alignTo === undefined ? -1 : (b.alignTo as number);
    if (end === a) fail('binding.alignTo must be another point than binding.point');
  }
  try {
    system.checkPoint(a);
    if (hasLink || b.alignTo !== undefined) system.checkPoint(end);
    system.checkIndex(index);
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}`);
  }
  return {
    system,
    index,
    a,
    b: end,
    midpoint: hasLink,
    axis,
    stretch: b.stretch === true,
    points: new Float64Array(system.system.pointCount * 3),
  };
}

/**
 * Place `mesh` as its binding says, from the interpolated render state: position at the point (or at the
 * link's midpoint) and, for an orienting binding, the quaternion (and with `stretch` the scale along the
 * axis). Points are in world space; a mesh whose parent sits inside another object gets them in its parent's
 * frame (the convention of every bound mesh). Allocates nothing.
 */
export function placeMesh(mesh: Object3D, bound: BoundMesh): void {
  const p = bound.system.points3(bound.index, bound.points);
  const parent = mesh.parent;
  const local = parent !== null && parent.parent !== null;
  // Positions are world space; a mesh inside a transformed group needs them in its parent's frame.
  if (local) parent.updateWorldMatrix(true, false);
  let k = 3 * bound.a;
  pa.set(p[k], p[k + 1], p[k + 2]);
  if (local) parent.worldToLocal(pa);
  if (bound.b < 0) {
    mesh.position.copy(pa);
    return;
  }
  k = 3 * bound.b;
  pb.set(p[k], p[k + 1], p[k + 2]);
  if (local) parent.worldToLocal(pb);
  if (bound.midpoint) mesh.position.addVectors(pa, pb).multiplyScalar(0.5);
  else mesh.position.copy(pa);
  dir.subVectors(pb, pa);
  const length = dir.length();
  // A zero-length (or non-finite) segment has no direction: keep the last orientation and length.
  if (!(length > MIN_LENGTH && Number.isFinite(length))) return;
  mesh.quaternion.setFromUnitVectors(UNIT[bound.axis], dir.divideScalar(length));
  if (bound.stretch) mesh.scale[bound.axis] = length;
}
