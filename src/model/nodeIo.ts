/**
 * Node-only file access, imported dynamically through a computed specifier so that browser bundles
 * never pull in `node:fs` (bundlers skip `import(variable)`).
 */

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');
type Url = typeof import('node:url');
type NodeModule = typeof import('node:module');
type NodeOs = typeof import('node:os');

const FS = 'node:fs/promises';
const PATH = 'node:path';
const URL_MODULE = 'node:url';
const MODULE = 'node:module';
const OS = 'node:os';

/** Whether the code runs in Node (as opposed to a browser or worker). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** `node:fs/promises`, loaded on first use. */
export async function nodeFs(): Promise<Fs> {
  return (await import(/* @vite-ignore */ FS)) as Fs;
}

/** `node:path`, loaded on first use. */
export async function nodePath(): Promise<Path> {
  return (await import(/* @vite-ignore */ PATH)) as Path;
}

/** `node:url`, loaded on first use. */
export async function nodeUrl(): Promise<Url> {
  return (await import(/* @vite-ignore */ URL_MODULE)) as Url;
}

/** `node:module`, loaded on first use. */
export async function nodeModule(): Promise<NodeModule> {
  return (await import(/* @vite-ignore */ MODULE)) as NodeModule;
}

/** `node:os`, loaded on first use. */
export async function nodeOs(): Promise<NodeOs> {
  return (await import(/* @vite-ignore */ OS)) as NodeOs;
}
