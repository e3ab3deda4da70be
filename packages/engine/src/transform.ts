/**
 * `tf.image.transform` (kernel `Transform`) corrected, for the cpu, native and wasm backends.
 *
 * Keras's random layers (RandomRotation, RandomZoom, RandomTranslation) and any notebook that
 * calls `tf.image.transform` run this kernel. tfjs 4.22's own versions disagree with TensorFlow's
 * `ImageProjectiveTransformV3` in three ways, each shown by a test:
 * - the cpu kernel (which convlab's native backend also runs) returns after the first image of
 *   a batch, leaving the others all `fillValue`;
 * - with `fillMode: "constant"`, TensorFlow gives `fillValue` wherever the source point lies
 *   outside [0, w − 1] × [0, h − 1]; tfjs's kernels skip that test, so bilinear blends the
 *   edge pixels with the fill across a one-pixel band;
 * - the wasm kernel's `reflect` compares a negative coordinate with `-len` in unsigned
 *   arithmetic, so every point before the first row or column reads the last one.
 *
 * Here every affine row (`c0 = c1 = 0`, all Keras ever sends) goes to the engine's
 * {@link warpAffine} (native when built), whose `nearest`, `constant` and `reflect` fill modes
 * are TensorFlow's and whose `tf-wrap` is TensorFlow's wrap. Projective rows keep tfjs's kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { warpAffine, WarpFillMode } from "./warp_affine";

const OP = "Transform";

/** The inputs and attributes tfjs passes to a `Transform` kernel. */
interface TransformArgs {
  image: tf.TensorInfo;
  transforms: tf.TensorInfo;
  attrs: { interpolation?: string; fillMode?: string; fillValue?: number; outputShape?: [number, number] | null };
}

/** Everything {@link transformValues} needs, read from the backend. */
interface TransformJob {
  shape: [number, number, number, number];
  outSize: [number, number];
  matrices: Float64Array;
  order: 0 | 1;
  fillMode: WarpFillMode;
  fillValue: number;
}

/**
 * The job of an affine `Transform` call, or undefined when a row is projective (or the
 * attributes are ones this kernel does not know), which tfjs's own kernel then runs.
 */
function affineJob(args: TransformArgs, rows: ArrayLike<number>): TransformJob | undefined {
  const { image, transforms, attrs } = args;
  if (image.shape.length !== 4 || transforms.shape.length !== 2 || transforms.shape[1] !== 8) return undefined;
  const [n, h, w, c] = image.shape;
  const perImage = transforms.shape[0] === 1 ? 0 : 8;
  if (perImage !== 0 && transforms.shape[0] !== n) return undefined;
  const fillModes: Record<string, WarpFillMode> = { constant: "constant", nearest: "nearest", reflect: "reflect", wrap: "tf-wrap" };
  const fillMode = fillModes[attrs.fillMode ?? "constant"];
  const order = attrs.interpolation === "nearest" ? 0 : attrs.interpolation === "bilinear" || attrs.interpolation === undefined ? 1 : undefined;
  if (fillMode === undefined || order === undefined) return undefined;
  const matrices = new Float64Array(6 * n);
  for (let i = 0; i < n; i++) {
    const r = i * perImage;
    if (rows[r + 6] !== 0 || rows[r + 7] !== 0) return undefined;
    for (let k = 0; k < 6; k++) matrices[6 * i + k] = rows[r + k];
  }
  const outSize = (attrs.outputShape ?? [h, w]) as [number, number];
  return { shape: [n, h, w, c], outSize: [outSize[0], outSize[1]], matrices, order, fillMode, fillValue: attrs.fillValue ?? 0 };
}

/** Runs `job` on `values`; the output has the image's dtype (int32 truncated, as tfjs's kernel does). */
function transformValues(job: TransformJob, values: ArrayLike<number>, dtype: string): Float32Array | Int32Array {
  const [n, , , c] = job.shape;
  const src = values instanceof Float32Array ? values : Float32Array.from(values);
  const out = new Float32Array(n * job.outSize[0] * job.outSize[1] * c);
  warpAffine({ src, srcShape: job.shape, out, outSize: job.outSize, matrices: job.matrices, order: job.order, fillMode: job.fillMode, cval: job.fillValue });
  return dtype === "int32" ? Int32Array.from(out, Math.trunc) : out;
}

type Backend = { readSync(id: unknown): unknown; makeTensorInfo(shape: number[], dtype: string, values: unknown): tf.TensorInfo };

/** Where the replaced stock kernel config is kept on convlab's kernel function (tests run it to show its defects). */
export const STOCK_KERNEL = Symbol.for("convlab.stockKernel");

/** Registers the corrected `Transform` for the cpu backend (the native backend copies cpu's kernels when it registers). */
export function registerTransformKernel(): void {
  const stock = tf.getKernel(OP, "cpu");
  if (stock === undefined || STOCK_KERNEL in stock.kernelFunc) return;
  const kernelFunc = ({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }) => {
    const args = { image: inputs.image!, transforms: inputs.transforms!, attrs: (attrs ?? {}) as TransformArgs["attrs"] };
    const b = backend as Backend;
    const job = affineJob(args, b.readSync(args.transforms.dataId) as ArrayLike<number>);
    if (job === undefined || args.image.dtype === "string" || args.image.dtype === "complex64") {
      return stock.kernelFunc({ inputs, attrs: attrs ?? {}, backend: backend as never });
    }
    const out = transformValues(job, b.readSync(args.image.dataId) as ArrayLike<number>, args.image.dtype);
    return b.makeTensorInfo([job.shape[0], job.outSize[0], job.outSize[1], job.shape[3]], args.image.dtype, out);
  };
  (kernelFunc as unknown as Record<symbol, tf.KernelConfig>)[STOCK_KERNEL] = stock;
  tf.unregisterKernel(OP, "cpu");
  tf.registerKernel({ ...stock, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/** The same correction for a backend with wasm heap arrays: reads and writes through `read`/`output`. @internal */
export function transformOnHeap(
  args: TransformArgs,
  read: (info: tf.TensorInfo) => ArrayLike<number>,
  output: (shape: number[], dtype: string) => { info: tf.TensorInfo; values: Float32Array | Int32Array },
): tf.TensorInfo | undefined {
  const job = affineJob(args, read(args.transforms));
  if (job === undefined || (args.image.dtype !== "float32" && args.image.dtype !== "int32")) return undefined;
  const values = transformValues(job, read(args.image), args.image.dtype);
  const out = output([job.shape[0], job.outSize[0], job.outSize[1], job.shape[3]], args.image.dtype);
  out.values.set(values);
  return out.info;
}
