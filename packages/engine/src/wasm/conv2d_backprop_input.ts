/**
 * `Conv2DBackpropInput` for the wasm backend as a forward XNNPACK convolution.
 *
 * The stock wasm kernel is a scalar C++ loop. The gradient of a convolution
 * with respect to its input is the forward convolution of the output gradient,
 * spread by the stride, with the filter rotated by 180° and its channel axes
 * swapped:
 *
 *   dx[n, i, j, ci] = Σ_{kh, kw, co} dy'[n, i + kh, j + kw, co] · W[KH−1−kh, KW−1−kw, ci, co]
 *
 * where dy' is dy with (stride − 1) zeros between its pixels, padded by
 * KH−1−padTop on top and IH−1+padTop−(OH−1)·stride at the bottom (columns
 * likewise). For stride 1 the padding is passed to the convolution and dy is
 * not copied at all.
 *
 * For stride s > 1 the zeros would cost s² times the work: instead dx is
 * split into its s² sub-pixel phases. Output rows i with (i + padTop) mod s = r
 * only meet taps kh ≡ r (mod s), so each phase is a stride-1 convolution of
 * dy with the sub-filter W[r + s·u, …] (rotated), and the phases are
 * interleaved into dx.
 */
import {
  dilateAndPad,
  describe,
  f32,
  invalidInput,
  KernelArgs,
  KernelConfig,
  KernelContext,
  Pad,
  positiveInts,
  requireChannelsLast,
  RoundingMode,
  sameShape,
  Scratch,
  show,
  TensorInfo,
  withScratch,
} from "./kernel_util";

const OP = "Conv2DBackpropInput";

/**
 * Rotates a filter [KH, KW, CI, CO] by 180° and swaps its channel axes:
 * returns W' [KH, KW, CO, CI] with W'[kh, kw, co, ci] = W[KH−1−kh, KW−1−kw, ci, co].
 */
export function rotateFilter(s: Scratch, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const out = s.alloc([kh, kw, co, ci]);
  const dst = f32(s.backend, out);
  const src = f32(s.backend, filter);
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) {
      const so = ((kh - 1 - r) * kw + (kw - 1 - c)) * ci * co;
      const d0 = (r * kw + c) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) dst[d0 + o * ci + i] = src[so + i * co + o];
      }
    }
  }
  return out;
}

/**
 * Runs the transposed convolution `dy` ⋆ `filter` whose forward geometry is
 * given by `convInfo`: the shared core of Conv2DBackpropInput and of the
 * depthwise variant (which passes `depthwise = true` and a filter already
 * rotated). Returns dx of shape convInfo.inShape.
 */
export function transposedConv(
  s: Scratch,
  dy: TensorInfo,
  rotated: TensorInfo,
  info: {
    inHeight: number;
    inWidth: number;
    outHeight: number;
    outWidth: number;
    strideHeight: number;
    strideWidth: number;
    dilationHeight: number;
    dilationWidth: number;
    filterHeight: number;
    filterWidth: number;
    padInfo: { top: number; left: number };
  },
  kernel: "Conv2D" | "DepthwiseConv2dNative",
): TensorInfo {
  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const effH = (info.filterHeight - 1) * dilationHeight + 1;
  const effW = (info.filterWidth - 1) * dilationWidth + 1;
  const top = effH - 1 - info.padInfo.top;
  const left = effW - 1 - info.padInfo.left;
  const bottom = inHeight - 1 + info.padInfo.top - (outHeight - 1) * strideHeight;
  const right = inWidth - 1 + info.padInfo.left - (outWidth - 1) * strideWidth;
  const dilations = [dilationHeight, dilationWidth];
  if (strideHeight === 1 && strideWidth === 1 && top >= 0 && left >= 0 && bottom >= 0 && right >= 0) {
    const pad = [[0, 0], [top, bottom], [left, right], [0, 0]];
    return s.run(kernel, { x: dy, filter: rotated }, { strides: [1, 1], pad, dilations, dataFormat: "NHWC" });
  }
  const spread = dilateAndPad(s, dy, strideHeight, strideWidth, top, bottom, left, right);
  return s.run(kernel, { x: spread, filter: rotated }, { strides: [1, 1], pad: "valid", dilations, dataFormat: "NHWC" });
}

/** Geometry of one sub-pixel phase along one axis. */
interface AxisPhase {
  /** Filter taps of the phase: r, r + s, … < K. */
  taps: number;
  /** Output positions of the phase and the first of them. */
  count: number;
  first: number;
  /** Padding of dy for the phase's stride-1 convolution (negative: crop). */
  before: number;
  after: number;
}

/** Phase r of an axis with stride s, filter size k, forward padding pad, input length len, output length out. */
function axisPhase(r: number, s: number, k: number, pad: number, len: number, out: number): AxisPhase {
  const taps = r < k ? Math.ceil((k - r) / s) : 0;
  const tMin = Math.ceil((pad - r) / s);
  const tMax = Math.floor((len - 1 + pad - r) / s);
  const count = Math.max(0, tMax - tMin + 1);
  const before = taps - 1 - tMin;
  return { taps, count, first: tMin * s + r - pad, before, after: count + taps - 1 - out - before };
}

/** The rotated sub-filter of phase (r, c): out[v, w, co, ci] = W[r + sh·(U−1−v), c + sw·(V−1−w), ci, co]. */
function subFilter(s: Scratch, filter: TensorInfo, r: number, c: number, u: number, v: number, sh: number, sw: number): TensorInfo {
  const [, kw, ci, co] = filter.shape;
  const out = s.alloc([u, v, co, ci]);
  const dst = f32(s.backend, out);
  const src = f32(s.backend, filter);
  for (let a = 0; a < u; a++) {
    for (let b = 0; b < v; b++) {
      const so = ((r + sh * (u - 1 - a)) * kw + (c + sw * (v - 1 - b))) * ci * co;
      const d0 = (a * v + b) * co * ci;
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) dst[d0 + o * ci + i] = src[so + i * co + o];
    }
  }
  return out;
}

