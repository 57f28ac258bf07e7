import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel, serializeModel, toModelArtifacts } from '../src/model/artifacts';
import { checkModelForSystem, trainingMismatches } from '../src/model/checkSystem';
import { loadModel } from '../src/model/loadModel';
import { ModelFormatError, type ModelProblem } from '../src/model/ModelFormatError';
import type { LoadedModel, ModelJson } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations } from '../src/model/reference';
import { saveModel, writeModel } from '../src/model/saveModel';
import { createSystem } from '../src/systems/registry';

const root = mkdtempSync(join(tmpdir(), 'three-lnn-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `m${counter++}`);

/** Write a valid model to a fresh directory, let `edit` break it, return the directory. */
async function broken(edit: (dir: string, json: ModelJson) => ModelJson | undefined): Promise<string> {
  const dir = freshDir();
  await writeModel(dir, createRandomModel({ hidden: [8, 8], seed: 3 }));
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJson;
  const edited = edit(dir, json) ?? json;
  writeFileSync(join(dir, 'model.json'), JSON.stringify(edited));
  return dir;
}

/** Assert that loading `dir` fails with `problem` and a message matching every pattern. */
async function expectProblem(source: string, problem: ModelProblem, ...patterns: RegExp[]): Promise<void> {
  let error: unknown;
  try {
    await loadModel(source);
  } catch (e) {
    error = e;
  }
  expect(error, `loading ${source} must fail with ${problem}`).toBeInstanceOf(ModelFormatError);
  const e = error as ModelFormatError;
  expect(e.problem, `problem code; message: ${e.message}`).toBe(problem);
  for (const p of patterns) expect(e.message, 'message names the problem').toMatch(p);
}

function sameWeights(a: LoadedModel, b: LoadedModel): void {
  expect(b.layers.length, 'layer count').toBe(a.layers.length);
  a.layers.forEach((l, i) => {
    expect(Array.from(b.layers[i].kernel), `kernel ${i}`).toEqual(Array.from(l.kernel));
    expect(Array.from(b.layers[i].bias), `bias ${i}`).toEqual(Array.from(l.bias));
  });
}

describe('model format v1: writing and reading', () => {
  it('round-trips through a directory: metadata, weights and q̈ identical', async () => {
    const model = createRandomModel({ hidden: [16, 12], seed: 1, biasStd: 0.1 });
    const dir = freshDir();
    await saveModel(dir, model.layers, model.metadata);
    expect(readdirSync(dir).sort(), 'files written').toEqual(['model.json', 'weights.bin']);
    const loaded = await loadModel(dir);
    expect(loaded.metadata, 'metadata').toEqual(model.metadata);
    sameWeights(model, loaded);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format, 'format marker').toBe('three-lnn');
    expect(json.modelTopology.layers, 'topology mirrors the architecture').toEqual([4, 16, 12, 1]);
    const q = [0.2, 1.4, -3, 2];
    const qd = [1, -2, 0.5, 4];
    const a = new Float64Array(4);
    const b = new Float64Array(4);
    referenceAccelerations(model, q, qd, a, 2);
    referenceAccelerations(loaded, q, qd, b, 2);
    expect(Array.from(b), 'q̈ of the reloaded model').toEqual(Array.from(a));
    // The model.json path itself is accepted too.
    sameWeights(model, await loadModel(join(dir, 'model.json')));
  });

  it('round-trips input.angleEmbedding: written only for sincos, read back, same q̈', async () => {
    const sincos = createRandomModel({ angleEmbedding: 'sincos', hidden: [8, 8], seed: 2, biasStd: 0.2 });
    const wrap = createRandomModel({ hidden: [8, 8], seed: 2, biasStd: 0.2 });
    const q = [0.2, 1.4, -3, 2];
    const qd = [1, -2, 0.5, 4];
    for (const [model, key, inputs] of [
      [sincos, 'sincos', 6],
      [wrap, undefined, 4],
    ] as const) {
      const dir = freshDir();
      await writeModel(dir, model);
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      expect(json.userDefinedMetadata.threeLnn.input.angleEmbedding, 'stored embedding').toBe(key);
      expect('angleEmbedding' in json.userDefinedMetadata.threeLnn.input, 'wrap is left implicit').toBe(
        key !== undefined,
      );
      expect(json.modelTopology.layers[0], 'network inputs').toBe(inputs);
      const loaded = await loadModel(dir);
      expect(loaded.metadata, 'metadata').toEqual(model.metadata);
      const a = new Float64Array(4);
      const b = new Float64Array(4);
      referenceAccelerations(model, q, qd, a, 2);
      referenceAccelerations(loaded, q, qd, b, 2);
      expect(Array.from(b), 'q̈ of the reloaded model').toEqual(Array.from(a));
      // The in-memory forms carry it too.
      expect(toModelArtifacts(model).userDefinedMetadata?.threeLnn).toEqual(model.metadata);
    }
  });

  it('splits weights over several shards and reads them back in manifest order', async () => {
    const model = createRandomModel({ hidden: [20, 20], seed: 2 });
    const dir = freshDir();
    await writeModel(dir, model, { shardBytes: 1024 });
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJson;
    const paths = json.weightsManifest[0].paths;
    expect(paths.length, 'several shards').toBeGreaterThan(1);
    sameWeights(model, await loadModel(dir));
  });

  it('loads from memory: serialized files, TF.js ModelArtifacts, and a save handler', async () => {
    const model = createRandomModel({ kind: 'baseline', hidden: [8], activation: 'relu', seed: 4 });
    sameWeights(model, await loadModel(serializeModel(model)));
    sameWeights(model, await loadModel(toModelArtifacts(model)));
    let saved: unknown;
    await saveModel({ save: async (artifacts) => (saved = artifacts) }, model.layers, model.metadata);
    sameWeights(model, await loadModel(saved as ReturnType<typeof toModelArtifacts>));
  });

  it('loads from a URL through fetch, resolving shards next to model.json', async () => {
    const model = createRandomModel({ kind: 'lgn', hidden: [8], seed: 5 });
    const { modelJson, shards } = serializeModel(model, { shardBytes: 64 });
    const files = new Map<string, BodyInit>([['/models/m/model.json', JSON.stringify(modelJson)]]);
    for (const s of shards) files.set(`/models/m/${s.path}`, new Uint8Array(s.data));
    const fakeFetch = (async (url: string) => {
      const body = files.get(new URL(url).pathname);
      return new Response(body ?? 'not found', { status: body ? 200 : 404 });
    }) as typeof fetch;
    sameWeights(model, await loadModel('http://example.test/models/m/', { fetch: fakeFetch }));
    sameWeights(
      model,
      await loadModel(new URL('http://example.test/models/m/model.json'), { fetch: fakeFetch }),
    );
    files.delete(`/models/m/${shards[1].path}`);
    await expect(
      loadModel('http://example.test/models/m', { fetch: fakeFetch }),
      'a 404 shard',
    ).rejects.toThrow(/weights-2\.bin.*HTTP 404/);
  });

  it('refuses to write an invalid model', async () => {
    const model = createRandomModel({ hidden: [4], seed: 6 });
    const bad = { ...model.metadata, dof: 3 };
    await expect(saveModel(freshDir(), model.layers, bad), 'dof/architecture mismatch').rejects.toThrow(
      ModelFormatError,
    );
    const nan = model.layers.map((l) => ({ kernel: Float32Array.from(l.kernel), bias: l.bias }));
    nan[0].kernel[2] = Number.NaN;
    await expect(saveModel(freshDir(), nan, model.metadata), 'NaN weight').rejects.toThrow(
      /dense_0\/kernel.*index 2/,
    );
  });

  const shipped = resolve(import.meta.dirname, '..', 'assets', 'models');
  const shippedModels = existsSync(shipped)
    ? readdirSync(shipped).filter((d) => existsSync(join(shipped, d, 'model.json')))
    : [];
  for (const name of shippedModels) {
    it(`validates the shipped model ${name}`, async () => {
      const m = await loadModel(join(shipped, name));
      expect(m.layers.length, 'dense layers').toBe(m.metadata.architecture.layers.length - 1);
    });
  }
});

describe('model format v1: every broken file gives a clear error', () => {
  it('missing shard', async () => {
    const dir = await broken(() => undefined);
    rmSync(join(dir, 'weights.bin'));
    await expectProblem(dir, 'missing-shard', /weights\.bin/, /missing/);
  });

  it('short shard', async () => {
    const dir = await broken(() => undefined);
    truncateSync(join(dir, 'weights.bin'), 100);
    await expectProblem(dir, 'short-shard', /100 bytes/, /needs \d+/);
  });

  it('shard longer than the manifest', async () => {
    const dir = await broken(() => undefined);
    writeFileSync(
      join(dir, 'weights.bin'),
      new Uint8Array(readFileSync(join(dir, 'weights.bin')).length + 8),
    );
    await expectProblem(dir, 'shape-mismatch', /describes only/);
  });

  it('manifest shape that disagrees with the architecture', async () => {
    const dir = await broken((_, j) => {
      j.weightsManifest[0].weights[2].shape = [8, 9];
    });
    await expectProblem(dir, 'shape-mismatch', /dense_1\/kernel/, /\[8,9\]/, /\[8,8\]/);
  });

  it('topology that disagrees with the metadata', async () => {
    const dir = await broken((_, j) => {
      j.modelTopology.layers = [4, 9, 8, 1];
    });
    await expectProblem(dir, 'shape-mismatch', /modelTopology\.layers/);
  });

  it('architecture that does not fit the dof', async () => {
    const dir = await broken((_, j) => {
      j.userDefinedMetadata.threeLnn.dof = 3;
      j.userDefinedMetadata.threeLnn.angles = [true, true, true];
      j.userDefinedMetadata.threeLnn.input = { qScale: [1, 1, 1], qdScale: [1, 1, 1] };
    });
    await expectProblem(dir, 'shape-mismatch', /needs 6 inputs/);
  });

  it('bad input.angleEmbedding: unknown value, sincos outside lnn, inputs that do not fit it', async () => {
    const unknown = await broken((_, j) => {
      (j.userDefinedMetadata.threeLnn.input as { angleEmbedding?: string }).angleEmbedding = 'fourier';
    });
    await expectProblem(unknown, 'bad-field', /angleEmbedding "fourier"/, /wrap, sincos/);
    // A sincos model whose first layer has the wrap width (2n), and the reverse.
    const narrow = await broken((_, j) => {
      j.userDefinedMetadata.threeLnn.input.angleEmbedding = 'sincos';
    });
    await expectProblem(narrow, 'shape-mismatch', /needs 6 inputs/);
    const wide = freshDir();
    await writeModel(wide, createRandomModel({ angleEmbedding: 'sincos', hidden: [8], seed: 4 }));
    const json = JSON.parse(readFileSync(join(wide, 'model.json'), 'utf8')) as ModelJson;
    delete json.userDefinedMetadata.threeLnn.input.angleEmbedding;
    writeFileSync(join(wide, 'model.json'), JSON.stringify(json));
    await expectProblem(wide, 'shape-mismatch', /needs 4 inputs/);
    for (const kind of ['baseline', 'lgn'] as const) {
      const m = createRandomModel({ kind, hidden: [8], seed: 5 });
      const meta = structuredClone(m.metadata);
      meta.input.angleEmbedding = 'sincos';
      expect(() => createModel(meta, m.layers), kind).toThrow(/"sincos" is supported for lnn models only/);
      try {
        createModel(meta, m.layers);
      } catch (e) {
        expect((e as ModelFormatError).problem).toBe('bad-field');
      }
    }
  });

  it('unknown format version', async () => {
    const dir = await broken((_, j) => {
      (j.userDefinedMetadata.threeLnn as { formatVersion: number }).formatVersion = 2;
    });
    await expectProblem(dir, 'unknown-version', /formatVersion 2/, /version 1/);
  });

  it('unknown kind', async () => {
    const dir = await broken((_, j) => {
      (j.userDefinedMetadata.threeLnn as { kind: string }).kind = 'hnn';
    });
    await expectProblem(dir, 'unknown-kind', /"hnn"/, /lnn, baseline, lgn/);
  });

  it('unknown activation, and relu in a Lagrangian model', async () => {
    const dir = await broken((_, j) => {
      (j.userDefinedMetadata.threeLnn.architecture as { activation: string }).activation = 'gelu';
      j.modelTopology.activation = 'gelu';
    });
    await expectProblem(dir, 'unknown-activation', /"gelu"/);
    const relu = await broken((_, j) => {
      j.userDefinedMetadata.threeLnn.architecture.activation = 'relu';
      j.modelTopology.activation = 'relu';
    });
    await expectProblem(relu, 'unknown-activation', /second derivative/);
  });

  it('NaN and Inf weights', async () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const dir = await broken(() => undefined);
      const bytes = new Uint8Array(readFileSync(join(dir, 'weights.bin')));
      // dense_0 holds 4×8 + 8 = 40 floats, so float 40 is dense_1/kernel[0].
      new DataView(bytes.buffer).setFloat32(4 * 40, bad, true);
      writeFileSync(join(dir, 'weights.bin'), bytes);
      await expectProblem(dir, 'non-finite-weights', /dense_1\/kernel/, /non-finite/);
    }
  });

  for (const field of [
    'formatVersion',
    'kind',
    'system',
    'dof',
    'angles',
    'input',
    'architecture',
    'output',
  ]) {
    it(`missing metadata field ${field}`, async () => {
      const dir = await broken((_, j) => {
        delete (j.userDefinedMetadata.threeLnn as unknown as Record<string, unknown>)[field];
      });
      await expectProblem(dir, 'missing-field', new RegExp(field));
    });
  }

  it('missing physics metadata, lgn without graph, bad JSON, no such path', async () => {
    await expectProblem(
      await broken((_, j) => {
        j.userDefinedMetadata = {} as ModelJson['userDefinedMetadata'];
      }),
      'missing-field',
      /userDefinedMetadata\.threeLnn/,
    );
    const lgn = freshDir();
    await writeModel(lgn, createRandomModel({ kind: 'lgn', hidden: [4], seed: 1 }));
    const json = JSON.parse(readFileSync(join(lgn, 'model.json'), 'utf8'));
    delete json.userDefinedMetadata.threeLnn.graph;
    writeFileSync(join(lgn, 'model.json'), JSON.stringify(json));
    await expectProblem(lgn, 'missing-field', /graph/);
    const dir = await broken(() => undefined);
    writeFileSync(join(dir, 'model.json'), '{ "format": "three-lnn", ');
    await expectProblem(dir, 'bad-json', /not valid JSON/);
    await expectProblem(join(root, 'does-not-exist'), 'not-found', /no such file or directory/);
  });

  it('wrong dof or kind for the target system', () => {
    const dp = createSystem('double-pendulum');
    const three = createRandomModel({ dof: 3, hidden: [4], seed: 1 });
    expect(() => checkModelForSystem(three, dp), 'dof mismatch').toThrow(/3 degrees of freedom.*has 2/);
    const base = createRandomModel({ kind: 'baseline', hidden: [4], seed: 1 });
    expect(() => checkModelForSystem(base, dp, 'lnn'), 'kind mismatch').toThrow(
      /baseline model.*'baseline' engine/,
    );
    const other = createModel(
      {
        ...createRandomModel({ hidden: [4] }).metadata,
        system: { id: 'double-pendulum', params: { g: 1.6 } },
      },
      createRandomModel({ hidden: [4] }).layers,
    );
    expect(() => checkModelForSystem(other, dp), 'a parameter mismatch is an error by default').toThrow(
      /g = 9\.8 \(trained on 1\.6\); train a model for these values, or pass outsideTraining: 'run'/,
    );
    expect(
      checkModelForSystem(other, dp, undefined, { outsideTraining: 'run' }).join(' '),
      "and a warning with outsideTraining: 'run'",
    ).toMatch(/g = 9\.8 differs from the training value 1\.6; the model knows only the training value/);
  });

  it('one policy: another system id is an error, other parameter values an error unless outsideTraining: run', () => {
    const layers = createRandomModel({ hidden: [4] }).layers;
    const trainedOn = (system: { id: string; params: Record<string, number> }) =>
      createModel({ ...createRandomModel({ hidden: [4] }).metadata, system }, layers);
    // Same dof (2), another system: refused, naming both systems and the fix.
    const chain = trainedOn({ id: 'chain', params: { links: 2 } });
    const dp = createSystem('double-pendulum');
    let error: unknown;
    try {
      checkModelForSystem(chain, dp, 'lnn');
    } catch (e) {
      error = e;
    }
    expect(error, 'another system id throws').toBeInstanceOf(ModelFormatError);
    expect((error as ModelFormatError).problem).toBe('system-mismatch');
    expect((error as Error).message).toMatch(
      /was trained on 'chain', not 'double-pendulum'; load a model trained on 'double-pendulum'/,
    );
    // The same system with other parameter values: a typed error naming each parameter, both values and
    // the fix; with outsideTraining: 'run', one warning per differing value.
    const moon = trainedOn({ id: 'double-pendulum', params: { g: 1.6, l1: 1, l2: 1, m1: 1, m2: 1 } });
    const off = createSystem('double-pendulum', { l1: 1.2 });
    let mismatch: unknown;
    try {
      checkModelForSystem(moon, off, 'lnn');
    } catch (e) {
      mismatch = e;
    }
    expect(mismatch, 'a typed error').toBeInstanceOf(ModelFormatError);
    expect((mismatch as ModelFormatError).problem).toBe('param-mismatch');
    expect((mismatch as Error).message).toMatch(
      /other parameter values: g = 9\.8 \(trained on 1\.6\), l1 = 1\.2 \(trained on 1\); train a model for these values, or pass outsideTraining: 'run' to run it outside its training parameters/,
    );
    expect(trainingMismatches(moon, off), 'the mismatches in short').toEqual(['g 9.8 ≠ 1.6', 'l1 1.2 ≠ 1']);
    expect(trainingMismatches(moon, createSystem('double-pendulum', { g: 1.6 }))).toEqual([]);
    expect(() => checkModelForSystem(moon, dp, 'lnn', { outsideTraining: 'bogus' as 'run' })).toThrow(
      /outsideTraining must be 'error' or 'run'/,
    );
    const warnings = checkModelForSystem(moon, dp, 'lnn', { outsideTraining: 'run' });
    expect(warnings, 'only g differs').toHaveLength(1);
    expect(warnings[0]).toMatch(/g = 9\.8 differs from the training value 1\.6/);
    expect(checkModelForSystem(moon, createSystem('double-pendulum', { g: 1.6 })), 'exact match').toEqual([]);
    // An lgn model runs any number of nodes: another node count is not even a warning, another tension
    // is, and another system id is an error.
    const lgn = createRandomModel({
      kind: 'lgn',
      hidden: [4],
      system: { id: 'string', params: { nodes: 8, tension: 1 } },
    });
    expect(checkModelForSystem(lgn, createSystem('string', { nodes: 32 }), 'lgn'), 'nodes').toEqual([]);
    expect(() => checkModelForSystem(lgn, createSystem('string', { nodes: 32, tension: 2 }), 'lgn')).toThrow(
      /tension = 2 \(trained on 1\)/,
    );
    expect(trainingMismatches(lgn, createSystem('string', { nodes: 32, tension: 2 }))).toEqual([
      'tension 2 ≠ 1',
    ]);
    expect(
      checkModelForSystem(lgn, createSystem('string', { nodes: 32, tension: 2 }), 'lgn', {
        outsideTraining: 'run',
      }),
    ).toEqual([
      expect.stringMatching(
        /tension = 2 differs from the training value 1; the model knows only the training value/,
      ),
    ]);
    expect(() => checkModelForSystem(lgn, createSystem('chain', { links: 3 }), 'lgn')).toThrow(
      /trained on 'string', not 'chain'/,
    );
  });
});
