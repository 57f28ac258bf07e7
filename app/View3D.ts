import * as THREE from 'three';
import type { SystemHandle, World } from '../src/index.js';
import type { Lane } from './Lane.js';

/**
 * A view of its own for a 3D scene (besides the rig and field views): the app adds `group` to the stage,
 * calls `update` every frame, `reset` after a restart and `dispose` when the scene closes; the stage frames
 * `bounds()` from the scene camera's direction, over a ground plane with shadows. A view whose bodies can
 * be dragged implements `pick`, `edit` and `pointOf` ({@link ViewDrag} drives them).
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
  /** The drawn body the ray hits first (a THREE.Raycaster on the view's meshes), or null. */
  pick?(raycaster: THREE.Raycaster): ViewGrab | null;
  /**
   * The state edit that moves the grabbed body to the pointer's ray, clamped to the system's valid
   * domain (never refused: a pointer outside it gives the nearest valid edit); null when the ray is
   * unusable (parallel to the drag surface).
   */
  edit?(grab: ViewGrab, ray: THREE.Ray): StateEdit | null;
  /** World position of point `point` of copy `copy` of a lane as drawn now, or null when not drawn. */
  pointOf?(laneKey: string, point: number, copy: number): THREE.Vector3 | null;
}

/** What a press on a 3D view grabbed: a point of one copy of one lane. */
export interface ViewGrab {
  readonly lane: Lane;
  /** Copy of a batched lane (the InstancedMesh's instanceId). */
  readonly copy: number;
  /** Index into the system's points (`system.positions`). */
  readonly point: number;
  /** World position of the hit. */
  readonly position: THREE.Vector3;
}

/**
 * A state edit, the same for every lane (applied with {@link applyStateEdit} and logged as a push):
 * `state` sets copy `copy` to `value` = [q, q̇] (`[2 dof]`); `poke` presses the grid node at point
 * `point` of copy `copy` to height `value[0]`, with a Gaussian bump of width `value[1]` (in nodes) around it.
 */
export interface StateEdit {
  readonly kind: 'state' | 'poke';
  readonly point: number;
  readonly copy: number;
  readonly value: readonly number[];
}

/**
 * Apply a state edit to one copy of a handle, in place, between steps. `state` overwrites the copy's q
 * and q̇; `poke` blends q toward the height with weight w = exp(−r²/2σ²) over the grid distance r (in
 * nodes) from the pressed node (w = 1 there: it sits exactly at the height) and scales q̇ by 1 − w, so
 * the pressed region is held still. The previous and interpolated states of the copy are set alike
 * (no interpolation across the edit), and the energy the edit adds or removes is booked as work in
 * the handle's ledger (E − E₀ − W stays the engine's own error). Returns false, changing nothing, when
 * the copy is frozen (non-finite), the edit does not fit the system, or a number is not finite.
 */
export function applyStateEdit(handle: SystemHandle, edit: StateEdit): boolean {
  const { dof, count } = handle;
  const c = edit.copy;
  if (!(Number.isInteger(c) && c >= 0 && c < count) || handle.invalid[c] === 1) return false;
  if (!edit.value.every(Number.isFinite)) return false;
  const o = c * dof;
  const q = handle.q;
  const qd = handle.qd;
  const before = handle.energy(c);
  if (edit.kind === 'state') {
    if (edit.value.length !== 2 * dof) return false;
    for (let i = 0; i < dof; i++) {
      q[o + i] = edit.value[i];
      qd[o + i] = edit.value[dof + i];
    }
  } else {
    const grid = gridOf(handle.system);
    if (!grid || edit.value.length !== 2) return false;
    const node = nodeOfPoint(grid, edit.point);
    if (node < 0) return false;
    const [height, width] = edit.value;
    if (!(width > 0)) return false;
    const ni = node % grid.nx;
    const nj = Math.floor(node / grid.nx);
    const reach = Math.ceil(3 * width);
    for (let j = Math.max(0, nj - reach); j <= Math.min(grid.ny - 1, nj + reach); j++) {
      for (let i = Math.max(0, ni - reach); i <= Math.min(grid.nx - 1, ni + reach); i++) {
        const r2 = (i - ni) ** 2 + (j - nj) ** 2;
        const w = Math.exp(-r2 / (2 * width * width));
        const k = o + j * grid.nx + i;
        q[k] = w === 1 ? height : q[k] + w * (height - q[k]);
        qd[k] *= 1 - w;
      }
    }
  }
  for (let i = o; i < o + dof; i++) {
    handle.previousQ[i] = q[i];
    handle.previousQd[i] = qd[i];
    handle.interpolatedQ[i] = q[i];
    handle.interpolatedQd[i] = qd[i];
  }
  handle.forces.ledger.work[c] += handle.energy(c) - before;
  return true;
}

