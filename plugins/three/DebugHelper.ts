import {
  ArrowHelper,
  type ColorRepresentation,
  Group,
  Mesh,
  MeshBasicMaterial,
  SphereGeometry,
  Vector3,
} from 'three';
import { fixedPoints } from './fixedPoints.js';
import type { PhysicsSystem } from './PhysicsSystem.js';
import { TrailLine } from './TrailLine.js';

/** Options of {@link DebugHelper} (`physics.createDebugHelper(handle, options)`). */
export interface DebugHelperOptions {
  /**
   * Copy of the batch to annotate.
   * @default 0
   */
  index?: number;
  /**
   * Draw a trail behind each moving point.
   * @default true
   */
  trails?: boolean;
  /**
   * Samples kept per trail (one per `update`, i.e. per rendered frame).
   * @default 256
   */
  trailLength?: number;
  /**
   * Points that get a trail.
   * @default the last point only (the tip of a pendulum or chain)
   */
  trailPoints?: readonly number[];
  /**
   * Draw a velocity arrow at each moving point.
   * @default true
   */
  velocityArrows?: boolean;
  /**
   * Arrow length per unit speed (scene units per m/s).
   * @default 0.1
   */
  arrowScale?: number;
  /**
   * Mark the fixed points (pivots, string ends).
   * @default true
   */
  pivots?: boolean;
  /**
   * Colour of trails and arrows.
   * @default 0x66ccff
   */
  color?: ColorRepresentation;
}

const p = new Vector3();
const v = new Vector3();

/**
 * Debug drawing for one copy of a system: trails (fixed-size ring buffers), velocity arrows, pivot
 * markers, and ghosts (the same system under another engine, drawn translucent; added with
 * `physics.addGhost`). World-space coordinates: add it to the scene.
 * @example const debug = physics.createDebugHelper(dp); scene.add(debug);
 */
export class DebugHelper extends Group {
  /** The system annotated. */
  readonly system: PhysicsSystem;
  /** Copy annotated. */
  readonly index: number;
  /** One trail per entry of `trailPoints`. */
  readonly trails: TrailLine[] = [];
  /** One arrow per moving point. */
  readonly arrows: ArrowHelper[] = [];
  /** One marker per fixed point. */
  readonly pivots: Mesh[] = [];
  private readonly trailPoints: readonly number[];
  private readonly arrowPoints: readonly number[];
  private readonly pivotPoints: readonly number[];
  private readonly arrowScale: number;
  private readonly pivotGeometry = new SphereGeometry(0.03, 12, 8);
  private readonly pivotMaterial = new MeshBasicMaterial({ color: 0xffffff });

  constructor(system: PhysicsSystem, options: DebugHelperOptions = {}) {
    super();
    this.system = system;
    this.index = options.index ?? 0;
    system.checkIndex(this.index);
    const pc = system.system.pointCount;
    const fixed = fixedPoints(system.system, system.q0.subarray(0, system.system.dof));
    const moving = fixed.flatMap((f, i) => (f ? [] : [i]));
    const color = options.color ?? 0x66ccff;
    this.trailPoints = options.trails === false ? [] : (options.trailPoints ?? [pc - 1]);
    for (const t of this.trailPoints) system.checkPoint(t);
    this.arrowPoints = options.velocityArrows === false ? [] : moving;
    this.pivotPoints = options.pivots === false ? [] : fixed.flatMap((f, i) => (f ? [i] : []));
    this.arrowScale = options.arrowScale ?? 0.1;
    const trailLength = options.trailLength ?? 256;
    for (const _ of this.trailPoints) {
      const trail = new TrailLine(trailLength, color);
      this.trails.push(trail);
      this.add(trail);
    }
    for (const _ of this.arrowPoints) {
      const arrow = new ArrowHelper(new Vector3(1, 0, 0), new Vector3(), 1, color);
      this.arrows.push(arrow);
      this.add(arrow);
    }
    for (const _ of this.pivotPoints) {
      const marker = new Mesh(this.pivotGeometry, this.pivotMaterial);
      this.pivots.push(marker);
      this.add(marker);
    }
    this.name = `${system.name} debug`;
    this.update();
  }

  /**
   * Follow the system's current (interpolated) state.
   * @param sample whether to append a trail sample (`physics.step` passes false when the render time did
   *   not move, e.g. while paused)
   */
  update(sample = true): void {
    const { system, index } = this;
    if (sample) {
      this.trailPoints.forEach((point, k) => {
        system.position(index, point, p);
        this.trails[k].push(p.x, p.y, p.z);
      });
    }
    this.arrowPoints.forEach((point, k) => {
      const arrow = this.arrows[k];
      system.position(index, point, p);
      system.velocity(index, point, v);
      const speed = v.length();
      arrow.position.copy(p);
      arrow.visible = speed > 1e-9;
      if (arrow.visible) {
        arrow.setDirection(v.divideScalar(speed));
        const len = speed * this.arrowScale;
        arrow.setLength(len, Math.min(0.2 * len, 0.1), Math.min(0.1 * len, 0.05));
      }
    });
    this.pivotPoints.forEach((point, k) => {
      system.position(index, point, this.pivots[k].position);
    });
  }

  /** Free every geometry and material created here; remove from the parent. Idempotent. */
  override dispose(): void {
    for (const t of this.trails) t.dispose();
    for (const a of this.arrows) a.dispose();
    this.pivotGeometry.dispose();
    this.pivotMaterial.dispose();
    this.removeFromParent();
    super.dispose();
  }
}
