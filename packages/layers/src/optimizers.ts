/**
 * Keras's optimizers (tf.keras 2.x, the "legacy" OptimizerV2 ones the course
 * uses) as TensorFlow.js optimizers: the same update formulas, defaults and
 * learning-rate `decay`.
 *
 * Why not tfjs's own: `tf.train.rmsprop` puts epsilon inside the square root
 * (`sqrt(ms + eps)`), Keras outside (`sqrt(ms) + eps`); tfjs's momentum
 * keeps `momentum*v + g` and multiplies by the learning rate afterwards,
 * Keras keeps `momentum*v - lr*g` (they differ as soon as the rate changes,
 * e.g. with `decay`); tfjs's Adam scales epsilon by the bias correction, Keras
 * does not; and tfjs has no `decay`.
 *
 * Every update runs in one `tf.tidy` per variable with shared per-step
 * scalars, a handful of ops per variable. On convlab's native backend,
 * RMSprop (not centered) runs the engine's fused kernel instead: one kernel
 * call per variable and step, same formula.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, rmspropStep, show } from "@convlab/engine";
import { checkBoolean, checkNumber, checkOptions } from "./validate";

/** A tensor with its variable name, as tfjs's optimizers exchange them. */
type NamedTensor = { name: string; tensor: tf.Tensor };
type Gradients = tf.NamedTensorMap | NamedTensor[];

/** Per-step scalars, made once per step and shared by all variables. */
type StepScalars = Record<string, tf.Scalar>;

/**
 * The part shared by the Keras optimizers: slot variables (one list per
 * kind, indexed like the gradients, as tfjs's optimizers do), the legacy
 * `decay`, iterations, and (de)serialization of the slots.
 */
export abstract class KerasOptimizer extends tf.Optimizer {
  /** The base learning rate; callbacks may change it between steps. */
  learningRate: number;
  /** Legacy decay: step t uses `learningRate / (1 + decay * t)`, t counted from 0. */
  readonly decay: number;
  private slots: tf.Variable[][] = [];
  private slotOriginalNames: string[][] = [];

  protected constructor(learningRate: number, decay: number) {
    super();
    this.learningRate = learningRate;
    this.decay = decay;
  }

  /** Names of the slot kinds, in getWeights order (`rms`, `momentum`, …). */
  protected abstract slotKinds(): string[];

  /** The per-step scalars given the decayed learning rate of this step. */
  protected abstract stepScalars(lr: number, step: number): StepScalars;

  /** Updates one variable; runs inside tf.tidy. `slots` follows slotKinds(). */
  protected abstract update(variable: tf.Variable, gradient: tf.Tensor, slots: tf.Variable[], s: StepScalars): void;

  /** Sets the base learning rate (the same call works on tfjs's SGD). */
  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  /** The learning rate this step uses: `learningRate / (1 + decay * iterations)`. */
  get currentLearningRate(): number {
    return this.decay > 0 ? this.learningRate / (1 + this.decay * this.iterations) : this.learningRate;
  }

  override applyGradients(variableGradients: Gradients): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((g) => g.name) : Object.keys(variableGradients);
    const kinds = this.slotKinds();
    const scalars = this.stepScalars(this.currentLearningRate, this.iterations);
    try {
      names.forEach((name, i) => {
        const variable = tf.engine().registeredVariables[name];
        for (let k = 0; k < kinds.length; k++) {
          this.slots[k] ??= [];
          this.slotOriginalNames[k] ??= [];
          if (this.slots[k][i] == null) {
            this.slots[k][i] = tf.tidy(() => tf.zerosLike(variable).variable(false));
            this.slotOriginalNames[k][i] = `${name}/${kinds[k]}`;
          }
        }
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const slots = kinds.map((_, k) => this.slots[k][i]);
        tf.tidy(() => this.update(variable, gradient, slots, scalars));
      });
    } finally {
      tf.dispose(Object.values(scalars));
    }
    this.incrementIterations();
  }

  override dispose(): void {
    for (const list of this.slots) tf.dispose(list.filter((v) => v != null));
    this.slots = [];
    this.slotOriginalNames = [];
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const weights: NamedTensor[] = [await this.saveIterations()];
    this.slots.forEach((list, k) => list.forEach((variable, i) => weights.push({ name: this.slotOriginalNames[k][i], tensor: variable })));
    return weights;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const values = await this.extractIterations(weightValues);
    const kinds = this.slotKinds().length;
    if (kinds === 0 || values.length % kinds !== 0) {
      if (values.length === 0) return;
      throw fail(`${this.getClassName()}: invalid weights. Expected the iteration count and ${kinds} slot(s) per variable. Received: ${values.length} tensors.`);
    }
    this.dispose();
    const count = values.length / kinds;
    for (let k = 0; k < kinds; k++) {
      this.slots[k] = values.slice(k * count, (k + 1) * count).map((v) => v.tensor.variable(false));
      this.slotOriginalNames[k] = values.slice(k * count, (k + 1) * count).map((v) => v.name);
    }
  }
}