/** The node grid of a grid system (the membrane: `nx × ny` interior nodes inside a fixed rim), or null. */
export function gridOf(system: SystemHandle['system']): { nx: number; ny: number } | null {
  const { nx, ny } = system.params as Record<string, number | undefined>;
  if (!(Number.isInteger(nx) && Number.isInteger(ny))) return null;
  if (system.dof !== nx! * ny! || system.pointCount !== (nx! + 2) * (ny! + 2)) return null;
  return { nx: nx!, ny: ny! };
}

/** Row-major node (coordinate) index of a grid point (rim included in the point numbering), or −1 on the rim. */
export function nodeOfPoint(grid: { nx: number; ny: number }, point: number): number {
  const i = point % (grid.nx + 2);
  const j = Math.floor(point / (grid.nx + 2));
  if (i < 1 || i > grid.nx || j < 1 || j > grid.ny) return -1;
  return (j - 1) * grid.nx + (i - 1);
}

/** What {@link ViewDrag} asks of the app. */
export interface ViewDragHost {
  /** The world the lanes step in (its `preStep` applies the edits). */
  readonly world: World;
  /** The open scene's 3D view (null when the scene has none). */
  readonly view: View3D | null;
  /** The lanes that take the edit (every running lane of the view). */
  readonly lanes: readonly Lane[];
  /** An edit was applied to a lane before step `step`: log it. */
  record(lane: Lane, edit: StateEdit, step: number): void;
}

const ndc = new THREE.Vector2();

/**
 * Drag in a 3D view with the orbit camera: a press that hits a body of the view (THREE.Raycaster on its
 * meshes; an InstancedMesh gives the copy) grabs it and switches the orbit controls off until release;
 * a press on empty space is left to the orbit controls. While held, the body follows the pointer as a
 * state edit (see {@link View3D.edit}), set at every step boundary (the world's `preStep`) in every lane
 * alike and logged, so a run stays a function of its steps and replays from its log. Release leaves
 * the body at rest where it was put (no flick: the edit holds q̇ at 0 in the edited region).
 *
 * Cursor: `grabbing` while a body is held; with a mouse and no button down, `grab` while the pointer is
 * over a body of the view and the default otherwise. The hover test is one raycast per animation frame
 * at most (the latest pointer position; pointer moves between frames only note it), and the cursor
 * follows the pointer, not bodies that move under a still pointer.
 */
export class ViewDrag {
  /** While false, presses are ignored (a held body is kept until released). */
  enabled = true;
  readonly raycaster = new THREE.Raycaster();
  private held: { grab: ViewGrab; pointerId: number; edit: StateEdit | null; world: World } | null = null;
  private hooked: World | null = null;
  private controlsWereEnabled = true;
  /** Client coordinates of the latest hover move not yet tested (null: none pending). */
  private hoverAt: { x: number; y: number } | null = null;
  /** The pending animation frame of the hover test (0: none). */
  private hoverFrame = 0;
  /** Whether the last hover test hit a body (the cursor is `grab`). */
  private hovering = false;

  constructor(
    private readonly host: ViewDragHost,
    private readonly camera: THREE.Camera,
    private readonly domElement: HTMLElement,
    private readonly controls: { enabled: boolean } | null,
  ) {
    // Capture phase: before the orbit controls' own listeners on the element, so a grab can stop them.
    domElement.addEventListener('pointerdown', this.onDown, { capture: true });
    domElement.addEventListener('pointermove', this.onMove, { capture: true });
    domElement.addEventListener('pointerup', this.onUp, { capture: true });
    domElement.addEventListener('pointercancel', this.onUp, { capture: true });
    domElement.addEventListener('lostpointercapture', this.onUp);
    domElement.addEventListener('pointerleave', this.onLeave);
  }

  /** The body held now, or null. */
  get grabbed(): ViewGrab | null {
    return this.held?.grab ?? null;
  }

  /** The edit applied at every step while held (null before the pointer first moves). */
  get currentEdit(): StateEdit | null {
    return this.held?.edit ?? null;
  }

  /** Let go of the held body now. */
  release(): void {
    const h = this.held;
    if (!h) return;
    this.held = null;
    this.unhook();
    if (this.controls) this.controls.enabled = this.controlsWereEnabled;
    this.domElement.style.cursor = '';
    try {
      if (this.domElement.hasPointerCapture(h.pointerId)) this.domElement.releasePointerCapture(h.pointerId);
    } catch {
      // Not captured.
    }
  }

