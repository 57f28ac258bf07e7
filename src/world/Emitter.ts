/** A listener of events of payload type `E`. */
export type Listener<E> = (event: E) => void;

/**
 * A tiny typed event emitter. `Events` maps each event name to its payload type.
 * Listener lists are replaced on every change (copy on write), so `emit` allocates nothing and a
 * listener may add or remove listeners while an event is being delivered.
 * @example
 * const events = new Emitter<{ tick: { dt: number } }>();
 * events.on('tick', (e) => console.log(e.dt));
 * events.emit('tick', { dt: 1 / 60 });
 */
export class Emitter<Events extends object> {
  private listeners: { [K in keyof Events]?: readonly Listener<Events[K]>[] } = {};

  /** Call `listener` on every `type` event until {@link Emitter.off}. Returns `this`. */
  on<K extends keyof Events>(type: K, listener: Listener<Events[K]>): this {
    this.listeners[type] = [...(this.listeners[type] ?? []), listener];
    return this;
  }

  /** Stop calling `listener` (also one registered with {@link Emitter.once}). Returns `this`. */
  off<K extends keyof Events>(type: K, listener: Listener<Events[K]>): this {
    const list = this.listeners[type];
    if (list) {
      this.listeners[type] = list.filter(
        (l) => l !== listener && (l as { original?: unknown }).original !== listener,
      );
    }
    return this;
  }

  /** Call `listener` on the next `type` event only. Returns `this`. */
  once<K extends keyof Events>(type: K, listener: Listener<Events[K]>): this {
    const wrapper = Object.assign(
      (event: Events[K]) => {
        this.off(type, wrapper);
        listener(event);
      },
      { original: listener },
    );
    return this.on(type, wrapper);
  }

  /** Whether any listener is registered for `type`. */
  has<K extends keyof Events>(type: K): boolean {
    return (this.listeners[type]?.length ?? 0) > 0;
  }

  /** Deliver `event` to the listeners of `type`, in registration order. */
  emit<K extends keyof Events>(type: K, event: Events[K]): void {
    const list = this.listeners[type];
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) list[i](event);
  }

  /** Remove every listener of `type`, or of every type. */
  clear(type?: keyof Events): void {
    if (type === undefined) this.listeners = {};
    else delete this.listeners[type];
  }
}
