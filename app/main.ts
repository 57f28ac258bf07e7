/**
 * Entry point of the comparison app (`npm run dev`): registers the engines the app can show (cannon-es and
 * the learned `lnn`, `baseline`, `lgn`), builds the
 * app and exposes a small test hook on `window.__threeLnn`.
 */
import '../plugins/cannon/index.js';
import '../src/learned.js';
import './style.css';
import { App } from './App.js';
import { installTestHook } from './testHook.js';

const root = document.getElementById('app');
if (!root) throw new Error('index.html must contain <div id="app">');
const app = new App(root);
installTestHook(app);
app.start().catch((err: Error) => {
  console.error(err);
  app.banner(`The app failed to start: ${err.message}`, 'error');
});
