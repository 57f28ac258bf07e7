import {
  type BufferGeometry,
  Color,
  type ColorRepresentation,
  InstancedMesh,
  type Material,
  Matrix4,
  MeshStandardMaterial,
  SphereGeometry,
} from 'three';
import { fixedPoints } from './fixedPoints.js';
import type { PhysicsSystem } from './PhysicsSystem.js';

/** Options of {@link InstancedBobs} (`physics.createInstancedBobs(handle, options)`). */
export interface InstancedBobsOptions {
  /**
   * Points drawn for every copy (indices into `system.positions`).
   * @default the moving points (pivots and fixed ends left out)
   */
  points?: readonly number[];
  /**
   * Sphere radius, in scene units (ignored when `geometry` is given).
   * @default 0.05
   */
  radius?: number;
  /**
   * One colour for all, or a colour per instance: `(copy, point) => colour`.
   * @default 0xffffff (the material's colour then shows)
   */
  color?: ColorRepresentation | ((copy: number, point: number) => ColorRepresentation);
  /**
   * Opacity; below 1 the material is transparent (ghosts).
   * @default 1
   */
  opacity?: number;
  /**
   * Geometry of one bob (the caller keeps ownership: not disposed).
   * @default a sphere of `radius`
   */
  geometry?: BufferGeometry;
  /**
   * Material of the bobs (the caller keeps ownership: not disposed).
   * @default a MeshStandardMaterial
   */
  material?: Material;
}

const m = new Matrix4();

/**
 * Every copy of a batched system drawn as ONE InstancedMesh: instance `copy * points.length + k` is point
 * `points[k]` of copy `copy`, placed at the interpolated state. Thousands of double pendulums cost one draw
 * call. Coordinates are world space.
 * @example scene.add(physics.createInstancedBobs(fan, { radius: 0.03, color: (i) => new Color().setHSL(i / 1000, 1, 0.5) }));
 */
export class InstancedBobs extends InstancedMesh {
  /** The system drawn. */
  readonly system: PhysicsSystem;
  /** Points drawn per copy. */
  readonly pointIndices: readonly number[];
  private readonly pts: Float64Array;
  private readonly ownsGeometry: boolean;
  private readonly ownsMaterial: boolean;

  constructor(system: PhysicsSystem, options: InstancedBobsOptions = {}) {
    const fixed = fixedPoints(system.system, system.q0.subarray(0, system.system.dof));
    const points = options.points ?? fixed.flatMap((f, i) => (f ? [] : [i]));
    for (const p of points) system.checkPoint(p);
    const radius = options.radius ?? 0.05;
    if (!(radius > 0)) throw new Error(`InstancedBobs: radius must be > 0, got ${radius}`);
    const opacity = options.opacity ?? 1;
    const geometry = options.geometry ?? new SphereGeometry(radius, 16, 12);
    const material =
      options.material ??
      new MeshStandardMaterial({ transparent: opacity < 1, opacity, depthWrite: opacity >= 1 });
    super(geometry, material, system.count * points.length);
    this.system = system;
    this.pointIndices = points;
    this.pts = new Float64Array(system.system.pointCount * 3);
    this.ownsGeometry = options.geometry === undefined;
    this.ownsMaterial = options.material === undefined;
    this.frustumCulled = false;
    this.name = `${system.name} bobs`;
    const color = options.color;
    if (color !== undefined) {
      const c = new Color();
      for (let i = 0; i < system.count; i++) {
        for (let k = 0; k < points.length; k++) {
          c.set(typeof color === 'function' ? color(i, points[k]) : color);
          this.setColorAt(i * points.length + k, c);
        }
      }
    }
    this.update();
  }

  /** Move every instance to its point's current (interpolated) position. */
  update(): void {
    const { pts, pointIndices } = this;
    const per = pointIndices.length;
    for (let i = 0; i < this.system.count; i++) {
      this.system.points3(i, pts);
      for (let k = 0; k < per; k++) {
        const p = 3 * pointIndices[k];
        m.makeTranslation(pts[p], pts[p + 1], pts[p + 2]);
        this.setMatrixAt(i * per + k, m);
      }
    }
    this.instanceMatrix.needsUpdate = true;
  }

  /**
   * Free the instance buffers and what was created here; remove from the parent. Idempotent. Returns `this`
   * (three ≤ 0.186 declares `InstancedMesh.dispose(): this`, later versions `void`; this fits both).
   */
  override dispose(): this {
    if (this.ownsGeometry) this.geometry.dispose();
    if (this.ownsMaterial) (this.material as Material).dispose();
    this.removeFromParent();
    super.dispose();
    return this;
  }
}
