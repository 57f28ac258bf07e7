import type * as THREE from 'three';

/**
 * A view of its own for a 3D scene (besides the rig and field views): the app adds `group` to the stage,
 * calls `update` every frame, `reset` after a restart and `dispose` when the scene closes; the stage frames
 * `bounds()` from the scene camera's direction, over a ground plane with shadows.
 */
export interface View3D {
  readonly group: THREE.Group;
  /** The region the lanes occupy, labels included (world units). */
  bounds(): THREE.Box3;
  /** Move every mesh to the lanes' render-time states; `t` is the simulated time. */
  update(t: number): void;
  /** Forget history (after a restart or a jump in the timeline). */
  reset(): void;
  /** Free geometries, materials and labels. */
  dispose(): void;
  /** The lanes' label objects, in lane order (the stage keeps neighbouring labels from overlapping). */
  readonly labels: readonly THREE.Object3D[];
  /** What a test can check: the view's kind, instances drawn per lane, and a checksum of the drawn vertices. */
  probe(): { kind: string; instances: Record<string, number>; vertexSum: Record<string, number> };
}
