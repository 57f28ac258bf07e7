import { sceneModules } from '../scenes/index.js';
import type { BackendReport } from './backend.js';
import type { Lane } from './Lane.js';
import { LEARNED_ENGINES } from './loadLane.js';
import { escapeHtml } from './RigView.js';

/** What the shell asks of the app: the buttons of the top bar and the gallery. */
export interface ShellActions {
  /** A gallery card was chosen. */
  openScene(id: string): void;
  /** The Share button: returns the link to copy. */
  shareLink(): string;
}

/** Elements of the page the other parts of the app fill. */
export interface ShellElements {
  readonly viewport: HTMLElement;
  readonly gui: HTMLElement;
  readonly plots: HTMLElement;
  readonly timeline: HTMLElement;
}

/**
 * The page around the 3D view: top bar (scene title, backend badge, Scenes and Share buttons, and on
 * small screens the Controls button of the drawer), the legend of lanes, the banners over the viewport
 * and the scene gallery.
 */
export class Shell {
  /** Warnings and errors shown as banners, newest last. */
  readonly notices: string[] = [];
  readonly elements: ShellElements;
  private readonly title: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly badge: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly banners: HTMLElement;
  private readonly gallery: HTMLElement;
  private readonly drawerButton: HTMLElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly actions: ShellActions,
  ) {
    root.innerHTML = `
      <header class="topbar">
        <div class="brand"><span class="logo"></span>three-lnn</div>
        <div class="scene-title"><h1></h1><p></p></div>
        <div class="top-actions">
          <span class="backend-badge" title="TF.js backend used by learned engines"></span>
          <button class="btn" data-act="gallery">Scenes</button>
          <button class="btn" data-act="share" title="Copy a link to this view">Share</button>
          <button class="btn drawer-toggle" data-act="controls" aria-controls="controls-drawer" aria-expanded="false">Controls</button>
        </div>
      </header>
      <main class="main">
        <section class="stage">
          <div class="viewport">
            <div class="legend"></div>
            <div class="banners"></div>
            <div class="hud"></div>
          </div>
          <div class="plots"></div>
        </section>
        <aside class="side" id="controls-drawer">
          <div class="gui"></div>
        </aside>
      </main>
      <footer class="timeline"></footer>
      <div class="gallery" hidden></div>`;
    const q = (sel: string) => root.querySelector(sel) as HTMLElement;
    this.title = q('.scene-title h1');
    this.subtitle = q('.scene-title p');
    this.badge = q('.backend-badge');
    this.legend = q('.legend');
    this.banners = q('.banners');
    this.gallery = q('.gallery');
    this.elements = {
      viewport: q('.viewport'),
      gui: q('.gui'),
      plots: q('.plots'),
      timeline: q('.timeline'),
    };
    this.drawerButton = q('[data-act=controls]');
    this.drawerButton.addEventListener('click', () => this.toggleDrawer(!this.drawerOpen));
    // The drawer starts closed; on a wide screen the panel is always shown and the class does nothing.
    this.toggleDrawer(false);
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      this.toggleGallery(false);
      this.toggleDrawer(false);
    });
    q('[data-act=gallery]').addEventListener('click', () => this.toggleGallery(true));
    q('[data-act=share]').addEventListener('click', () => {
      const link = this.actions.shareLink();
      void navigator.clipboard?.writeText(link).catch(() => {});
      this.banner('Link to this view copied (also in the address bar).', 'info', 'share', 2500);
    });
    this.buildGallery();
  }

  /** Show the open scene's title and summary in the top bar. */
  setScene(title: string, summary: string): void {
    this.title.textContent = title;
    this.subtitle.textContent = summary;
  }

  /** Whether the controls drawer is open (small screens; the side panel is always shown on wide ones). */
  get drawerOpen(): boolean {
    return this.root.classList.contains('drawer-open');
  }

  /** Open or close the controls drawer (small screens). */
  toggleDrawer(open: boolean): void {
    this.root.classList.toggle('drawer-open', open);
    this.drawerButton.setAttribute('aria-expanded', String(open));
  }

  /** Open or close the scene gallery. */
  toggleGallery(open: boolean): void {
    this.gallery.hidden = !open;
  }

  /** Redraw the legend (one entry per lane, with its status) and the backend badge. */
  renderLegend(lanes: readonly Lane[], backend: BackendReport | null): void {
    const items = lanes.map((lane) => {
      const [level, text] = laneStatus(lane);
      return `<li class="${level}" data-lane="${escapeHtml(lane.key)}" title="${escapeHtml(text)}"><i style="background:${lane.color}"></i><b>${escapeHtml(lane.label)}</b><span>${escapeHtml(text)}</span></li>`;
    });
    const html = `<ul>${items.join('')}</ul>`;
    if (this.legend.innerHTML !== html) this.legend.innerHTML = html;
    // ‘TF.js’ is left out on narrow screens (CSS), the backend and precision stay.
    const badge = `<span class="badge-lib">TF.js </span>${escapeHtml(backend ? `${backend.name} · ${backend.precision}` : '…')}`;
    if (this.badge.innerHTML !== badge) this.badge.innerHTML = badge;
    this.badge.classList.toggle('warn', !!backend?.fallbackReason);
    this.badge.title = backend?.fallbackReason ?? 'TF.js backend used by learned engines';
  }

  /** Show a message over the viewport; `id` replaces an earlier one with the same id. */
  banner(text: string, level: 'info' | 'warn' | 'error', id?: string, timeoutMs?: number): void {
    if (level !== 'info') this.notices.push(text);
    const el = document.createElement('div');
    el.className = `banner ${level}`;
    el.textContent = text;
    if (id) {
      this.clearBanner(id);
      el.dataset.id = id;
    }
    const close = document.createElement('button');
    close.textContent = '×';
    close.title = 'Dismiss';
    close.addEventListener('click', () => el.remove());
    el.append(close);
    this.banners.append(el);
    if (timeoutMs) setTimeout(() => el.remove(), timeoutMs);
  }

  /** Remove the banner shown with `id`, if any. */
  clearBanner(id: string): void {
    this.banners.querySelector(`[data-id="${id}"]`)?.remove();
  }

  private buildGallery(): void {
    const g = this.gallery;
    g.innerHTML = `<div class="gallery-panel"><header><h2>Scenes</h2><button class="btn" data-act="close">Close</button></header><div class="cards"></div></div>`;
    const cards = g.querySelector('.cards') as HTMLElement;
    for (const m of sceneModules) {
      const card = document.createElement('button');
      card.className = 'card';
      card.dataset.scene = m.id;
      card.innerHTML = `<h3>${escapeHtml(m.title)}</h3><p>${escapeHtml(m.summary)}</p><code>${escapeHtml(m.id)}</code>`;
      card.addEventListener('click', () => {
        this.toggleGallery(false);
        this.actions.openScene(m.id);
      });
      cards.append(card);
    }
    // A page of its own: the exact engine on the GPU, far more pendulums than the lanes here.
    const field = document.createElement('a');
    field.className = 'card';
    field.href = 'field.html';
    field.dataset.page = 'field';
    field.innerHTML =
      '<h3>GPU field ↗</h3><p>262,144 exact double pendulums released from rest on a grid of angles, stepped and drawn on the GPU (DoublePendulumField, float32): the chaos map, live.</p><code>field.html</code>';
    cards.append(field);
    g.querySelector('[data-act=close]')!.addEventListener('click', () => this.toggleGallery(false));
    g.addEventListener('click', (e) => {
      if (e.target === g) this.toggleGallery(false);
    });
  }
}

