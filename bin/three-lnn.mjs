#!/usr/bin/env node
// Entry point of the `three-lnn` command: the CLI compiled to dist/ (`npm run build` in a checkout).
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('three-lnn: the CLI is not built (dist/cli/main.js is missing); run `npm run build` first.');
    process.exit(1);
  }
  throw err;
}
process.exitCode = await cli.main(process.argv);
