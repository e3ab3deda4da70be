/**
 * `warpAffine`: resamples a batch of images, each through its own affine map,
 * with SciPy's `ndimage.affine_transform` semantics, which is what Keras's
 * `ImageDataGenerator` calls for every rotation, shift, shear and zoom, or
 * TensorFlow's `ImageProjectiveTransformV3` (`tf.image.transform`, what Keras's
 * random layers call), which differs only in its wrap.
 *
 * Geometry: pixel centres sit at integer coordinates, `x` the column and `y`
 * the row. Output pixel `(x, y)` reads the source at
 *
 *     x' = m[0]·x + m[1]·y + m[2]
 *     y' = m[3]·x + m[4]·y + m[5]
 *
 * (the inverse of the map that moves the picture). A coordinate outside the
 * source is brought back per axis by the fill mode (source length `n`):
 *
 * | mode       | what lies beyond the edge | e.g. n = 4: a b c d           |
 * |------------|---------------------------|-------------------------------|
 * | `nearest`  | the edge pixel repeated   | a a a a \| a b c d \| d d d d |
 * | `reflect`  | mirror about the pixel edge (period 2n) | d c b a \| a b c d \| d c b a |
 * | `wrap`     | SciPy's wrap: period n − 1, first and last pixel overlap | b c d \| a b c d \| b c d |
 * | `constant` | `cval` for any coordinate outside [0, n − 1] (no blending with `cval`) |  |
 * | `tf-wrap`  | TensorFlow's wrap: period n, counted so that far-out points clamp to an edge | a b c d \| a b c d \| a b c d |
 *
 * `order` 1 is bilinear interpolation between the four neighbours (after the
 * coordinate is brought back), `order` 0 takes the nearest, `floor(x' + 0.5)`.
 * Matrix entries within 1e-12 of an integer, and coordinates that fall outside
 * the source by less than 1e-4 px, are taken as the integer, so a 90° rotation or a
 * whole-pixel shift reads exact pixels (SciPy lets round-off decide; the results
 * differ only there).
 */
import { fail, show } from "./errors";
import { loadNativeAddon, NativeAddon } from "./native_addon";

/** How {@link warpAffine} fills what comes from outside the source (see the table above). */
export type WarpFillMode = "nearest" | "constant" | "reflect" | "wrap" | "tf-wrap";
const FILL_MODES: readonly WarpFillMode[] = ["nearest", "constant", "reflect", "wrap", "tf-wrap"];

/** Arguments of {@link warpAffine}. */
export interface WarpAffineArgs {
  /** Source images, `[count, height, width, channels]` row-major, channels last. */
  src: Uint8Array | Uint8ClampedArray | Float32Array;
  /** `[count, height, width, channels]` of `src`, positive integers. */
  srcShape: readonly [number, number, number, number];
  /** Output, `[count, outHeight, outWidth, channels]`; fully overwritten; must not share memory with `src`. */
  out: Float32Array | Uint8Array;
  /** `[outHeight, outWidth]`; count and channels are the source's. */
  outSize: readonly [number, number];
  /** 6 numbers per image, `[a, b, c, d, e, f]`: its output `(x, y)` reads source `(a·x + b·y + c, d·x + e·y + f)`. */
  matrices: ArrayLike<number>;
  /** 0 nearest, 1 bilinear (Keras's default). */
  order: 0 | 1;
  /** See {@link WarpFillMode}. */
  fillMode: WarpFillMode;
  /** Value for `constant`, before `scale`. Default 0. */
  cval?: number;
  /** Every output value is multiplied by it (Keras's `rescale`, fused). Default 1. */
  scale?: number;
}

const SNAP = 1e-4; // px: float32 maps (tf.image.transform) land this close to an edge

/**
 * Brings coordinate `c` of an axis of length `n` into [0, n − 1] by `mode`;
 * NaN when `mode` is `constant` and `c` is outside.
 */
