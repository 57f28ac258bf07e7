/**
 * A scene that cannot run as written. The message names the scene, the offending field (e.g.
 * `events[2].target`) and what to write instead.
 */
export class SceneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SceneError';
  }
}
