import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { CSS2DRenderer } from 'three/examples/jsm/renderers/CSS2DRenderer.js';
import type { SceneDefinition } from '../src/index.js';
import type { FieldView } from './FieldView.js';
import type { RigView } from './RigView.js';
import type { View3D } from './View3D.js';

/** What the stage draws and frames: the open scene's definition and its view. */
export interface StageContent {
  readonly definition: SceneDefinition | null;
  readonly rigView: RigView | null;
  readonly fieldView: FieldView | null;
  /** A 3D view of its own (a membrane's surface, a field of pendulums), or null. */
  readonly sceneView?: View3D | null;
}

/** The row a rig view laid its lanes out in: where each lane stood, and the size of one lane. */
interface LaneRow {
  readonly origins: THREE.Vector3[];
  /** Distance between neighbouring lanes. */
  readonly pitch: number;
  /** Extent of one lane, its label included (height with a small gap to the next row). */
  readonly laneWidth: number;
  readonly laneHeight: number;
}

/** What the stage asks of the app. */
export interface StageHooks {
  /** The current content (framed again on every resize). */
  content(): StageContent;
  /** Show or replace a banner. */
  banner(text: string, level: 'info' | 'warn' | 'error', id?: string, timeoutMs?: number): void;
  clearBanner(id: string): void;
  /** The WebGL context was lost: stop stepping (GPU state is gone). */
  onContextLost(): void;
  /** The context is back: rebuild GPU resources from the CPU-side state, then resume. */
  onContextRestored(): Promise<void>;
}

/**
 * The 3D view: the three.js renderer and label renderer, the scene's lights and grid, the camera and its
 * orbit controls, resizing with the viewport, framing a scene's content, and WebGL context loss and
 * recovery. Without WebGL it stays empty (and says so); physics and plots run on.
 */
export class Stage {
  readonly scene = new THREE.Scene();
  readonly camera = new THREE.PerspectiveCamera(45, 1, 0.05, 200);
  private renderer: THREE.WebGLRenderer | null = null;
  private labelRenderer: CSS2DRenderer | null = null;
  private controls: OrbitControls | null = null;
  private lost = false;
  /** The row each rig view's lanes were laid out in by the view itself (see {@link Stage.arrangeLanes}). */
  private readonly rows = new WeakMap<RigView, LaneRow>();
  /** Columns of the lane grid in use (the number of lanes when they stand in one row). */
  private columns = 0;
  /** Height of the legend when the camera was last framed (a taller legend frames it again). */
  private legendHeight = 0;
  /** Largest pixel ratio the renderer draws at (the load governor lowers it; never above 2). */
  private pixelRatioCap = 2;
  /** The key light (casts shadows in 3D scenes). */
  private readonly key = new THREE.DirectionalLight(0xffffff, 2.2);
  /** The upright grid behind flat scenes. */
  private readonly backdrop = new THREE.GridHelper(40, 80, 0x263041, 0x182030);
  /** Ground of 3D scenes: a plane that takes the shadows, and a grid on it. */
  private readonly ground = new THREE.Group();
  /** Whether the open scene is drawn in 3D (ground, shadows, framed from its camera's direction). */
  private solid = false;