function mapCoordinate(c: number, n: number, mode: number): number {
  const r = Math.round(c);
  if (Math.abs(c - r) < SNAP) c = r;
  if (c >= 0 && c <= n - 1) return c;
  switch (mode) {
    case 0: // nearest
      return c < 0 ? 0 : n - 1;
    case 1: // constant
      return NaN;
    case 2: {
      // reflect: fold into [-0.5, n - 0.5) with period 2n, then clamp.
      const p = 2 * n;
      let t = (((c + 0.5) % p) + p) % p - 0.5;
      if (t > n - 0.5) t = p - 1 - t;
      return t < 0 ? 0 : t > n - 1 ? n - 1 : t;
    }
    case 4: {
      // tf-wrap, TensorFlow's formula: whole periods of n removed, counted in units of n - 1, then clamped.
      if (n === 1) return 0;
      const t = c < 0 ? c + n * (Math.trunc(-c / (n - 1)) + 1) : c - n * Math.trunc(c / (n - 1));
      return t < 0 ? 0 : t > n - 1 ? n - 1 : t;
    }
    default: {
      // wrap, SciPy's: period n - 1.
      if (n === 1) return 0;
      const p = n - 1;
      return ((c % p) + p) % p;
    }
  }
}

function checkArgs(args: WarpAffineArgs): void {
  const unit = "warpAffine";
  const { src, srcShape, out, outSize, matrices } = args;
  if (!Array.isArray(srcShape) || srcShape.length !== 4 || !srcShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw fail(`${unit}: invalid srcShape. Expected [count, height, width, channels], positive integers. Received: srcShape=${show(srcShape)}.`);
  }
  const [n, , , channels] = srcShape;
  const srcLength = srcShape.reduce((a, b) => a * b, 1);
  if (!(src instanceof Uint8Array || src instanceof Uint8ClampedArray || src instanceof Float32Array) || src.length !== srcLength) {
    throw fail(`${unit}: invalid src. Expected a Uint8Array or Float32Array of ${srcLength} values (${srcShape.join("x")}). Received: src=${show(src)}.`);
  }
  if (!Array.isArray(outSize) || outSize.length !== 2 || !outSize.every((d) => Number.isInteger(d) && d > 0)) {
    throw fail(`${unit}: invalid outSize. Expected [height, width], positive integers. Received: outSize=${show(outSize)}.`);
  }
  const outLength = n * outSize[0] * outSize[1] * channels;
  if (!(out instanceof Float32Array || out instanceof Uint8Array) || out.length !== outLength) {
    throw fail(`${unit}: invalid out. Expected a Float32Array or Uint8Array of ${outLength} values (${n}x${outSize.join("x")}x${channels}). Received: out=${show(out)}.`);
  }
  if (matrices === null || typeof matrices !== "object" || matrices.length !== 6 * n) {
    throw fail(`${unit}: invalid matrices. Expected ${6 * n} finite numbers, [a, b, c, d, e, f] per image. Received: matrices=${show(matrices)}.`);
  }
  for (let k = 0; k < matrices.length; k++) {
    if (!Number.isFinite(matrices[k])) throw fail(`${unit}: invalid matrices. Expected finite numbers. Received: matrices[${k}]=${show(matrices[k])}.`);
  }
  if (args.order !== 0 && args.order !== 1) throw fail(`${unit}: invalid order. Expected 0 (nearest) or 1 (bilinear). Received: order=${show(args.order)}.`);
  if (!FILL_MODES.includes(args.fillMode)) {
    throw fail(`${unit}: invalid fillMode. Expected one of ${FILL_MODES.map((m) => JSON.stringify(m)).join(", ")}. Received: fillMode=${show(args.fillMode)}.`);
  }
  for (const key of ["cval", "scale"] as const) {
    if (args[key] !== undefined && !Number.isFinite(args[key])) throw fail(`${unit}: invalid ${key}. Expected a finite number. Received: ${key}=${show(args[key])}.`);
  }
}

/**
 * Resamples each image of `src` into `out` through its own affine map (see the module comment
 * for the geometry and fill modes), in one call: natively with the images' rows split over
 * threads, else in TypeScript. Synchronous; writes every value of `out` (to a Uint8Array output
 * values are rounded and clamped to 0–255).
 *
 * @throws ConvlabError (one line) for a buffer whose length does not match its shape, matrices
 *   that are not 6 finite numbers per image, an unknown order or fill mode.
 *
 * @example
 * ```ts
 * // A 90° turn of one 4x4 grey image about its centre (1.5, 1.5).
 * const out = new Float32Array(16);
 * warpAffine({ src, srcShape: [1, 4, 4, 1], out, outSize: [4, 4], matrices: [0, -1, 3, 1, 0, 0], order: 1, fillMode: "nearest" });
 * ```
 *
 * Keras counterpart: `scipy.ndimage.affine_transform(x, matrix, offset, order, mode, cval)` per
 * image and channel, as `keras.preprocessing.image.apply_affine_transform` calls it (its matrix
 * is in (row, column) order: `[[e, d], [b, a]]`, offset `[f, c]`); with `tf-wrap`,
 * `tf.raw_ops.ImageProjectiveTransformV3` with affine rows `[a, b, c, d, e, f, 0, 0]`.
 */
