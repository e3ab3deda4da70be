/**
 * `DepthwiseConv2dNativeBackpropInput` and `DepthwiseConv2dNativeBackpropFilter`
 * for the wasm backend (both missing from the stock backend, so
 * DepthwiseConv2D and SeparableConv2D could not train).
 *
 * Input gradient: like Conv2DBackpropInput, a forward XNNPACK depthwise
 * convolution of the stride-spread, padded dy with the filter rotated by 180°
 * (dilation kept). With a channel multiplier M > 1 it runs over all C·M
 * channels and the M results of each input channel are summed.
 *
 * Filter gradient, per tap (kh, kw), channel c and multiplier m:
 *
 *   dW[kh, kw, c, m] = Σ_{n, oh, ow} x[n, oh·sh + kh·dh − padTop, ow·sw + kw·dw − padLeft, c] · dy[n, oh, ow, c·M + m]
 *
 * an elementwise product summed over batch and pixels, which no XNNPACK
 * operator computes without repacking dy as an OH×OW filter; convlab's SIMD
 * loop does it in place (JavaScript when C·M is not a multiple of 4).
 */
import { transposedConv } from "./conv2d_backprop_input";
import {
  describe,
  f32,
  invalidInput,
  KernelArgs,
  KernelConfig,
  KernelContext,
  Pad,
  positiveInts,
  RoundingMode,
  sameShape,
  Scratch,
  show,
  TensorInfo,
  Tfjs,
  WasmBackend,
  withScratch,
} from "./kernel_util";
import { addressOf, simdKernels } from "./simd_kernels";

const INPUT_OP = "DepthwiseConv2dNativeBackpropInput";
const FILTER_OP = "DepthwiseConv2dNativeBackpropFilter";

/** Forward geometry of a depthwise convolution, validated. */
function depthwiseInfo(
  ctx: KernelContext,
  op: string,
  xShape: number[],
  filterShape: number[],
  dy: TensorInfo,
  attrs: Record<string, unknown>,
  shapes: string,
): ReturnType<Tfjs["backend_util"]["computeConv2DInfo"]> {
  const dilations = (attrs.dilations as number | [number, number] | undefined) ?? 1;
  const info = ctx.tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    dilations,
    attrs.pad as Pad,
    attrs.dimRoundingMode as RoundingMode,
    true,
  );
  if (
    !sameShape(info.outShape, dy.shape) ||
    !positiveInts([info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth])
  ) {
    throw invalidInput(op, `dy of shape [${info.outShape.join(",")}] (the forward output for the input, filter, strides, dilations and pad)`, shapes);
  }
  return info;
}

/**
 * Rotates a depthwise filter [KH, KW, C, M] by 180° into [KH, KW, C·M, 1]:
 * out[kh, kw, c·M + m, 0] = W[KH−1−kh, KW−1−kw, c, m].
 */
function rotateDepthwise(s: Scratch, filter: TensorInfo): TensorInfo {
  const [kh, kw, c, m] = filter.shape;
  const out = s.alloc([kh, kw, c * m, 1]);
  const dst = f32(s.backend, out);
  const src = f32(s.backend, filter);
  const cm = c * m;
  for (let r = 0; r < kh; r++) {
    for (let q = 0; q < kw; q++) {
      dst.set(src.subarray(((kh - 1 - r) * kw + (kw - 1 - q)) * cm, ((kh - 1 - r) * kw + (kw - 1 - q) + 1) * cm), (r * kw + q) * cm);
    }
  }
  return out;
}

/**
 * Kernel function of `DepthwiseConv2dNativeBackpropInput` on wasm.
 *
 * Inputs: `dy` [N, OH, OW, C·M], `filter` [KH, KW, C, M]. Attributes:
 * `inputShape` [N, H, W, C], `strides`, `dilations`, `pad`,
 * `dimRoundingMode`. Returns dx [N, H, W, C].
 *
 * @throws Error `DepthwiseConv2dNativeBackpropInput: invalid input. Expected … Received: ….`
 * when the shapes do not describe one depthwise convolution.
 */
export function depthwiseConv2dNativeBackpropInput(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { dy, filter } = args.inputs;
  const attrs = args.attrs ?? {};
  const inputShape = attrs.inputShape as number[];
  const shapes = `dy=${describe(dy)}, filter=${describe(filter)}, inputShape=${show(inputShape)}, strides=${show(attrs.strides)}, dilations=${show(attrs.dilations)}, pad=${show(attrs.pad)}`;
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
    dy.shape[3] !== filter.shape[2] * filter.shape[3] ||
    dy.shape[0] !== inputShape[0]
  ) {
    throw invalidInput(
      INPUT_OP,
      "float32 dy [batch, outHeight, outWidth, channels·multiplier], filter [height, width, channels, multiplier] and inputShape [batch, height, width, channels] with matching batch and channels",
      shapes,
    );
  }
  const info = depthwiseInfo(ctx, INPUT_OP, inputShape, filter.shape, dy, attrs, shapes);
  const [n, h, w, c] = inputShape;
  const m = filter.shape[3];
  return withScratch(ctx, args.backend, (s) => {
    const full = transposedConv(s, dy, rotateDepthwise(s, filter), info, "DepthwiseConv2dNative");
    if (m === 1) return full;
    return s.run("Sum", { x: s.reshape(full, [n, h, w, c, m]) }, { axis: [4], keepDims: false });
  });
}

