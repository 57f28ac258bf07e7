/**
 * Node-only modules, taken from `process.getBuiltinModule` (Node ≥ 20.16) so that no import specifier of a
 * Node built-in reaches a browser bundle (a minifier folds `import(constant)` back into `import('node:fs')`).
 */

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');
type Url = typeof import('node:url');
type NodeModule = typeof import('node:module');
type NodeOs = typeof import('node:os');

/** A Node built-in module, with no import specifier for a bundler to see. */
export function nodeBuiltin<T>(name: string): T {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (!p?.getBuiltinModule)
    throw new Error(`three-lnn: '${name}' needs Node ≥ 20.16 (process.getBuiltinModule)`);
  return p.getBuiltinModule(name) as T;
}

/** Whether the code runs in Node (as opposed to a browser or worker). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** `node:fs/promises`, loaded on first use. */
export async function nodeFs(): Promise<Fs> {
  return nodeBuiltin<Fs>('fs/promises');
}

/** `node:path`, loaded on first use. */
export async function nodePath(): Promise<Path> {
  return nodeBuiltin<Path>('path');
}

/** `node:url`, loaded on first use. */
export async function nodeUrl(): Promise<Url> {
  return nodeBuiltin<Url>('url');
}

/** `node:module`, loaded on first use. */
export async function nodeModule(): Promise<NodeModule> {
  return nodeBuiltin<NodeModule>('module');
}

/** `node:os`, loaded on first use. */
export async function nodeOs(): Promise<NodeOs> {
  return nodeBuiltin<NodeOs>('os');
}