/** Conv2DBackpropInput for strides > 1 as s_h·s_w stride-1 convolutions, one per sub-pixel phase. */
function subPixelBackpropInput(
  s: Scratch,
  dy: TensorInfo,
  filter: TensorInfo,
  info: { inShape: number[]; strideHeight: number; strideWidth: number; filterHeight: number; filterWidth: number; padInfo: { top: number; left: number } },
): TensorInfo {
  const [n, oh, ow] = dy.shape;
  const [, ih, iw, ci] = info.inShape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const out = s.alloc([n, ih, iw, ci]);
  f32(s.backend, out).fill(0);
  for (let r = 0; r < sh; r++) {
    const R = axisPhase(r, sh, info.filterHeight, info.padInfo.top, ih, oh);
    if (R.taps === 0 || R.count === 0) continue;
    for (let c = 0; c < sw; c++) {
      const C = axisPhase(c, sw, info.filterWidth, info.padInfo.left, iw, ow);
      if (C.taps === 0 || C.count === 0) continue;
      let x = dy;
      if (R.before < 0 || R.after < 0 || C.before < 0 || C.after < 0) {
        const top = Math.max(0, -R.before);
        const left = Math.max(0, -C.before);
        const size = [n, oh - top - Math.max(0, -R.after), ow - left - Math.max(0, -C.after), dy.shape[3]];
        x = s.run("Slice", { x: dy }, { begin: [0, top, left, 0], size });
      }
      const sub = subFilter(s, filter, r, c, R.taps, C.taps, sh, sw);
      const pad = [[0, 0], [Math.max(0, R.before), Math.max(0, R.after)], [Math.max(0, C.before), Math.max(0, C.after)], [0, 0]];
      const y = s.keep(s.run("Conv2D", { x, filter: sub }, { strides: [1, 1], pad, dilations: [1, 1], dataFormat: "NHWC" }));
      const dst = f32(s.backend, out);
      const src = f32(s.backend, y);
      for (let b = 0; b < n; b++) {
        for (let t = 0; t < R.count; t++) {
          const row = (b * ih + R.first + t * sh) * iw;
          for (let q = 0; q < C.count; q++) {
            const from = ((b * R.count + t) * C.count + q) * ci;
            const to = (row + C.first + q * sw) * ci;
            for (let k = 0; k < ci; k++) dst[to + k] = src[from + k];
          }
        }
      }
      s.backend.disposeData(y.dataId);
      s.backend.disposeData(sub.dataId);
      if (x !== dy) s.backend.disposeData(x.dataId);
    }
  }
  return out;
}

/**
 * Kernel function of `Conv2DBackpropInput` on wasm.
 *
 * Inputs: `dy` [N, OH, OW, CO], `filter` [KH, KW, CI, CO]. Attributes:
 * `inputShape` [N, IH, IW, CI], `strides`, `pad`, `dataFormat` ("NHWC" only),
 * `dimRoundingMode`. Returns dx [N, IH, IW, CI].
 *
 * @throws Error `Conv2DBackpropInput: invalid input. Expected … Received: ….`
 * when the shapes do not describe one convolution or dataFormat is NCHW.
 */
export function conv2dBackpropInput(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { dy, filter } = args.inputs;
  const attrs = args.attrs ?? {};
  const inputShape = attrs.inputShape as number[];
  const shapes = `dy=${describe(dy)}, filter=${describe(filter)}, inputShape=${show(inputShape)}, strides=${show(attrs.strides)}, pad=${show(attrs.pad)}`;
  requireChannelsLast(OP, attrs.dataFormat, shapes);
  if (
    dy === undefined ||
    filter === undefined ||
    dy.shape.length !== 4 ||
    dy.dtype !== "float32" ||
    filter.dtype !== "float32" ||
    filter.shape.length !== 4 ||
    !Array.isArray(inputShape) ||
    inputShape.length !== 4 ||
    !positiveInts(inputShape) ||
    !positiveInts(filter.shape) ||
    inputShape[3] !== filter.shape[2] ||
    dy.shape[3] !== filter.shape[3] ||
    dy.shape[0] !== inputShape[0]
  ) {
    throw invalidInput(
      OP,
      "float32 dy [batch, outHeight, outWidth, outChannels], filter [height, width, inChannels, outChannels] and inputShape [batch, height, width, inChannels] with matching batch and channels",
      shapes,
    );
  }
  const info = ctx.tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as RoundingMode,
    false,
    "channelsLast",
  );
  if (!sameShape(info.outShape, dy.shape) || !positiveInts([info.strideHeight, info.strideWidth])) {
    throw invalidInput(OP, `dy of shape [${info.outShape.join(",")}] (the forward output for inputShape, filter, strides and pad)`, shapes);
  }
  if (info.strideHeight > 1 || info.strideWidth > 1) return withScratch(ctx, args.backend, (s) => subPixelBackpropInput(s, dy, filter, info));
  return withScratch(ctx, args.backend, (s) => transposedConv(s, dy, rotateFilter(s, filter), info, "Conv2D"));
}

/** Registration of {@link conv2dBackpropInput} for the 'wasm' backend. */
export function conv2dBackpropInputConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => conv2dBackpropInput(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
