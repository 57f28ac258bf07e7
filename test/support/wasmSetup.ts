/** vitest global setup: the AssemblyScript kernels compiled into src/generated/ before any test imports src/. */
export default async function setup(): Promise<void> {
  const script = new URL('../../scripts/build-wasm.mjs', import.meta.url).href;
  const { buildWasm } = (await import(/* @vite-ignore */ script)) as { buildWasm(): Promise<number> };
  await buildWasm();
}
