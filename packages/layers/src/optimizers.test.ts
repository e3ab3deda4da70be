/**
 * Keras's optimizers: three steps of each equal Keras's formulas computed by
 * hand here in float64 (RMSprop plain, with momentum, centered, with decay;
 * SGD plain, with decay + momentum, Nesterov; Adam), the difference from
 * tfjs's RMSprop, the fused kernel on the native backend, state round trips,
 * no leaked tensors, error texts.
 */
import * as tf from "@tensorflow/tfjs";
import "@convlab/engine";
import { Adam, AdamOptimizer, KerasOptimizer, RMSprop, RMSpropOptimizer, SGD } from "./optimizers";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Gradients of the three steps: mixed signs and a tiny component where epsilon matters. */
const GRADS = [
  [0.5, -1.5, 2e-4, 0],
  [0.25, 1.0, -3e-4, 0.1],
  [-0.75, 0.5, 1e-4, -0.2],
];
const W0 = [1.0, -2.0, 0.5, 0.0];

/** Runs `steps` steps of `optimizer` on a fresh variable and returns its value after each. */
function run(optimizer: tf.Optimizer, steps = 3): number[][] {
  const w = tf.variable(tf.tensor1d(W0), true);
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const g = tf.tensor1d(GRADS[t]);
    optimizer.applyGradients({ [w.name]: g });
    g.dispose();
    out.push(Array.from(w.dataSync()));
  }
  w.dispose();
  optimizer.dispose();
  return out;
}

function expectClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, t) =>
    row.forEach((v, i) => {
      const e = expected[t][i];
      // float32 arithmetic against float64: relative 2e-6 plus a tiny absolute floor
      if (Math.abs(v - e) > 2e-6 * Math.abs(e) + 1e-9) throw new Error(`step ${t + 1}, element ${i}: ${v} != ${e}`);
    }),
  );
}

/** Keras's RMSprop by hand (tf.keras 2.x rmsprop.py and ApplyRMSProp / ApplyCenteredRMSProp). */
function kerasRmsprop(o: { lr?: number; rho?: number; momentum?: number; eps?: number; centered?: boolean; decay?: number }): number[][] {
  const { lr = 0.001, rho = 0.9, momentum = 0, eps = 1e-7, centered = false, decay = 0 } = o;
  const w = [...W0];
  const ms = w.map(() => 0);
  const mg = w.map(() => 0);
  const mom = w.map(() => 0);
  const out: number[][] = [];
  for (let t = 0; t < 3; t++) {
    const lrT = lr / (1 + decay * t);
    for (let i = 0; i < w.length; i++) {
      const g = GRADS[t][i];
      ms[i] = rho * ms[i] + (1 - rho) * g * g;
      let denom = ms[i];
      if (centered) {
        mg[i] = rho * mg[i] + (1 - rho) * g;
        denom = ms[i] - mg[i] * mg[i];
      }
      if (momentum > 0) {
        mom[i] = momentum * mom[i] + (lrT * g) / Math.sqrt(denom + eps);
        w[i] -= mom[i];
      } else {
        w[i] -= (lrT * g) / (Math.sqrt(denom) + eps);
      }
    }
    out.push([...w]);
  }
  return out;
}

/** Keras's SGD by hand (gradient_descent.py and ApplyKerasMomentum, legacy decay). */
function kerasSgd(o: { lr?: number; momentum?: number; nesterov?: boolean; decay?: number }): number[][] {
  const { lr = 0.01, momentum = 0, nesterov = false, decay = 0 } = o;
  const w = [...W0];
  const v = w.map(() => 0);
  const out: number[][] = [];
  for (let t = 0; t < 3; t++) {
    const lrT = lr / (1 + decay * t);
    for (let i = 0; i < w.length; i++) {
      const g = GRADS[t][i];
      if (momentum === 0) {
        w[i] -= lrT * g;
        continue;
      }
      v[i] = momentum * v[i] - lrT * g;
      w[i] += nesterov ? momentum * v[i] - lrT * g : v[i];
    }
    out.push([...w]);
  }
  return out;
}

