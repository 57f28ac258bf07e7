/** Small random models the engine tests share. */
import type { LoadedModel } from '../../src/model/metadata';
import { createRandomModel } from '../../src/model/randomModel';

/** A random `lgn` edge network (16×16, non-zero biases) for strings of any length; built for 5 nodes. */
export function randomStringLgn(): LoadedModel {
  return createRandomModel({
    kind: 'lgn',
    dof: 5,
    hidden: [16, 16],
    seed: 5,
    biasStd: 0.2,
    system: { id: 'string', params: {} },
  });
}