  constructor(
    private readonly holder: HTMLElement,
    private readonly hooks: StageHooks,
  ) {
    try {
      const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
      renderer.setPixelRatio(this.pixelRatioFor());
      renderer.outputColorSpace = THREE.SRGBColorSpace;
      renderer.toneMapping = THREE.ACESFilmicToneMapping;
      renderer.shadowMap.enabled = true;
      renderer.shadowMap.type = THREE.PCFSoftShadowMap;
      holder.prepend(renderer.domElement);
      this.renderer = renderer;
    } catch (err) {
      this.hooks.banner(
        `WebGL is not available (${(err as Error).message}). The 3D view is off; physics, plots and export still run, and learned engines use WASM.`,
        'error',
      );
      return;
    }
    const labels = new CSS2DRenderer();
    labels.domElement.className = 'labels';
    holder.append(labels.domElement);
    this.labelRenderer = labels;

    this.scene.background = new THREE.Color('#0d1117');
    this.scene.add(new THREE.HemisphereLight(0xc8d8ff, 0x1a1f29, 1.6));
    const key = this.key;
    key.position.set(3, 6, 8);
    key.shadow.mapSize.set(1024, 1024);
    key.shadow.bias = -0.0004;
    key.shadow.normalBias = 0.02;
    key.shadow.radius = 3;
    this.scene.add(key, key.target);
    const grid = this.backdrop;
    grid.rotation.x = Math.PI / 2;
    grid.position.z = -1.5;
    this.scene.add(grid);
    this.buildGround();

    // Mouse: left drag orbits, wheel zooms, right drag pans. Touch: one finger orbits, two fingers
    // pinch to zoom and move to pan (OrbitControls also sets `touch-action: none` on the element).
    this.controls = new OrbitControls(this.camera, labels.domElement);
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.12;
    this.controls.touches = { ONE: THREE.TOUCH.ROTATE, TWO: THREE.TOUCH.DOLLY_PAN };

    const canvas = this.renderer.domElement;
    canvas.addEventListener('webglcontextlost', (e) => {
      // preventDefault lets the browser restore the context; the CPU-side state keeps the run.
      e.preventDefault();
      this.lost = true;
      this.hooks.onContextLost();
      this.hooks.banner(
        'The WebGL context was lost: paused. Waiting for the browser to restore it…',
        'warn',
        'context',
      );
    });
    canvas.addEventListener('webglcontextrestored', () => {
      void this.recover();
    });
    new ResizeObserver(() => this.resize()).observe(holder);
    // The legend floats over the top of the view; when it grows (a longer status wraps), frame again
    // so that it covers no lane.
    const legend = holder.querySelector('.legend');
    if (legend) {
      new ResizeObserver(() => {
        if (Math.abs(this.legendInset() - this.legendHeight) > 4) this.frame();
      }).observe(legend);
    }
    this.resize();
  }

  /** The pixel ratio the renderer draws at now. */
  get pixelRatio(): number {
    return this.renderer?.getPixelRatio() ?? 0;
  }

  /**
   * Draw at no more than `cap` device pixels per CSS pixel (and never more than 2 or the device's own
   * ratio). Resizes the drawing buffer when the ratio changes; the camera and layout stay as they are.
   */
  setPixelRatioCap(cap: number): void {
    this.pixelRatioCap = cap;
    const ratio = this.pixelRatioFor();
    if (!this.renderer || this.renderer.getPixelRatio() === ratio) return;
    this.renderer.setPixelRatio(ratio);
    this.renderer.setSize(Math.max(1, this.holder.clientWidth), Math.max(1, this.holder.clientHeight));
  }

  private pixelRatioFor(): number {
    return Math.min(window.devicePixelRatio || 1, 2, this.pixelRatioCap);
  }

  /** Distance from the camera to the point it orbits (changes when zooming). */
  get cameraDistance(): number {
    return this.camera.position.distanceTo(this.controls?.target ?? new THREE.Vector3());
  }

  /** Columns of the lane grid (as many as lanes when they stand in one row; 0 without rig lanes). */
  get laneColumns(): number {
    return this.columns;
  }

  /** The renderer's canvas (null without WebGL). */
  get canvas(): HTMLCanvasElement | null {
    return this.renderer?.domElement ?? null;
  }

  /** The element over the view that takes the pointer (the label layer, where the orbit controls listen). */
  get pointerElement(): HTMLElement | null {
    return this.labelRenderer?.domElement ?? null;
  }

  /** The camera's orbit controls (switched off while a bob is dragged), or null without WebGL. */
  get orbit(): OrbitControls | null {
    return this.controls;
  }

