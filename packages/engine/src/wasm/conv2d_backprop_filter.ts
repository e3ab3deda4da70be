/**
 * `Conv2DBackpropFilter` for the wasm backend (missing from the stock
 * backend, so Conv2D, Conv2DTranspose and SeparableConv2D could not train).
 *
 * The filter gradient
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·sh + kh·dh − padTop, ow·sw + kw·dw − padLeft, ci] · dy[n, oh, ow, co]
 *
 * is itself a forward convolution, run by XNNPACK: the input is x with batch
 * and channels swapped, [CI, H, W, N] (CI plays the batch, N the channels),
 * the filter is dy as [OH, OW, N, CO], the convolution's stride is the forward
 * dilation and its dilation the forward stride. Its output [CI, KH, KW, CO] is
 * transposed to [KH, KW, CI, CO]. Forward padding becomes explicit padding of
 * this convolution; rows the forward pass never read are cut off.
 *
 * XNNPACK packs a convolution's filter when it creates the operator, and here
 * the filter is dy, new at every step: for a first layer (KH·KW·CI ≤ 36, e.g.
 * 3×3 on grayscale or RGB) packing costs more than the product, so convlab's
 * SIMD loop computes dW directly from x and dy instead.
 */
import {
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
  WasmBackend,
  withScratch,
} from "./kernel_util";
import { addressOf, simdKernels, UNROLLED_MAX } from "./simd_kernels";

const OP = "Conv2DBackpropFilter";
/**
 * Up to this many taps × input channels (3×3 on 4 channels), convlab's SIMD loop beats
 * XNNPACK, which must repack all of dy as weights on every call.
 */
const SMALL_FILTER_MAX = 36;

/** Forward geometry a filter gradient needs (a subset of tfjs's Conv2DInfo). */
export interface FilterGradGeometry {
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
}

/**
 * Correlates `input` [B, H, W, N] with `filter` [OH, OW, N, CO] as the filter
 * gradient of the forward geometry `g`: returns [B, KH, KW, CO] with
 * out[b, kh, kw, co] = Σ_{oh, ow, n} input[b, kh·dh + oh·sh − padTop, kw·dw + ow·sw − padLeft, n] · filter[oh, ow, n, co].
 */
export function filterGradConv(s: Scratch, input: TensorInfo, filter: TensorInfo, g: FilterGradGeometry): TensorInfo {
  const bottom = (g.filterHeight - 1) * g.dilationHeight + (g.outHeight - 1) * g.strideHeight + 1 - g.inHeight - g.padInfo.top;
  const right = (g.filterWidth - 1) * g.dilationWidth + (g.outWidth - 1) * g.strideWidth + 1 - g.inWidth - g.padInfo.left;
  const pad = [[0, 0], [g.padInfo.top, Math.max(bottom, 0)], [g.padInfo.left, Math.max(right, 0)], [0, 0]];
  const out = s.run(
    "Conv2D",
    { x: input, filter },
    { strides: [g.dilationHeight, g.dilationWidth], dilations: [g.strideHeight, g.strideWidth], pad, dataFormat: "NHWC" },
  );
  if (out.shape[1] === g.filterHeight && out.shape[2] === g.filterWidth) return out;
  return s.run("Slice", { x: out }, { begin: [0, 0, 0, 0], size: [out.shape[0], g.filterHeight, g.filterWidth, out.shape[3]] });
}

/**
 * Kernel function of `Conv2DBackpropFilter` on wasm.
 *
 * Inputs: `x` [N, H, W, CI], `dy` [N, OH, OW, CO]. Attributes: `filterShape`
 * [KH, KW, CI, CO], `strides`, `pad`, `dataFormat` ("NHWC" only),
 * `dimRoundingMode`. Returns dW [KH, KW, CI, CO].
 *
 * @throws Error `Conv2DBackpropFilter: invalid input. Expected … Received: ….`
 * when the shapes do not describe one convolution or dataFormat is NCHW.
 */
export function conv2dBackpropFilter(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs;
  const attrs = args.attrs ?? {};
  const filterShape = attrs.filterShape as number[];
  const shapes = `x=${describe(x)}, dy=${describe(dy)}, filterShape=${show(filterShape)}, strides=${show(attrs.strides)}, pad=${show(attrs.pad)}`;
  requireChannelsLast(OP, attrs.dataFormat, shapes);
  if (
    x === undefined ||
    dy === undefined ||
    x.shape.length !== 4 ||
    dy.shape.length !== 4 ||
    x.dtype !== "float32" ||
    dy.dtype !== "float32" ||
    !Array.isArray(filterShape) ||
    filterShape.length !== 4 ||
    !positiveInts(filterShape) ||
    !positiveInts(x.shape) ||
    x.shape[3] !== filterShape[2] ||
    dy.shape[3] !== filterShape[3] ||
    dy.shape[0] !== x.shape[0]
  ) {
    throw invalidInput(
      OP,
      "float32 x [batch, height, width, inChannels], dy [batch, outHeight, outWidth, outChannels] and filterShape [height, width, inChannels, outChannels] with matching batch and channels",
      shapes,
    );
  }
  const info = ctx.tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as RoundingMode,
    false,
    "channelsLast",
  );
  if (!sameShape(info.outShape, dy.shape) || !positiveInts([info.strideHeight, info.strideWidth])) {
    throw invalidInput(OP, `dy of shape [${info.outShape.join(",")}] (the forward output for x, filterShape, strides and pad)`, shapes);
  }
  const backend = args.backend as WasmBackend;
  const [kh, kw, ci, co] = filterShape;
  const simd = kh * kw * ci <= SMALL_FILTER_MAX && co % 4 === 0 ? simdKernels(backend.wasm) : null;
  if (simd !== null) {
    const out = backend.makeOutput(filterShape, "float32");
    f32(backend, out).fill(0);
    const run = co / 4 <= UNROLLED_MAX ? simd[`convFilterGrad${co / 4}`] : simd.convFilterGrad;
    run(
      addressOf(backend, x.dataId),
      addressOf(backend, dy.dataId),
      addressOf(backend, out.dataId),
      x.shape[0],
      x.shape[1],
      x.shape[2],
      ci,
      info.outHeight,
      info.outWidth,
      co / 4,
      kh,
      kw,
      info.strideHeight,
      info.strideWidth,
      info.padInfo.top,
      info.padInfo.left,
    );
    return out;
  }
  return withScratch(ctx, args.backend, (s) => {
    const xT = s.run("Transpose", { x }, { perm: [3, 1, 2, 0] });
    const dyT = s.run("Transpose", { x: dy }, { perm: [1, 2, 0, 3] });
    const out = filterGradConv(s, xT, dyT, info);
    return s.run("Transpose", { x: out }, { perm: [1, 2, 0, 3] });
  });
}

/** Registration of {@link conv2dBackpropFilter} for the 'wasm' backend. */
export function conv2dBackpropFilterConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => conv2dBackpropFilter(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