/** Keras's Adam by hand (adam.py and ApplyAdam: epsilon not bias-corrected). */
function kerasAdam(o: { lr?: number; b1?: number; b2?: number; eps?: number }): number[][] {
  const { lr = 0.001, b1 = 0.9, b2 = 0.999, eps = 1e-7 } = o;
  const w = [...W0];
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  const out: number[][] = [];
  for (let t = 1; t <= 3; t++) {
    const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    for (let i = 0; i < w.length; i++) {
      const g = GRADS[t - 1][i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      w[i] -= (alpha * m[i]) / (Math.sqrt(v[i]) + eps);
    }
    out.push([...w]);
  }
  return out;
}

describe("RMSprop", () => {
  it("follows Keras: epsilon outside the square root (defaults lr 0.001, rho 0.9, eps 1e-7)", () => {
    expectClose(run(RMSprop()), kerasRmsprop({}));
  });

  it("differs from tfjs's rmsprop where the gradient is tiny (tfjs: sqrt(ms + eps))", () => {
    const ours = run(RMSprop())[0][2];
    const tfjs = run(tf.train.rmsprop(0.001, 0.9, 0, 1e-7))[0][2];
    // element 2 has g = 2e-4: Keras moves it by ~lr/sqrt(0.1) = 3.2e-3, tfjs by ~1.9e-3
    expect(0.5 - ours).toBeCloseTo(0.001 / Math.sqrt(0.1), 5);
    expect(Math.abs(ours - tfjs)).toBeGreaterThan(1e-3);
  });

  it("follows Keras with momentum (its fused kernel: epsilon inside the root)", () => {
    expectClose(run(RMSprop({ learningRate: 0.01, momentum: 0.9 })), kerasRmsprop({ lr: 0.01, momentum: 0.9 }));
  });

  it("follows Keras when centered, and with legacy decay", () => {
    expectClose(run(RMSprop({ centered: true, rho: 0.8 })), kerasRmsprop({ centered: true, rho: 0.8 }));
    expectClose(run(RMSprop({ learningRate: 0.01, decay: 0.5 })), kerasRmsprop({ lr: 0.01, decay: 0.5 }));
  });

  it("gives the same steps with the engine's fused kernel on the native backend", async () => {
    if (!(await tf.setBackend("native").catch(() => false))) {
      console.warn("native backend not available here: fused RMSprop not tested");
      await tf.setBackend("cpu");
      return;
    }
    try {
      expect(tf.getKernel("ConvlabRMSProp", "native")).toBeDefined();
      const engine = tf.engine();
      const runKernel = jest.spyOn(engine, "runKernel");
      expectClose(run(RMSprop()), kerasRmsprop({}));
      expect(runKernel.mock.calls.filter((c) => c[0] === "ConvlabRMSProp")).toHaveLength(3);
      runKernel.mockRestore();
      expectClose(run(RMSprop({ learningRate: 0.01, momentum: 0.9, decay: 0.1 })), kerasRmsprop({ lr: 0.01, momentum: 0.9, decay: 0.1 }));
    } finally {
      await tf.setBackend("cpu");
    }
  });
});

describe("SGD", () => {
  it("follows Keras without momentum (default lr 0.01)", () => {
    expectClose(run(SGD()), kerasSgd({}));
  });

  it("follows Keras with the course's learningRate 0.2, momentum 0.9, decay 0.01", () => {
    const optimizer = SGD({ learningRate: 0.2, momentum: 0.9, decay: 0.01 });
    const rates: number[] = [];
    const w = tf.variable(tf.tensor1d(W0));
    const values: number[][] = [];
    for (let t = 0; t < 3; t++) {
      rates.push(optimizer.currentLearningRate);
      const g = tf.tensor1d(GRADS[t]);
      optimizer.applyGradients({ [w.name]: g });
      g.dispose();
      values.push(Array.from(w.dataSync()));
    }
    expect(rates).toEqual([0.2, 0.2 / 1.01, 0.2 / 1.02]);
    expectClose(values, kerasSgd({ lr: 0.2, momentum: 0.9, decay: 0.01 }));
    w.dispose();
    optimizer.dispose();
  });

  it("follows Keras with Nesterov momentum", () => {
    expectClose(run(SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true, decay: 0.05 })), kerasSgd({ lr: 0.1, momentum: 0.9, nesterov: true, decay: 0.05 }));
  });
});

describe("Adam", () => {
  it("follows Keras: epsilon not scaled by the bias correction (defaults)", () => {
    expectClose(run(Adam()), kerasAdam({}));
  });

  it("follows Keras with other betas and learning rate", () => {
    expectClose(run(Adam({ learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-3 })), kerasAdam({ lr: 0.01, b1: 0.8, b2: 0.99, eps: 1e-3 }));
  });
});

