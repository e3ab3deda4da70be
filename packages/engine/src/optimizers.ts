/**
 * Optimizer updates in one pass. tfjs's RMSprop spends ~14 tensor ops per variable and
 * step (each a kernel call, a new tensor and its disposal); on the native backend one
 * kernel does the same arithmetic in the same order.
 */
import * as tf from "@tensorflow/tfjs";

/** Name of the fused RMSprop kernel (registered by the native backend). */
export const RMSPROP_KERNEL = "ConvlabRMSProp";

/** Hyperparameters of {@link rmspropStep}. */
export interface RmspropStepArgs {
  learningRate: number;
  /** Decay of the mean square (Keras `rho`, tfjs `decay`). */
  rho: number;
  momentum: number;
  epsilon: number;
  /**
   * `sqrt(ms + epsilon)` as tfjs's `tf.train.rmsprop` (true), or `sqrt(ms) + epsilon` as
   * Keras's `RMSprop` (false). With Keras's epsilon 1e-7 the difference is real: inside the
   * root it acts as 3.2e-4.
   */
  epsilonInsideSqrt: boolean;
}

/**
 * One RMSprop step for one variable, assigning new values to `value`, `meanSquare` and
 * `moment` (same shapes as `value`):
 *
 *   ms' = rho ms + (1 - rho) g^2
 *   mom' = momentum mom + lr g / d,  d = sqrt(ms' + eps) or sqrt(ms') + eps
 *   value' = value - mom'
 *
 * One native kernel on the native backend; the same formulas in tfjs ops elsewhere.
 * Keras counterpart: the update of `keras.optimizers.RMSprop` (centered=False).
 */
export function rmspropStep(value: tf.Variable, meanSquare: tf.Variable, moment: tf.Variable, grad: tf.Tensor, args: RmspropStepArgs): void {
  const { learningRate, rho, momentum, epsilon, epsilonInsideSqrt } = args;
  const fused =
    value.dtype === "float32" && grad.dtype === "float32" && tf.getKernel(RMSPROP_KERNEL, tf.getBackend()) !== undefined;
  tf.tidy(() => {
    if (fused) {
      const attrs = { hyper: [learningRate, rho, momentum, epsilon], epsilonInsideSqrt };
      const [v, ms, mom] = tf.engine().runKernel(RMSPROP_KERNEL, { value, meanSquare, moment, grad }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      meanSquare.assign(ms);
      moment.assign(mom);
      value.assign(v);
      return;
    }
    const ms = meanSquare.mul(rho).add(grad.square().mul(1 - rho));
    const denominator = epsilonInsideSqrt ? ms.add(epsilon).sqrt() : ms.sqrt().add(epsilon);
    const mom = moment.mul(momentum).add(grad.mul(learningRate).div(denominator));
    meanSquare.assign(ms);
    moment.assign(mom);
    value.assign(value.sub(mom));
  });
}

const PATCHED = Symbol.for("convlab.engine.rmsprop");

/**
 * Makes `tf.train.rmsprop` (not centered) use {@link rmspropStep} where the fused kernel
 * exists, with tfjs's own formula; its state variables stay where tfjs keeps them, so
 * `getWeights`/`setWeights` and saving are unchanged.
 */
export function fuseTfjsRmsprop(): void {
  type State = { originalName: string; variable: tf.Variable };
  type Rms = {
    centered: boolean;
    learningRate: number;
    decay: number;
    momentum: number;
    epsilon: number;
    accumulatedMeanSquares: State[];
    accumulatedMoments: State[];
    incrementIterations(): void;
  };
  const proto = tf.RMSPropOptimizer.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[PATCHED]) return;
  proto[PATCHED] = true;
  const original = proto.applyGradients as (this: Rms, g: tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>) => void;
  proto.applyGradients = function (this: Rms, variableGradients: tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>) {
    if (this.centered || tf.getKernel(RMSPROP_KERNEL, tf.getBackend()) === undefined) return original.call(this, variableGradients);
    const names = Array.isArray(variableGradients) ? variableGradients.map((item) => item.name) : Object.keys(variableGradients);
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      const state = (suffix: string) => ({ originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) });
      this.accumulatedMeanSquares[i] ??= state("rms");
      this.accumulatedMoments[i] ??= state("momentum");
      const grad = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (grad == null) return;
      rmspropStep(value, this.accumulatedMeanSquares[i].variable, this.accumulatedMoments[i].variable, grad, {
        learningRate: this.learningRate,
        rho: this.decay,
        momentum: this.momentum,
        epsilon: this.epsilon,
        epsilonInsideSqrt: true,
      });
    });
    this.incrementIterations();
  };
}
