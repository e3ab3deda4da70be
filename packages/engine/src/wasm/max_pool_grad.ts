/**
 * `MaxPoolGrad` for the wasm backend, correct and fast.
 *
 * The stock wasm kernel is a scalar C++ loop and gets windows without a
 * positive value wrong: for the windows [−3, −1, −2, −5] and [0, 0, 0, 0] it
 * sent the first gradient to −3 and dropped the second (tfjs's cpu backend:
 * to −1, and to the first 0). This version follows the cpu backend exactly:
 * each output's gradient goes to the first maximum of its window in
 * row-major order (strict `>` starting from −∞; padding never wins; a window
 * of only NaN or −∞ passes no gradient) and overlapping windows add up. It
 * runs convlab's SIMD loop on the wasm heap (a special case for 2×2 windows
 * at stride 2), or a JavaScript loop when the channels are not a multiple of 4.
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
  RoundingMode,
  sameShape,
  show,
  TensorInfo,
  WasmBackend,
} from "./kernel_util";
import { addressOf, simdKernels } from "./simd_kernels";

const OP = "MaxPoolGrad";

/**
 * Kernel function of `MaxPoolGrad` on wasm.
 *
 * Inputs: `dy` [N, OH, OW, C], `input` [N, H, W, C] (the forward input),
 * `output` (the forward output, unused). Attributes: `filterSize`, `strides`,
 * `pad`, `dimRoundingMode`. Returns dx [N, H, W, C].
 *
 * @throws Error `MaxPoolGrad: invalid input. Expected … Received: ….` when dy
 * is not the pooled shape of input or a tensor is not float32 of rank 4.
 */
export function maxPoolGrad(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { dy, input } = args.inputs;
  const attrs = args.attrs ?? {};
  const shapes = `dy=${describe(dy)}, input=${describe(input)}, filterSize=${show(attrs.filterSize)}, strides=${show(attrs.strides)}, pad=${show(attrs.pad)}`;
  if (
    dy === undefined ||
    input === undefined ||
    dy.shape.length !== 4 ||
    input.shape.length !== 4 ||
    input.dtype !== "float32" ||
    dy.dtype !== "float32" ||
    !positiveInts(input.shape)
  ) {
    throw invalidInput(OP, "float32 dy [batch, outHeight, outWidth, channels] and input [batch, height, width, channels]", shapes);
  }
  const info = ctx.tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as RoundingMode,
  );
  if (!sameShape(info.outShape, dy.shape) || !positiveInts([info.strideHeight, info.strideWidth, info.filterHeight, info.filterWidth])) {
    throw invalidInput(OP, `dy of shape [${info.outShape.join(",")}] (the pooled shape of input for filterSize, strides and pad)`, shapes);
  }
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(input.shape, "float32");
  const dx = f32(backend, out);
  const x = f32(backend, input);
  const g = f32(backend, dy);
  const [batch, height, width, channels] = input.shape;
  const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const simd = channels % 4 === 0 ? simdKernels(backend.wasm) : null;
  const tiles = filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && top === 0 && left === 0;
  // 2×2 tiles that cover the input write every element of dx.
  if (!(simd !== null && tiles && 2 * outHeight === height && 2 * outWidth === width)) dx.fill(0);
  if (simd !== null && tiles && 2 * outHeight <= height && 2 * outWidth <= width) {
    // Every window lies inside the input: 2×2 tiles, no padding.
    simd.maxPoolGrad2x2(
      addressOf(backend, input.dataId),
      addressOf(backend, dy.dataId),
      addressOf(backend, out.dataId),
      batch,
      height,
      width,
      channels / 4,
      outHeight,
      outWidth,
    );
    return out;
  }
  if (simd !== null) {
    simd.maxPoolGrad(
      addressOf(backend, input.dataId),
      addressOf(backend, dy.dataId),
      addressOf(backend, out.dataId),
      batch,
      height,
      width,
      channels / 4,
      outHeight,
      outWidth,
      filterHeight,
      filterWidth,
      strideHeight,
      strideWidth,
      top,
      left,
    );
    return out;
  }
  // Offsets of the window's in-bounds pixels, row-major (the order ties are broken in).
  const offsets = new Int32Array(filterHeight * filterWidth);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - top;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(height, y0 + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - left;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(width, x0 + filterWidth);
        let count = 0;
        for (let yy = yStart; yy < yEnd; yy++) {
          for (let xx = xStart; xx < xEnd; xx++) offsets[count++] = ((b * height + yy) * width + xx) * channels;
        }
        const gBase = ((b * outHeight + oy) * outWidth + ox) * channels;
        if (count === 4 && filterHeight === 2 && filterWidth === 2) {
          // The common 2×2 window, unrolled: first maximum in row-major order.
          const o0 = offsets[0];
          const o1 = o0 + channels;
          const o2 = offsets[2];
          const o3 = o2 + channels;
          for (let c = 0; c < channels; c++) {
            let best = x[o0 + c];
            let at = o0 + c;
            if (!(best > -Infinity)) at = -1;
            const v1 = x[o1 + c];
            if (v1 > best || (at < 0 && v1 > -Infinity)) {
              best = v1;
              at = o1 + c;
            }
            const v2 = x[o2 + c];
            if (v2 > best || (at < 0 && v2 > -Infinity)) {
              best = v2;
              at = o2 + c;
            }
            const v3 = x[o3 + c];
            if (v3 > best || (at < 0 && v3 > -Infinity)) at = o3 + c;
            if (at >= 0) dx[at] += g[gBase + c];
          }
          continue;
        }
        for (let c = 0; c < channels; c++) {
          let best = -Infinity;
          let at = -1;
          for (let p = 0; p < count; p++) {
            const v = x[offsets[p] + c];
            if (v > best) {
              best = v;
              at = offsets[p] + c;
            }
          }
          if (at >= 0) dx[at] += g[gBase + c];
        }
      }
    }
  }
  return out;
}

/** Registration of {@link maxPoolGrad} for the 'wasm' backend. */
export function maxPoolGradConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => maxPoolGrad(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