describe("Keras optimizers as tfjs optimizers", () => {
  it("create their slots once and leak no tensor per step", () => {
    for (const optimizer of [RMSprop({ momentum: 0.5, centered: true }), SGD({ momentum: 0.9 }), Adam()]) {
      const w = tf.variable(tf.tensor1d(W0));
      const step = () => {
        const g = tf.tensor1d(GRADS[0]);
        optimizer.applyGradients([{ name: w.name, tensor: g }]);
        g.dispose();
      };
      step();
      const after = tf.memory().numTensors;
      step();
      step();
      expect(tf.memory().numTensors).toBe(after);
      optimizer.dispose();
      w.dispose();
    }
  });

  it("register for serialization and round-trip their config", () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const [optimizer, cls] of [
      [RMSprop({ learningRate: 0.01, rho: 0.8, momentum: 0.1, epsilon: 1e-6, centered: true, decay: 0.1 }), RMSpropOptimizer],
      [SGD({ learningRate: 0.2, momentum: 0.9, nesterov: true, decay: 0.01 }), SGD({}).constructor],
      [Adam({ learningRate: 0.01, beta1: 0.8, beta2: 0.9, epsilon: 1e-5, decay: 0.2 }), AdamOptimizer],
    ] as Array<[KerasOptimizer, typeof KerasOptimizer]>) {
      const name = optimizer.getClassName();
      expect(name.startsWith("convlab.")).toBe(true);
      expect(map[name][0]).toBe(cls);
      const copy = map[name][1](cls as never, optimizer.getConfig()) as KerasOptimizer;
      expect(copy.getConfig()).toEqual(optimizer.getConfig());
    }
    // tfjs's own classes stay registered under their names
    expect(map.SGD[0]).toBe(tf.SGDOptimizer);
    expect(map.Adam[0]).toBe(tf.AdamOptimizer);
  });

  it("save and restore their state (iterations and slots) through getWeights/setWeights", async () => {
    const a = RMSprop({ momentum: 0.9 });
    const w = tf.variable(tf.tensor1d(W0));
    for (let t = 0; t < 2; t++) {
      const g = tf.tensor1d(GRADS[t]);
      a.applyGradients({ [w.name]: g });
      g.dispose();
    }
    const weights = await a.getWeights();
    expect(weights.map((x) => x.name)).toEqual(["iter", `${w.name}/rms`, `${w.name}/momentum`]);
    const b = RMSprop({ momentum: 0.9 });
    await b.setWeights(weights.map((x) => ({ name: x.name, tensor: x.tensor.clone() })));
    expect(b.iterations).toBe(2);
    const w2 = tf.variable(w.clone());
    const g = tf.tensor1d(GRADS[2]);
    a.applyGradients({ [w.name]: g });
    b.applyGradients({ [w2.name]: g });
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w.dataSync()));
    tf.dispose([g, w, w2, weights[0].tensor]);
    a.dispose();
    b.dispose();
  });

  it("reject unknown options and values out of range in one line", () => {
    expect(() => RMSprop({ learning_rate: 0.1 } as never)).toThrow(
      "RMSprop: invalid option `learning_rate`. Expected keys among `learningRate`, `rho`, `momentum`, `epsilon`, `centered`, `decay`. Received: learning_rate=0.1. Did you mean `learningRate`?",
    );
    expect(() => SGD({ lr: 0.1 } as never)).toThrow("SGD: invalid option `lr`. Expected keys among `learningRate`, `momentum`, `nesterov`, `decay`. Received: lr=0.1.");
    expect(() => SGD({ momentum: 2 })).toThrow("SGD: invalid momentum. Expected a number in [0, 1]. Received: momentum=2.");
    expect(() => Adam({ beta1: 1 })).toThrow("Adam: invalid beta1. Expected a number in [0, 1). Received: beta1=1.");
    expect(() => RMSprop({ learningRate: -1 })).toThrow("RMSprop: invalid learningRate. Expected a number >= 0. Received: learningRate=-1.");
    expect(() => SGD({ nesterov: "yes" } as never)).toThrow('SGD: invalid nesterov. Expected true or false. Received: nesterov="yes".');
  });
});