/** x [N, H, W, C] repeated M times per channel: [N, H, W, C·M] (channel c·M + m = channel c). */
function repeatChannels(s: Scratch, x: TensorInfo, m: number): TensorInfo {
  const [n, h, w, c] = x.shape;
  const out = s.alloc([n, h, w, c * m]);
  const dst = f32(s.backend, out);
  const src = f32(s.backend, x);
  const pixels = n * h * w;
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < c; k++) {
      const v = src[p * c + k];
      const o = (p * c + k) * m;
      for (let j = 0; j < m; j++) dst[o + j] = v;
    }
  }
  return out;
}

/**
 * Kernel function of `DepthwiseConv2dNativeBackpropFilter` on wasm.
 *
 * Inputs: `x` [N, H, W, C], `dy` [N, OH, OW, C·M]. Attributes: `filterShape`
 * [KH, KW, C, M], `strides`, `dilations`, `pad`, `dimRoundingMode`. Returns
 * dW [KH, KW, C, M].
 *
 * @throws Error `DepthwiseConv2dNativeBackpropFilter: invalid input. Expected … Received: ….`
 * when the shapes do not describe one depthwise convolution.
 */
export function depthwiseConv2dNativeBackpropFilter(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs;
  const attrs = args.attrs ?? {};
  const filterShape = attrs.filterShape as number[];
  const shapes = `x=${describe(x)}, dy=${describe(dy)}, filterShape=${show(filterShape)}, strides=${show(attrs.strides)}, dilations=${show(attrs.dilations)}, pad=${show(attrs.pad)}`;
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
    dy.shape[3] !== filterShape[2] * filterShape[3] ||
    dy.shape[0] !== x.shape[0]
  ) {
    throw invalidInput(
      FILTER_OP,
      "float32 x [batch, height, width, channels], dy [batch, outHeight, outWidth, channels·multiplier] and filterShape [height, width, channels, multiplier] with matching batch and channels",
      shapes,
    );
  }
  const info = depthwiseInfo(ctx, FILTER_OP, x.shape, filterShape, dy, attrs, shapes);
  const [kh, kw, c, m] = filterShape;
  return withScratch(ctx, args.backend, (s) => {
    const xs = m === 1 ? x : repeatChannels(s, x, m);
    const channels = c * m;
    const out = s.alloc([kh, kw, c, m]);
    const backend = s.backend as WasmBackend;
    const [n, h, w] = x.shape;
    const { outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    f32(backend, out).fill(0);
    const simd = channels % 4 === 0 ? simdKernels(backend.wasm) : null;
    if (simd !== null) {
      simd.depthwiseFilterGrad(
        addressOf(backend, xs.dataId),
        addressOf(backend, dy.dataId),
        addressOf(backend, out.dataId),
        n,
        h,
        w,
        channels / 4,
        outHeight,
        outWidth,
        kh,
        kw,
        strideHeight,
        strideWidth,
        dilationHeight,
        dilationWidth,
        top,
        left,
      );
      return out;
    }
    const src = f32(backend, xs);
    const g = f32(backend, dy);
    const dst = f32(backend, out);
    const acc = new Float64Array(channels);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        acc.fill(0);
        for (let b = 0; b < n; b++) {
          for (let r = 0; r < outHeight; r++) {
            const ih = r * strideHeight + i * dilationHeight - top;
            if (ih < 0 || ih >= h) continue;
            for (let q = 0; q < outWidth; q++) {
              const iw = q * strideWidth + j * dilationWidth - left;
              if (iw < 0 || iw >= w) continue;
              const xo = ((b * h + ih) * w + iw) * channels;
              const go = ((b * outHeight + r) * outWidth + q) * channels;
              for (let k = 0; k < channels; k++) acc[k] += src[xo + k] * g[go + k];
            }
          }
        }
        dst.set(acc, (i * kw + j) * channels);
      }
    }
    return out;
  });
}

/** Registration of {@link depthwiseConv2dNativeBackpropInput} for the 'wasm' backend. */
export function depthwiseConv2dNativeBackpropInputConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: INPUT_OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => depthwiseConv2dNativeBackpropInput(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}

/** Registration of {@link depthwiseConv2dNativeBackpropFilter} for the 'wasm' backend. */
export function depthwiseConv2dNativeBackpropFilterConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: FILTER_OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => depthwiseConv2dNativeBackpropFilter(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