/** The known keys of a config (tfjs adds `customObjects` when deserializing). */
function pick(config: tf.serialization.ConfigDict, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => config[k] !== undefined && config[k] !== null).map((k) => [k, config[k]]));
}

// ---------------------------------------------------------------- RMSprop

/** Options of {@link RMSprop}; Keras names in camelCase. */
export interface RMSpropArgs {
  /** Step size, >= 0. Default 0.001. */
  learningRate?: number;
  /** Discount of the moving average of squared gradients, in [0, 1]. Default 0.9. */
  rho?: number;
  /** Momentum, in [0, 1]. Default 0 (none). */
  momentum?: number;
  /** Added to the denominator for stability, >= 0. Default 1e-7. */
  epsilon?: number;
  /** Normalize by the variance of the gradient instead of its second moment. Default false. */
  centered?: boolean;
  /** Legacy learning-rate decay per step, >= 0. Default 0. */
  decay?: number;
}

/** Keras's RMSprop as a tfjs optimizer; made by {@link RMSprop}. */
export class RMSpropOptimizer extends KerasOptimizer {
  /** Serialization name (distinct from tfjs's "RMSProp"). */
  static readonly className = "convlab.RMSprop";
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;

  constructor(args: RMSpropArgs = {}) {
    const a = checkOptions("RMSprop", args, ["learningRate", "rho", "momentum", "epsilon", "centered", "decay"]) as RMSpropArgs;
    super(
      checkNumber("RMSprop", "learningRate", a.learningRate ?? 0.001, { min: 0 }),
      checkNumber("RMSprop", "decay", a.decay ?? 0, { min: 0 }),
    );
    this.rho = checkNumber("RMSprop", "rho", a.rho ?? 0.9, { min: 0, max: 1 });
    this.momentum = checkNumber("RMSprop", "momentum", a.momentum ?? 0, { min: 0, max: 1 });
    this.epsilon = checkNumber("RMSprop", "epsilon", a.epsilon ?? 1e-7, { min: 0 });
    this.centered = checkBoolean("RMSprop", "centered", a.centered ?? false);
  }

  /** The decayed learning rate of the running step (the fused kernel takes it as a number). */
  private stepLearningRate = 0;

  protected slotKinds(): string[] {
    // "momentum" also without momentum: the fused kernel keeps its increment there.
    return ["rms", "momentum", ...(this.centered ? ["mg"] : [])];
  }

  protected stepScalars(lr: number): StepScalars {
    this.stepLearningRate = lr;
    // The engine's step takes numbers; only the centered variant needs scalar tensors.
    return this.centered ? { lr: tf.scalar(lr), rho: tf.scalar(this.rho), oneMinusRho: tf.scalar(1 - this.rho), epsilon: tf.scalar(this.epsilon), momentum: tf.scalar(this.momentum) } : {};
  }

  protected update(variable: tf.Variable, g: tf.Tensor, slots: tf.Variable[], s: StepScalars): void {
    const [ms, momentumSlot, mg] = slots;
    if (!mg) {
      // One fused kernel on the native backend, tfjs ops elsewhere. Keras puts epsilon outside
      // the root without momentum, inside with it (its ApplyRMSProp kernel).
      rmspropStep(variable, ms, momentumSlot, g, {
        learningRate: this.stepLearningRate,
        rho: this.rho,
        momentum: this.momentum,
        epsilon: this.epsilon,
        epsilonInsideSqrt: this.momentum > 0,
      });
      return;
    }
    // Centered: ms = rho ms + (1-rho) g^2, mg = rho mg + (1-rho) g, v = ms - mg^2; the
    // increment lr g / d with d = sqrt(v + eps) with momentum, sqrt(v) + eps without (as Keras).
    const newMs = tf.add(tf.mul(ms, s.rho), tf.mul(tf.square(g), s.oneMinusRho));
    const newMg = tf.add(tf.mul(mg, s.rho), tf.mul(g, s.oneMinusRho));
    ms.assign(newMs);
    mg.assign(newMg);
    const variance = tf.sub(newMs, tf.square(newMg));
    const denominator = this.momentum > 0 ? tf.sqrt(tf.add(variance, s.epsilon)) : tf.add(tf.sqrt(variance), s.epsilon);
    const increment = tf.div(tf.mul(g, s.lr), denominator);
    const newMom = this.momentum > 0 ? tf.add(tf.mul(momentumSlot, s.momentum), increment) : increment;
    if (this.momentum > 0) momentumSlot.assign(newMom);
    variable.assign(tf.sub(variable, newMom));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered, decay: this.decay };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(pick(config, ["learningRate", "rho", "momentum", "epsilon", "centered", "decay"]) as RMSpropArgs) as T;
  }
}

