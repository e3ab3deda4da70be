/**
 * Keras's weight initializers that tfjs lacks or draws differently, for the application
 * builders: {@link KerasVarianceScaling} (Keras's `VarianceScaling` with a truncated normal,
 * which `he_normal` is).
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";

type InitializerInstance = ReturnType<typeof tf.initializers.zeros>;

// Local aliases: a global looked up in a hot loop is slow inside vm contexts (jest, notebook kernels).
const { sqrt, log, cos, sin, random, PI } = Math;

/**
 * tfjs's `Initializer` base class, which tfjs does not export: layers accept an initializer
 * object only when it is an instance of it.
 */
const InitializerBase = Object.getPrototypeOf(Object.getPrototypeOf(tf.initializers.zeros())).constructor as abstract new () => InitializerInstance;

/** Keras's `fan_in`/`fan_out` of a kernel shape (dense `[in, out]`, conv `[...kernel, in, out]`). */
function fans(shape: readonly number[]): [number, number] {
  if (shape.length < 2) return [shape[0] ?? 1, shape[0] ?? 1];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

/**
 * Keras's `VarianceScaling(scale, mode, distribution="truncated_normal")`: draws from a normal
 * of standard deviation `sqrt(scale / fan) / 0.87962566` truncated at two standard deviations,
 * `fan` being `fan_in` or `fan_out` of the kernel. Keras's `he_normal` is `scale=2, fan_in`.
 *
 * Why not tfjs's own: tfjs's `varianceScaling` with `distribution: "truncatedNormal"` draws
 * from a uniform distribution, with `"normal"` it truncates without Keras's 0.8796 correction
 * of the standard deviation, and it draws about 1 million values per second in a notebook or
 * under jest (EfficientNetB7 and NASNetLarge hold 65 and 89 million weights).
 *
 * Serialises as tfjs's `VarianceScaling` with `distribution: "normal"` (tfjs's name for the
 * truncated normal), so saved models load without this class.
 *
 * @throws ConvlabError when asked for a dtype other than float32.
 *
 * ```ts
 * tf.layers.conv2d({ filters: 32, kernelSize: 3, kernelInitializer: new KerasVarianceScaling({ scale: 2, mode: "fanIn" }) });
 * ```
 *
 * Keras equivalent: `keras.initializers.VarianceScaling(scale, mode="fan_in" | "fan_out",
 * distribution="truncated_normal")`.
 */
export class KerasVarianceScaling extends InitializerBase {
  /** Saved as tfjs's VarianceScaling (not registered: loading uses tfjs's class). */
  static className = "VarianceScaling";
  readonly scale: number;
  readonly mode: "fanIn" | "fanOut";

  constructor(args: { scale: number; mode: "fanIn" | "fanOut" }) {
    super();
    this.scale = args.scale;
    this.mode = args.mode;
  }

  override apply(shape: number[], dtype?: tf.DataType): tf.Tensor {
    if (dtype !== undefined && dtype !== "float32") {
      throw fail(`KerasVarianceScaling: invalid dtype. Expected "float32". Received: dtype=${show(dtype)}.`);
    }
    const [fanIn, fanOut] = fans(shape);
    const stddev = sqrt(this.scale / Math.max(1, this.mode === "fanIn" ? fanIn : fanOut)) / 0.87962566103423978;
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    // Box–Muller gives two standard normals per pair of uniforms; draws beyond ±2 are rejected.
    let i = 0;
    while (i < n) {
      const r = sqrt(-2 * log(1 - random()));
      const angle = 2 * PI * random();
      const a = r * cos(angle);
      const b = r * sin(angle);
      if (a >= -2 && a <= 2) values[i++] = a * stddev;
      if (i < n && b >= -2 && b <= 2) values[i++] = b * stddev;
    }
    return tf.tensor(values, shape, "float32");
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { scale: this.scale, mode: this.mode, distribution: "normal", seed: null };
  }
}
