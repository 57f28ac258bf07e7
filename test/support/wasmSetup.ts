/** vitest global setup: the AssemblyScript kernels compiled into src/generated/ before any test imports src/. */
export default async function setup(): Promise<void> {
  const script = '../../scripts/build-wasm.mjs';
  const { buildWasm } = (await import(/* @vite-ignore */ script)) as { buildWasm(): Promise<number> };
  await buildWasm();
}