/**
 * Keras's RMSprop: `ms = rho*ms + (1-rho)*g²; w -= lr*g / (sqrt(ms) + eps)`
 * (epsilon outside the root). With `momentum > 0`:
 * `mom = momentum*mom + lr*g/sqrt(ms + eps); w -= mom`; with `centered`,
 * `ms - mg²` replaces `ms`, `mg` being the moving average of `g`.
 *
 * @param args learningRate (default 0.001), rho (0.9), momentum (0),
 *   epsilon (1e-7), centered (false), decay (0; step t uses lr/(1+decay*t)).
 * @throws ConvlabError for an unknown option or a value out of range.
 * @example
 * compile(model, { optimizer: RMSprop({ learningRate: 1e-3 }), loss: "categorical_crossentropy", metrics: ["accuracy"] });
 * Keras counterpart: `keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-07, centered=False)`.
 * tfjs's `tf.train.rmsprop` differs: epsilon inside the square root.
 */
export function RMSprop(args: RMSpropArgs = {}): RMSpropOptimizer {
  return new RMSpropOptimizer(args);
}

// ---------------------------------------------------------------- SGD

/** Options of {@link SGD}. */
export interface SGDArgs {
  /** Step size, >= 0. Default 0.01. */
  learningRate?: number;
  /** Momentum, in [0, 1]. Default 0. */
  momentum?: number;
  /** Nesterov momentum. Default false. */
  nesterov?: boolean;
  /** Legacy learning-rate decay per step, >= 0. Default 0. */
  decay?: number;
}

/** Keras's SGD as a tfjs optimizer; made by {@link SGD}. */
export class SGDOptimizer extends KerasOptimizer {
  /** Serialization name (distinct from tfjs's "SGD"). */
  static readonly className = "convlab.SGD";
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(args: SGDArgs = {}) {
    const a = checkOptions("SGD", args, ["learningRate", "momentum", "nesterov", "decay"]) as SGDArgs;
    super(checkNumber("SGD", "learningRate", a.learningRate ?? 0.01, { min: 0 }), checkNumber("SGD", "decay", a.decay ?? 0, { min: 0 }));
    this.momentum = checkNumber("SGD", "momentum", a.momentum ?? 0, { min: 0, max: 1 });
    this.nesterov = checkBoolean("SGD", "nesterov", a.nesterov ?? false);
  }

  protected slotKinds(): string[] {
    return this.momentum > 0 ? ["momentum"] : [];
  }

  protected stepScalars(lr: number): StepScalars {
    return { lr: tf.scalar(lr), momentum: tf.scalar(this.momentum) };
  }

  protected update(variable: tf.Variable, g: tf.Tensor, slots: tf.Variable[], s: StepScalars): void {
    const step = tf.mul(g, s.lr);
    if (slots.length === 0) {
      variable.assign(tf.sub(variable, step));
      return;
    }
    // v = momentum*v - lr*g; w += v (Nesterov: w += momentum*v - lr*g)
    const [velocity] = slots;
    const newVelocity = tf.sub(tf.mul(velocity, s.momentum), step);
    velocity.assign(newVelocity);
    variable.assign(this.nesterov ? tf.add(variable, tf.sub(tf.mul(newVelocity, s.momentum), step)) : tf.add(variable, newVelocity));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, momentum: this.momentum, nesterov: this.nesterov, decay: this.decay };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(pick(config, ["learningRate", "momentum", "nesterov", "decay"]) as SGDArgs) as T;
  }
}

/**
 * Keras's SGD: `w -= lr*g`; with momentum `v = momentum*v - lr*g; w += v`;
 * with `nesterov`, `w += momentum*v - lr*g`. With `decay`, step t (from 0)
 * uses `lr / (1 + decay*t)`, as Keras 2's legacy optimizers.
 *
 * @param args learningRate (default 0.01), momentum (0), nesterov (false), decay (0).
 * @throws ConvlabError for an unknown option or a value out of range.
 * @example
 * const optimizer = SGD({ learningRate: 0.2, momentum: 0.9, decay: 0.01 });
 * compile(model, { optimizer, loss: "categorical_crossentropy", metrics: ["accuracy"] });
 * Keras counterpart: `keras.optimizers.SGD(learning_rate=0.2, momentum=0.9, decay=0.01)`.
 */
export function SGD(args: SGDArgs = {}): SGDOptimizer {
  return new SGDOptimizer(args);
}

