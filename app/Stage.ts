import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { CSS2DRenderer } from 'three/examples/jsm/renderers/CSS2DRenderer.js';
import type { SceneDefinition } from '../src/index.js';
import type { FieldView } from './FieldView.js';
import type { RigView } from './RigView.js';

/** What the stage draws and frames: the open scene's definition and its view. */
export interface StageContent {
  readonly definition: SceneDefinition | null;
  readonly rigView: RigView | null;
  readonly fieldView: FieldView | null;
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

  constructor(
    private readonly holder: HTMLElement,
    private readonly hooks: StageHooks,
  ) {
    try {
      const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
      renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
      renderer.outputColorSpace = THREE.SRGBColorSpace;
      renderer.toneMapping = THREE.ACESFilmicToneMapping;
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
    const key = new THREE.DirectionalLight(0xffffff, 2.2);
    key.position.set(3, 6, 8);
    this.scene.add(key);
    const grid = new THREE.GridHelper(40, 80, 0x263041, 0x182030);
    grid.rotation.x = Math.PI / 2;
    grid.position.z = -1.5;
    this.scene.add(grid);

    this.controls = new OrbitControls(this.camera, labels.domElement);
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.12;

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
    this.resize();
  }

  /** The renderer's canvas (null without WebGL). */
  get canvas(): HTMLCanvasElement | null {
    return this.renderer?.domElement ?? null;
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
   * field's grids, or the lanes' bounds, centred) fits this viewport's aspect.
   */
  frame(): void {
    const { definition, rigView, fieldView } = this.hooks.content();
    if (!definition) return;
    const cam = definition.camera;
    const target = new THREE.Vector3(...(cam?.target ?? [0, 0, 0]));
    const pos = new THREE.Vector3(...(cam?.position ?? [0, 0, 10]));
    this.camera.fov = cam?.fov ?? 45;
    let width = (fieldView?.width ?? 4) + 0.6;
    let height = fieldView ? fieldView.size + 1.4 : 5.4;
    let fit = false;
    if (rigView) {
      const b = rigView.bounds();
      const size = b.getSize(new THREE.Vector3());
      const centre = b.getCenter(new THREE.Vector3());
      pos.add(new THREE.Vector3(centre.x - target.x, centre.y - target.y, 0));
      target.set(centre.x, centre.y, target.z);
      width = size.x + 0.5;
      height = size.y + 0.5;
      fit = true;
    }
    const vfov = THREE.MathUtils.degToRad(this.camera.fov);
    const hfov = 2 * Math.atan(Math.tan(vfov / 2) * this.camera.aspect);
    const needed = Math.max(width / 2 / Math.tan(hfov / 2), height / 2 / Math.tan(vfov / 2));
    const dir = pos.clone().sub(target);
    if (fit || dir.length() < needed) dir.setLength(needed);
    this.camera.position.copy(target).add(dir);
    this.camera.updateProjectionMatrix();
    if (this.controls) {
      this.controls.target.copy(target);
      this.controls.update();
    } else {
      this.camera.lookAt(target);
    }
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
