/**
 * The module layers of three-lnn, checked on the compiled JavaScript of src/, plugins/, cli/, app/ and
 * scenes/ (`npm run deps`, and test/architecture.test.ts in `npm test`):
 *
 *   src (engine core)  ←  plugins (three.js, cannon-es, lil-gui, Vite adapters)  ←  app, cli, scenes
 *
 * - no cycles of static imports;
 * - src/ imports nothing from the outer layers;
 * - everything outside src/ reaches it only through the public entries (src/index, src/learned,
 *   src/node), as a consumer of the package does;
 * - a plugin does not import another plugin; app/, cli/ and scenes/ import a plugin only through its index.
 */
const entries = '^src/(index|learned|node)\\.js$';
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'No cycle of static imports. A lazy import() back into a module that registers itself (the engine registry loading the learned engines) is not a cycle at load time.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['dynamic-import'] } },
    },
    {
      name: 'core-imports-no-outer-layer',
      comment: 'src/ is the engine core: no three.js adapters, app, CLI or scenes.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(plugins|app|cli|scenes)/' },
    },
    {
      name: 'public-entries-only',
      comment: 'Outside src/, import the core through src/index, src/learned or src/node (the package entries).',
      severity: 'error',
      from: { path: '^(plugins|app|cli|scenes)/' },
      to: { path: '^src/', pathNot: entries },
    },
    {
      name: 'plugins-independent',
      comment: 'A plugin does not import another plugin.',
      severity: 'error',
      from: { path: '^plugins/([^/]+)/' },
      to: { path: '^plugins/', pathNot: '^plugins/$1/' },
    },
    {
      name: 'plugins-through-index',
      comment: 'app/, cli/ and scenes/ import a plugin through its index only.',
      severity: 'error',
      from: { path: '^(app|cli|scenes)/' },
      to: { path: '^plugins/', pathNot: '^plugins/[^/]+/index\\.js$' },
    },
    {
      name: 'scenes-not-app-or-cli',
      comment: 'Scenes are data for the app and the CLI; they import neither.',
      severity: 'error',
      from: { path: '^scenes/' },
      to: { path: '^(app|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    moduleSystems: ['es6'],
  },
};