// ---------------------------------------------------------------- Adam

/** Options of {@link Adam}. */
export interface AdamArgs {
  /** Step size, >= 0. Default 0.001. */
  learningRate?: number;
  /** Decay of the first-moment average, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment average, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to the denominator for stability, >= 0. Default 1e-7. */
  epsilon?: number;
  /** Legacy learning-rate decay per step, >= 0. Default 0. */
  decay?: number;
}

/** Keras's Adam as a tfjs optimizer; made by {@link Adam}. */
export class AdamOptimizer extends KerasOptimizer {
  /** Serialization name (distinct from tfjs's "Adam"). */
  static readonly className = "convlab.Adam";
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(args: AdamArgs = {}) {
    const a = checkOptions("Adam", args, ["learningRate", "beta1", "beta2", "epsilon", "decay"]) as AdamArgs;
    super(checkNumber("Adam", "learningRate", a.learningRate ?? 0.001, { min: 0 }), checkNumber("Adam", "decay", a.decay ?? 0, { min: 0 }));
    this.beta1 = checkNumber("Adam", "beta1", a.beta1 ?? 0.9, { min: 0, max: 1, exclusiveMax: true });
    this.beta2 = checkNumber("Adam", "beta2", a.beta2 ?? 0.999, { min: 0, max: 1, exclusiveMax: true });
    this.epsilon = checkNumber("Adam", "epsilon", a.epsilon ?? 1e-7, { min: 0 });
  }

  protected slotKinds(): string[] {
    return ["m", "v"];
  }

  protected stepScalars(lr: number, step: number): StepScalars {
    const t = step + 1;
    const alpha = (lr * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
    return { alpha: tf.scalar(alpha), oneMinusBeta1: tf.scalar(1 - this.beta1), oneMinusBeta2: tf.scalar(1 - this.beta2), epsilon: tf.scalar(this.epsilon) };
  }

  protected update(variable: tf.Variable, g: tf.Tensor, slots: tf.Variable[], s: StepScalars): void {
    const [m, v] = slots;
    // m += (g - m)(1 - b1); v += (g² - v)(1 - b2); w -= alpha*m/(sqrt(v) + eps)
    const newM = tf.add(m, tf.mul(tf.sub(g, m), s.oneMinusBeta1));
    const newV = tf.add(v, tf.mul(tf.sub(tf.square(g), v), s.oneMinusBeta2));
    m.assign(newM);
    v.assign(newV);
    variable.assign(tf.sub(variable, tf.div(tf.mul(newM, s.alpha), tf.add(tf.sqrt(newV), s.epsilon))));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, decay: this.decay };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(pick(config, ["learningRate", "beta1", "beta2", "epsilon", "decay"]) as AdamArgs) as T;
  }
}

/**
 * Keras's Adam: `m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g²;
 * w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)` with t = step + 1
 * (epsilon not scaled by the bias correction, unlike tfjs's Adam).
 *
 * @param args learningRate (default 0.001), beta1 (0.9), beta2 (0.999), epsilon (1e-7), decay (0).
 * @throws ConvlabError for an unknown option or a value out of range.
 * @example
 * compile(model, { optimizer: Adam({ learningRate: 1e-4 }), loss: "sparse_categorical_crossentropy" });
 * Keras counterpart: `keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07)`.
 */
export function Adam(args: AdamArgs = {}): AdamOptimizer {
  return new AdamOptimizer(args);
}

tf.serialization.registerClass(RMSpropOptimizer);
tf.serialization.registerClass(SGDOptimizer);
tf.serialization.registerClass(AdamOptimizer);

// ---------------------------------------------------------------- learning rate of any optimizer

/**
 * The base learning rate of a Keras or tfjs optimizer.
 * @throws ConvlabError when the optimizer has none.
 * @internal
 */
export function getLearningRate(unit: string, optimizer: unknown): number {
  const lr = (optimizer as { learningRate?: unknown } | undefined)?.learningRate;
  if (typeof lr !== "number") {
    throw fail(`${unit}: invalid optimizer. Expected a compiled model whose optimizer has a learningRate. Received: optimizer=${optimizer ? (optimizer as object).constructor.name : show(optimizer)}.`);
  }
  return lr;
}

/**
 * Sets the learning rate of a Keras or tfjs optimizer: tfjs's SGD and
 * Momentum keep it in a tensor that only `setLearningRate` refreshes; the
 * others read `learningRate` at every step.
 * @internal
 */
export function setLearningRate(unit: string, optimizer: unknown, lr: number): void {
  getLearningRate(unit, optimizer);
  const o = optimizer as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === "function") o.setLearningRate(lr);
  o.learningRate = lr;
}