  /** Whether the WebGL context is lost right now. */
  get contextLost(): boolean {
    return this.lost;
  }

  /** Whether there is a renderer (WebGL available). */
  get hasRenderer(): boolean {
    return this.renderer !== null;
  }

  /** three.js resources in use (for leak checks). */
  get gpuMemory(): { geometries: number; textures: number; programs: number } {
    const info = this.renderer?.info;
    return {
      geometries: info?.memory.geometries ?? 0,
      textures: info?.memory.textures ?? 0,
      programs: info?.programs?.length ?? 0,
    };
  }

  /** Drive `frame` from the renderer's animation loop (or requestAnimationFrame without WebGL). */
  startLoop(frame: (now: number) => void): void {
    if (this.renderer) {
      this.renderer.setAnimationLoop(frame);
      return;
    }
    const tick = (now: number) => {
      frame(now);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  /** Draw one frame. */
  render(): void {
    if (!this.renderer || this.lost) return;
    this.controls?.update();
    this.renderer.render(this.scene, this.camera);
    this.labelRenderer?.render(this.scene, this.camera);
  }

  /** Compile every shader of the scene (before the clock starts). */
  async compile(): Promise<void> {
    if (!this.renderer) return;
    try {
      await this.renderer.compileAsync(this.scene, this.camera);
    } catch {
      this.renderer.compile(this.scene, this.camera);
    }
  }

  /**
   * Point the camera at the content: the scene camera's direction, moved back until what is drawn (the
   * field's grids, or the lanes' bounds, centred) fits this viewport's aspect below the legend. Lanes
   * that stand side by side are first arranged in the grid of columns that draws them largest here
   * (one row on a wide viewport, 2 × 2 on a narrow portrait one).
   */
  frame(): void {
    const { definition, rigView, fieldView, sceneView } = this.hooks.content();
    if (!definition) return;
    this.stopInertia();
    const solidView = sceneView ?? (rigView?.threeD ? rigView : null);
    this.setSolid(solidView !== null);
    if (solidView) {
      this.frame3D(definition, solidView.bounds(), rigView, sceneView ?? null);
      return;
    }
    const cam = definition.camera;
    const target = new THREE.Vector3(...(cam?.target ?? [0, 0, 0]));
    const pos = new THREE.Vector3(...(cam?.position ?? [0, 0, 10]));
    this.camera.fov = cam?.fov ?? 45;
    const inset = this.legendInset();
    this.legendHeight = inset;
    let width = (fieldView?.width ?? 4) + 0.6;
    let height = fieldView ? fieldView.size + 1.4 : 5.4;
    let fit = false;
    this.columns = 0;
    if (rigView) {
      this.arrangeLanes(rigView, inset);
      const b = rigView.bounds();
      const size = b.getSize(new THREE.Vector3());
      const centre = b.getCenter(new THREE.Vector3());
      pos.add(new THREE.Vector3(centre.x - target.x, centre.y - target.y, 0));
      target.set(centre.x, centre.y, target.z);
      width = size.x + 0.5;
      height = size.y + 0.5;
      fit = true;
    }
    const h = Math.max(1, this.holder.clientHeight);
    const tanV = Math.tan(THREE.MathUtils.degToRad(this.camera.fov) / 2);
    const tanH = tanV * this.camera.aspect;
    // Distance at which the content spans `px` pixels of the viewport's height.
    const forHeight = (px: number) => ((height / 2 / tanV) * h) / Math.max(1, px);
    const needed = Math.max(width / 2 / tanH, forHeight(h - inset));
    const dir = pos.clone().sub(target);
    if (fit || dir.length() < needed) dir.setLength(needed);
    // Move the content down, just enough to clear the legend (the camera and its target go up).
    const distance = dir.length();
    const contentPx = (height / (2 * distance * tanV)) * h;
    const shiftPx = Math.max(0, inset - (h - contentPx) / 2);
    this.camera.position.copy(target).add(dir);
    this.camera.lookAt(target);
    const up = new THREE.Vector3(0, 1, 0).applyQuaternion(this.camera.quaternion);
    const shift = up.multiplyScalar((shiftPx * 2 * distance * tanV) / h);
    target.add(shift);
    this.camera.position.add(shift);
    this.camera.updateProjectionMatrix();
    // Lane labels may be as wide as the distance between neighbouring lanes (they wrap beyond it).
    const row = rigView && this.columns > 0 ? this.rows.get(rigView) : undefined;
    if (row) {
      const pitchPx = (Math.min(row.pitch, row.laneWidth + 0.5) * h) / (2 * distance * tanV);
      this.holder.style.setProperty('--lane-label-max', `${Math.max(72, Math.floor(pitchPx - 8))}px`);
    } else {
      this.holder.style.removeProperty('--lane-label-max');
    }
    if (this.controls) {
      this.controls.target.copy(target);
      this.controls.update();
    } else {
      this.camera.lookAt(target);
    }
  }

  /**
   * End the orbit controls' damped motion (what is left of the last drag), so a framed camera stays where
   * it was put: one update without damping spends and clears the remaining rotation, pan and zoom.
   */
  private stopInertia(): void {
    const c = this.controls;
    if (!c?.enableDamping) return;
    c.enableDamping = false;
    c.update();
    c.enableDamping = true;
  }

  /** Whether the open scene is drawn in 3D: ground plane, shadows, framed from its camera's direction. */
  get threeD(): boolean {
    return this.solid;
  }

  /** Whether the key light casts shadows now (3D scenes). */
  get shadows(): boolean {
    return this.solid && this.key.castShadow && (this.renderer?.shadowMap.enabled ?? false);
  }

  /** A ground plane that takes shadows, with a faint grid on it; shown in 3D scenes only. */
  private buildGround(): void {
    const plane = new THREE.Mesh(
      new THREE.PlaneGeometry(60, 60),
      new THREE.MeshStandardMaterial({ color: 0x161c26, roughness: 0.95, metalness: 0 }),
    );
    plane.rotation.x = -Math.PI / 2;
    plane.receiveShadow = true;
    plane.name = 'ground';
    const grid = new THREE.GridHelper(60, 120, 0x2a3445, 0x1e2634);
    grid.position.y = 0.002;
    this.ground.add(plane, grid);
    this.ground.visible = false;
    this.scene.add(this.ground);
  }

  /** Switch between the flat front view (upright grid, no shadows) and 3D (ground, shadows). */
  private setSolid(on: boolean): void {
    this.solid = on;
    this.ground.visible = on;
    this.backdrop.visible = !on;
    this.key.castShadow = on;
    if (!on) this.key.position.set(3, 6, 8);
    if (!on) this.key.target.position.set(0, 0, 0);
  }

  /**
   * Frame 3D content: look at the centre of `box` from the scene camera's direction (position − target),
   * far enough that the box's bounding sphere fits the viewport below the legend; put the ground just under
   * the box and fit the key light's shadow camera around it.
   */
  private frame3D(
    definition: SceneDefinition,
    box: THREE.Box3,
    rigView: RigView | null,
    sceneView: View3D | null,
  ): void {
    const cam = definition.camera;
    this.columns = 0;
    this.camera.fov = cam?.fov ?? 45;
    this.camera.updateProjectionMatrix();
    const centre = box.getCenter(new THREE.Vector3());
    const radius = Math.max(0.5, box.getSize(new THREE.Vector3()).length() / 2);
    const zAxis = new THREE.Vector3(...(cam?.position ?? [0, 2, 10])).sub(
      new THREE.Vector3(...(cam?.target ?? [0, 0, 0])),
    );
    if (zAxis.lengthSq() < 1e-12) zAxis.set(0, 0, 1);
    zAxis.normalize();
    const xAxis = new THREE.Vector3(0, 1, 0).cross(zAxis);
    if (xAxis.lengthSq() < 1e-12) xAxis.set(1, 0, 0);
    xAxis.normalize();
    const yAxis = zAxis.clone().cross(xAxis);
    const inset = this.legendInset();
    this.legendHeight = inset;
    const h = Math.max(1, this.holder.clientHeight);
    const tanV = Math.tan(THREE.MathUtils.degToRad(this.camera.fov) / 2);
    const tanH = tanV * this.camera.aspect;
    // The legend takes the top `inset` pixels: the box must fit the rest of the height.
    const tanVu = tanV * Math.max(0.3, (h - inset) / h);
    // Closest distance from the centre at which every corner of the box is inside the view: a corner at
    // (x, y, z) in the camera's axes needs d ≥ z + |x| / tan(half width) and d ≥ z + |y| / tan(half height).
    let distance = 0;
    const v = new THREE.Vector3();
    for (let k = 0; k < 8; k++) {
      v.set(k & 1 ? box.max.x : box.min.x, k & 2 ? box.max.y : box.min.y, k & 4 ? box.max.z : box.min.z);
      v.sub(centre);
      const z = v.dot(zAxis);
      distance = Math.max(distance, z + Math.abs(v.dot(xAxis)) / tanH, z + Math.abs(v.dot(yAxis)) / tanVu);
    }
    distance *= 1.06;
    this.camera.position.copy(centre).addScaledVector(zAxis, distance);
    this.camera.lookAt(centre);
    // Move the view up by half the legend's height, so the content is centred in what is left.
    const shift = yAxis.clone().multiplyScalar((inset / h) * distance * tanV);
    const target = centre.clone().add(shift);
    this.camera.position.add(shift);
    this.camera.updateMatrixWorld();
    if (this.controls) {
      this.controls.target.copy(target);
      this.controls.update();
    } else {
      this.camera.lookAt(target);
    }
    // Lane labels may be as wide as the distance between neighbouring labels on screen.
    const anchors = sceneView
      ? sceneView.labels.map((o) => o.getWorldPosition(new THREE.Vector3()))
      : rigView && !rigView.stacked
        ? rigView.group.children.filter((o) => o.name.startsWith('lane:')).map((o) => o.position.clone())
        : [];
    let gap = Infinity;
    for (let i = 1; i < anchors.length; i++) {
      const a = anchors[i - 1].clone().project(this.camera);
      const b = anchors[i].clone().project(this.camera);
      gap = Math.min(gap, (Math.abs(a.x - b.x) / 2) * Math.max(1, this.holder.clientWidth));
    }
    if (Number.isFinite(gap)) {
      this.holder.style.setProperty('--lane-label-max', `${Math.max(72, Math.floor(gap - 8))}px`);
    } else {
      this.holder.style.removeProperty('--lane-label-max');
    }
    this.ground.position.set(centre.x, box.min.y - 0.15, centre.z);
    // Key light from above and to the front right; its shadow camera covers the content and the ground.
    const light = this.key;
    light.target.position.copy(centre);
    light.position.copy(centre).add(new THREE.Vector3(0.45, 1, 0.55).setLength(radius * 3));
    const sc = light.shadow.camera;
    const r = radius * 1.3;
    sc.left = -r;
    sc.right = r;
    sc.top = r;
    sc.bottom = -r;
    sc.near = radius * 0.5;
    sc.far = radius * 6;
    sc.updateProjectionMatrix();
  }

  /**
   * Pixels at the top of the viewport to keep clear: the legend's bottom edge, a margin, and the upper
   * half of a lane label (labels are centred on their anchor; one of two lines until they are drawn).
   */
  private legendInset(): number {
    const legend = this.holder.querySelector('.legend') as HTMLElement | null;
    const list = legend?.firstElementChild as HTMLElement | null;
    if (!legend || !list || list.offsetHeight === 0) return 0;
    const top = this.holder.getBoundingClientRect().top;
    let label = 36;
    for (const el of this.holder.querySelectorAll<HTMLElement>('.labels .lane-label'))
      label = Math.max(label, el.offsetHeight);
    return Math.max(0, list.getBoundingClientRect().bottom - top + 6 + label / 2);
  }

  /**
   * Lanes the rig view lays out side by side in one row (the `lane:<key>` groups at one height) are
   * placed in the grid of columns that draws them largest in this viewport below the legend; the row
   * itself wins unless a grid is more than 5 % larger. Lanes stacked in rows and the overlay layout are
   * left as the view placed them. The lane groups' positions are the helpers' origins, so rods, bobs
   * and labels move with them; the trails start again.
   */
  private arrangeLanes(view: RigView, inset: number): void {
    const lanes = view.group.children.filter((o) => o.name.startsWith('lane:'));
    if (view.layout !== 'side' || lanes.length < 2) return;
    let row = this.rows.get(view);
    if (!row) {
      const ys = lanes.map((l) => l.position.y);
      if (Math.max(...ys) - Math.min(...ys) > 1e-9) return;
      const xs = lanes.map((l) => l.position.x);
      const box = view.bounds();
      const size = box.getSize(new THREE.Vector3());
      const pitch = (xs[xs.length - 1] - xs[0]) / (xs.length - 1);
      if (!(pitch > 0)) return;
      row = {
        origins: lanes.map((l) => l.position.clone()),
        pitch,
        laneWidth: size.x - (xs[xs.length - 1] - xs[0]),
        laneHeight: size.y + 0.3,
      };
      this.rows.set(view, row);
    }
    const n = lanes.length;
    const w = Math.max(1, this.holder.clientWidth);
    const h = Math.max(1, this.holder.clientHeight - inset);
    const scale = (c: number) => {
      const r = Math.ceil(n / c);
      return Math.min(w / ((c - 1) * row.pitch + row.laneWidth + 0.5), h / (r * row.laneHeight + 0.2));
    };
    let columns = n;
    for (let c = n - 1; c >= 1; c--) {
      // Fewer columns with the same number of rows draw at least as large.
      if (c > 1 && Math.ceil(n / c) === Math.ceil(n / (c - 1))) continue;
      if (scale(c) > 1.05 * scale(columns)) columns = c;
    }
    const rowsOf = Math.ceil(n / columns);
    const centre = row.origins.reduce((a, o) => a.add(o), new THREE.Vector3()).divideScalar(n);
    let moved = false;
    lanes.forEach((lane, i) => {
      const col = i % columns;
      const r = Math.floor(i / columns);
      // A last row that is not full is centred.
      const inRow = r === rowsOf - 1 ? n - r * columns : columns;
      const x = centre.x + (col - (inRow - 1) / 2) * row.pitch;
      const y = centre.y - (r - (rowsOf - 1) / 2) * row.laneHeight;
      const p = columns === n ? row.origins[i] : new THREE.Vector3(x, y, row.origins[i].z);
      if (lane.position.distanceToSquared(p) > 1e-12) {
        lane.position.copy(p);
        moved = true;
      }
    });
    if (moved) view.clearTrails();
    this.columns = columns;
  }

  private resize(): void {
    const w = Math.max(1, this.holder.clientWidth);
    const h = Math.max(1, this.holder.clientHeight);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.renderer?.setSize(w, h);
    this.labelRenderer?.setSize(w, h);
    this.frame();
  }

  private async recover(): Promise<void> {
    this.lost = false;
    await this.hooks.onContextRestored();
    this.hooks.clearBanner('context');
    this.hooks.banner(
      'WebGL context restored; the run continues from where it paused.',
      'info',
      'context-ok',
      4000,
    );
  }
}
