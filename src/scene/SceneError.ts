/**
 * A scene that cannot run as written. The message names the scene, the offending field (e.g.
 * `events[2].target`) and what to write instead; `cause` holds the error it wraps, if any (e.g. the
 * `ModelFormatError` of a learned system whose model does not fit).
 */
export class SceneError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SceneError';
  }
}
