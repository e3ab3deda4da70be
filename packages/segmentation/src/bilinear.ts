/**
 * A kernel initializer that makes a `Conv2DTranspose` start as bilinear upsampling, as FCN's
 * decoders do (Long, Shelhamer and Darrell, 2015: "we initialize the 2× upsampling to bilinear
 * interpolation"; their `upsample_filt`).
 *
 * For a kernel of size `k` (stride `s = k/2` for a ×s upsampling, e.g. `k = 4, s = 2` or
 * `k = 16, s = 8`), along each axis:
 *
 *   `f = ceil(k / 2)`, `c = f − 1` (k odd) or `f − 0.5` (k even), `w(i) = 1 − |i − c| / f`,
 *
 * and the 2-D filter is `w(i)·w(j)`. For `k = 4`: `w = [0.25, 0.75, 0.75, 0.25]`: each output
 * pixel of a stride-2 transposed convolution receives two taps per axis that add up to 1, weighting
 * the two nearest input pixels by their distance: linear interpolation.
 *
 * The kernel is per-channel diagonal: channel `c` of the output is channel `c` of the input
 * upsampled; other channel pairs are 0.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";

type InitializerInstance = ReturnType<typeof tf.initializers.zeros>;

/**
 * tfjs's `Initializer` base class, which tfjs does not export: layers accept an initializer
 * object only when it is an instance of it.
 */
const InitializerBase = Object.getPrototypeOf(Object.getPrototypeOf(tf.initializers.zeros())).constructor as abstract new () => InitializerInstance;

const UNIT = "BilinearUpsampling";

/** FCN's `upsample_filt` along one axis: `1 − |i − c| / f` for `i` in `[0, k)`. */
export function bilinearWeights(size: number): Float32Array {
  const factor = Math.floor((size + 1) / 2);
  const center = size % 2 === 1 ? factor - 1 : factor - 0.5;
  return Float32Array.from({ length: size }, (_, i) => 1 - Math.abs(i - center) / factor);
}

/**
 * The bilinear-upsampling initializer for `Conv2DTranspose` kernels.
 *
 * Shape: tfjs's `Conv2DTranspose` kernel layout `[kh, kw, outChannels, inChannels]`, with
 * `outChannels === inChannels` (`filters` equal to the input's channels). Values:
 * `kernel[i, j, c, c] = w_h(i)·w_w(j)` (see the module comment), 0 elsewhere. Use it with
 * `useBias: false` (or a zero bias), `padding: "same"` and `kernelSize = 2·strides` for an exact
 * ×`strides` bilinear upsampling of the interior (the outer `strides/2` pixels see zero padding).
 *
 * Saved models name it `BilinearUpsampling` (registered with `tf.serialization.registerClass`,
 * so `tf.loadLayersModel` rebuilds it once @convlab/segmentation is imported).
 *
 * @throws ConvlabError (when the layer builds its kernel) for a kernel that is not
 *   `[kh, kw, c, c]`, or a dtype other than float32.
 *
 * ```ts
 * const up = tf.layers.conv2dTranspose({ filters: 4, kernelSize: 4, strides: 2, padding: "same", useBias: false,
 *   kernelInitializer: bilinearUpsampling() });   // on a 4-channel map: ×2 bilinear
 * ```
 *
 * Keras equivalent: none built in; Keras's FCN examples pass a NumPy `upsample_filt` kernel
 * through `Constant` or `set_weights`.
 */
export class BilinearUpsampling extends InitializerBase {
  /** The class name in saved models. */
  static className = UNIT;

  override apply(shape: number[], dtype?: tf.DataType): tf.Tensor {
    if (dtype !== undefined && dtype !== "float32") {
      throw fail(`${UNIT}: invalid dtype. Expected "float32". Received: dtype=${show(dtype)}.`);
    }
    if (shape.length !== 4 || shape[2] !== shape[3]) {
      throw fail(
        `${UNIT}: invalid kernel shape. Expected a Conv2DTranspose kernel [kh, kw, c, c] with as many filters as input channels (each channel is upsampled on its own). ` +
          `Received: shape=${show(shape)}.`,
      );
    }
    const [kh, kw, channels] = shape;
    const wh = bilinearWeights(kh);
    const ww = bilinearWeights(kw);
    const values = new Float32Array(kh * kw * channels * channels);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const base = (i * kw + j) * channels * channels;
        for (let c = 0; c < channels; c++) values[base + c * channels + c] = wh[i] * ww[j];
      }
    }
    return tf.tensor(values, shape, "float32");
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {};
  }

  /** Rebuilds the initializer from its (empty) saved config. */
  static fromConfig(): BilinearUpsampling {
    return new BilinearUpsampling();
  }
}
tf.serialization.registerClass(BilinearUpsampling);

/**
 * Creates a {@link BilinearUpsampling} initializer (takes no options).
 *
 * @throws ConvlabError for an argument other than nothing or `{}`.
 *
 * ```ts
 * tf.layers.conv2dTranspose({ filters: numClasses, kernelSize: 16, strides: 8, padding: "same", useBias: false,
 *   kernelInitializer: bilinearUpsampling() });   // FCN-8s's upscore8
 * ```
 *
 * Keras equivalent: none (see {@link BilinearUpsampling}).
 */
export function bilinearUpsampling(args?: Record<string, never>): BilinearUpsampling {
  const empty = args === undefined || (args !== null && typeof args === "object" && !Array.isArray(args) && Object.keys(args).length === 0);
  if (!empty) throw fail(`bilinearUpsampling: invalid options. Expected none (the kernel follows from the layer's kernelSize and filters). Received: options=${show(args)}.`);
  return new BilinearUpsampling();
}