export function warpAffine(args: WarpAffineArgs): void {
  checkArgs(args);
  const addon = nativeKernels();
  if (addon) {
    const mode = FILL_MODES.indexOf(args.fillMode) as 0 | 1 | 2 | 3 | 4;
    addon.warpAffine(args.src, [...args.srcShape], args.out, [...args.outSize], snapMatrices(args.matrices), args.order, mode, args.cval ?? 0, args.scale ?? 1);
    return;
  }
  warpAffineJs(args);
}

/** Entries within 1e-12 of an integer are that integer: cos 90° = 6e-17 must not blur a quarter turn. */
function snapMatrices(m: ArrayLike<number>): Float64Array {
  return Float64Array.from(m, (v) => (Math.abs(v - Math.round(v)) < 1e-12 ? Math.round(v) : +v));
}

let native: NativeAddon | null | undefined;
function nativeKernels(): NativeAddon | null {
  if (native === undefined) {
    const load = loadNativeAddon();
    native = "addon" in load && typeof load.addon.warpAffine === "function" ? load.addon : null;
  }
  return native;
}

/** The TypeScript kernel: used when the native addon is not built; the tests hold both to the same results. */
export function warpAffineJs(args: WarpAffineArgs): void {
  const [n, h, w, channels] = args.srcShape;
  const [oh, ow] = args.outSize;
  const matrices = snapMatrices(args.matrices);
  for (let i = 0; i < n; i++) {
    const src = args.src.subarray(i * h * w * channels, (i + 1) * h * w * channels);
    const out = args.out.subarray(i * oh * ow * channels, (i + 1) * oh * ow * channels);
    warpOne(src, out, h, w, channels, oh, ow, matrices.subarray(6 * i, 6 * i + 6), args);
  }
}

function warpOne(
  src: Uint8Array | Uint8ClampedArray | Float32Array,
  out: Float32Array | Uint8Array,
  h: number,
  w: number,
  channels: number,
  oh: number,
  ow: number,
  m: Float64Array,
  args: WarpAffineArgs,
): void {
  const order = args.order;
  const [a, b, c, d, e, f] = m;
  const mode = FILL_MODES.indexOf(args.fillMode);
  const scale = args.scale ?? 1;
  const fill = (args.cval ?? 0) * scale;
  const round = out instanceof Uint8Array;
  const put = (i: number, v: number): void => {
    out[i] = round ? Math.min(255, Math.max(0, Math.round(v))) : v;
  };
  const maxX = w - 1;
  const maxY = h - 1;
  let o = 0;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++, o += channels) {
      let sx = a * x + b * y + c;
      let sy = d * x + e * y + f;
      if (!(sx >= 0 && sx <= maxX && sy >= 0 && sy <= maxY)) {
        sx = mapCoordinate(sx, w, mode);
        sy = mapCoordinate(sy, h, mode);
        if (sx !== sx || sy !== sy) {
          for (let k = 0; k < channels; k++) put(o + k, fill);
          continue;
        }
      }
      if (order === 0) {
        let ix = Math.floor(sx + 0.5);
        let iy = Math.floor(sy + 0.5);
        if (ix > maxX) ix = maxX;
        if (iy > maxY) iy = maxY;
        const s = (iy * w + ix) * channels;
        for (let k = 0; k < channels; k++) put(o + k, src[s + k] * scale);
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const dx = x0 < maxX ? channels : 0;
      const dy = y0 < maxY ? w * channels : 0;
      const s = (y0 * w + x0) * channels;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      for (let k = 0; k < channels; k++) {
        const p = s + k;
        put(o + k, (w00 * src[p] + w01 * src[p + dx] + w10 * src[p + dy] + w11 * src[p + dx + dy]) * scale);
      }
    }
  }
}
