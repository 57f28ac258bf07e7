// The learned and the exact double pendulum in plain Node, no bundler, no TypeScript:
//   npm install three-lnn && node main.mjs
import { createSystem, shippedModel, World } from 'three-lnn';
import 'three-lnn/learned'; // registers the lnn, baseline and lgn engines (TensorFlow.js)

const start = { q0: [2, 1], qd0: [0, 0] }; // angles from hanging straight down, rad; at rest
const model = shippedModel('double-pendulum-lnn'); // in Node: a file: URL into the installed package

const world = new World({ fixedTimeStep: 1 / 120 });
const exact = await world.add(createSystem('double-pendulum'), start);
// The same network evaluated two ways: in plain JS (float64) and by TensorFlow.js on its wasm backend
// (float32). Forcing the route makes the numbers repeatable; the default, 'auto', picks the faster one.
const learned = await world.add(createSystem('double-pendulum'), {
  ...start,
  engine: 'lnn',
  engineOptions: { model, route: 'js' },
});
const learnedWasm = await world.add(createSystem('double-pendulum'), {
  ...start,
  engine: 'lnn',
  engineOptions: { model, backend: 'wasm', route: 'wasm' },
});

world.stepN(120); // 1 s in fixed steps of 1/120 s, RK4
const state = (h) => ({ q: Array.from(h.q), qd: Array.from(h.qd) });
console.log(
  JSON.stringify({
    t: world.time,
    exact: state(exact),
    learned: state(learned),
    learnedWasm: state(learnedWasm),
  }),
);
world.dispose();
