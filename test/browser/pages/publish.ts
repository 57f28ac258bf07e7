/**
 * Run a test page's `run()` and publish what it returns (or the error, with its stack) through `publish`
 * — for the test to read from `window` — and as text in the page's `#out` element.
 */
export function publishPage<R extends { backend: string }>(
  run: () => Promise<R>,
  publish: (result: R | { error: string }) => void,
): void {
  const out = document.getElementById('out')!;
  run()
    .then((r) => {
      publish(r);
      out.textContent = `done on ${r.backend}`;
    })
    .catch((e: unknown) => {
      const message = String((e as Error)?.stack ?? e);
      publish({ error: message });
      out.textContent = message;
    });
}