  /** Remove the listeners and let go. Idempotent. */
  dispose(): void {
    this.release();
    this.onLeave();
    const el = this.domElement;
    el.removeEventListener('pointerdown', this.onDown, { capture: true });
    el.removeEventListener('pointermove', this.onMove, { capture: true });
    el.removeEventListener('pointerup', this.onUp, { capture: true });
    el.removeEventListener('pointercancel', this.onUp, { capture: true });
    el.removeEventListener('lostpointercapture', this.onUp);
    el.removeEventListener('pointerleave', this.onLeave);
  }

  private readonly onDown = (e: PointerEvent): void => {
    const view = this.host.view;
    if (!this.enabled || this.held || !view?.pick || (e.pointerType === 'mouse' && e.button !== 0)) return;
    this.setRay(e.clientX, e.clientY);
    const grab = view.pick(this.raycaster);
    if (!grab) {
      // Empty space after all (the body moved since the hover test): the orbit takes the press.
      this.setHovering(false);
      return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
    const world = this.host.world;
    // The press itself is the first edit: the body is held where it was hit.
    const edit = view.edit?.(grab, this.raycaster.ray) ?? null;
    this.held = { grab, pointerId: e.pointerId, edit, world };
    if (this.controls) {
      this.controlsWereEnabled = this.controls.enabled;
      this.controls.enabled = false;
    }
    this.hovering = false;
    this.domElement.style.cursor = 'grabbing';
    try {
      this.domElement.setPointerCapture(e.pointerId);
    } catch {
      // A synthetic event without an active pointer: moves still arrive over the element.
    }
    this.hook(world);
  };

  private readonly onMove = (e: PointerEvent): void => {
    const h = this.held;
    if (!h) {
      this.hover(e);
      return;
    }
    if (e.pointerId !== h.pointerId) return;
    e.stopImmediatePropagation();
    const view = this.host.view;
    if (!view?.edit) return;
    this.setRay(e.clientX, e.clientY);
    h.edit = view.edit(h.grab, this.raycaster.ray) ?? h.edit;
  };

  private readonly onUp = (e: PointerEvent): void => {
    const h = this.held;
    if (!h || e.pointerId !== h.pointerId) return;
    this.release();
    // Still over the body after letting go: `grab` again (tested at the next frame).
    if (e.type === 'pointerup') this.hover(e);
  };

  /** Note a hover move; the raycast waits for the next animation frame (one per frame at most). */
  private hover(e: PointerEvent): void {
    if (e.pointerType !== 'mouse' || e.buttons !== 0 || !this.enabled || !this.host.view?.pick) {
      this.hoverAt = null;
      // A button down (orbiting) keeps the cursor the orbit gave it.
      if (e.buttons === 0) this.setHovering(false);
      return;
    }
    this.hoverAt = { x: e.clientX, y: e.clientY };
    // Other listeners on the element (the rig drag's hover) may reset the cursor on every move.
    if (this.hovering) this.domElement.style.cursor = 'grab';
    if (this.hoverFrame === 0) this.hoverFrame = requestAnimationFrame(this.onHoverFrame);
  }

  private readonly onHoverFrame = (): void => {
    this.hoverFrame = 0;
    const at = this.hoverAt;
    this.hoverAt = null;
    if (!at || this.held) return;
    const view = this.host.view;
    if (!this.enabled || !view?.pick) {
      this.setHovering(false);
      return;
    }
    this.setRay(at.x, at.y);
    this.setHovering(view.pick(this.raycaster) !== null);
  };

  private readonly onLeave = (): void => {
    if (this.hoverFrame !== 0) cancelAnimationFrame(this.hoverFrame);
    this.hoverFrame = 0;
    this.hoverAt = null;
    if (!this.held) this.setHovering(false);
  };

  private setHovering(on: boolean): void {
    if (on) this.domElement.style.cursor = 'grab';
    else if (this.hovering) this.domElement.style.cursor = '';
    this.hovering = on;
  }

  private readonly onPreStep = (): void => {
    const h = this.held;
    if (!h?.edit) return;
    const step = h.world.stepCount;
    for (const lane of this.host.lanes) {
      const handle = lane.handle;
      if (!handle || !lane.enabled || lane.status !== 'running') continue;
      if (applyStateEdit(handle, h.edit)) this.host.record(lane, h.edit, step);
    }
  };

  private setRay(clientX: number, clientY: number): void {
    const rect = this.domElement.getBoundingClientRect();
    ndc.set(
      ((clientX - rect.left) / Math.max(1, rect.width)) * 2 - 1,
      -((clientY - rect.top) / Math.max(1, rect.height)) * 2 + 1,
    );
    this.camera.updateMatrixWorld();
    this.raycaster.setFromCamera(ndc, this.camera);
  }

  private hook(world: World): void {
    if (this.hooked === world) return;
    this.unhook();
    world.on('preStep', this.onPreStep);
    this.hooked = world;
  }

  private unhook(): void {
    this.hooked?.off('preStep', this.onPreStep);
    this.hooked = null;
  }
}