/** Legend level (`ok`, `warn`, `err`, `muted`) and text of a lane. */
function laneStatus(lane: Lane): [string, string] {
  if (lane.status === 'loading') return ['muted', 'loading…'];
  if (lane.status === 'stopped') return ['err', `stopped — ${lane.reason}`];
  if (lane.status !== 'running') return ['muted', `unavailable — ${lane.reason}`];
  if (!lane.enabled) return ['muted', 'off'];
  if (lane.forcesNote) return ['warn', `${lane.forcesNote} — not pushed`];
  if (lane.outOfRange) return ['warn', 'outside training range'];
  if (lane.reason) return ['warn', lane.reason];
  if (lane.warnings.length > 0) return ['warn', `${runningNote(lane)} · ${lane.warnings[0]}`];
  return ['ok', runningNote(lane)];
}

/** Route report of a learned engine (`lastReport` of the core LearnedEngine), when it has one. */
interface RouteReport {
  backend: string;
  path: string;
  threads?: number;
  totals?: { regularised: number; failed: number };
}

/** ‘running’, plus where a learned engine computes and how many of its solves needed help. */
function runningNote(lane: Lane): string {
  const r = (lane.handle?.engine as { lastReport?: RouteReport } | undefined)?.lastReport;
  if (!r || !LEARNED_ENGINES.has(lane.engineId)) return 'running';
  const threads = (r.threads ?? 1) > 1 ? `, ${r.threads} threads` : '';
  const route =
    r.path === 'js'
      ? 'plain JS, float64'
      : `${r.backend}${r.path === 'resident' ? ', GPU-resident' : ''}${threads}`;
  const fixes =
    r.totals && r.totals.regularised + r.totals.failed > 0
      ? ` · ${r.totals.regularised} regularised solves`
      : '';
  return `running on ${route}${fixes}`;
}
