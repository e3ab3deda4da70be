/**
 * The geometry of one random transform: the parameters Keras's
 * `ImageDataGenerator.get_random_transform` draws, and the single affine map
 * (about the image centre, flips folded in) that moves an image, its boxes and
 * its mask together.
 *
 * Coordinates: `x` is the column, `y` the row, pixel centres at integers. The
 * sampling matrix maps an output pixel to the source point it reads:
 *
 *     source = C · R(θ) · T(tx, ty) · Sh(shear) · Z(zx, zy) · C⁻¹ · F · output
 *
 * with C the translation to the centre ((w − 1)/2, (h − 1)/2),
 * R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]], T the shift, Sh = [[1, −sin s], [0, cos s]],
 * Z = diag(zx, zy) and F the flips (x → w − 1 − x, y → h − 1 − y), applied last to the
 * picture as Keras does. This is Keras's `apply_affine_transform` product in the same order.
 */

/** The parameters of one transform, Keras's `transform_parameters` dict in camelCase. */
export interface TransformParams {
  /** Rotation in degrees; positive turns the picture counter-clockwise. */
  theta: number;
  /** Horizontal shift in pixels: output column x reads source column x + tx. */
  tx: number;
  /** Vertical shift in pixels: output row y reads source row y + ty. */
  ty: number;
  /** Shear angle in degrees. */
  shear: number;
  /** Horizontal zoom: values < 1 enlarge the picture. */
  zx: number;
  /** Vertical zoom. */
  zy: number;
  /** Mirror left-right. */
  flipHorizontal: boolean;
  /** Mirror top-bottom. */
  flipVertical: boolean;
  /** Added to every channel value (then clipped to the image's range); null for none. */
  channelShiftIntensity: number | null;
  /** Brightness factor (1 unchanged); null for none. */
  brightness: number | null;
}

/** The identity: parameters that leave an image unchanged. */
export const IDENTITY: Readonly<TransformParams> = Object.freeze({
  theta: 0,
  tx: 0,
  ty: 0,
  shear: 0,
  zx: 1,
  zy: 1,
  flipHorizontal: false,
  flipVertical: false,
  channelShiftIntensity: null,
  brightness: null,
});

/** A 2x3 affine map `[a, b, c, d, e, f]`: (x, y) → (a x + b y + c, d x + e y + f). */
export type Affine = [number, number, number, number, number, number];

function compose(p: Affine, q: Affine): Affine {
  // (p ∘ q)(v) = p(q(v))
  return [
    p[0] * q[0] + p[1] * q[3],
    p[0] * q[1] + p[1] * q[4],
    p[0] * q[2] + p[1] * q[5] + p[2],
    p[3] * q[0] + p[4] * q[3],
    p[3] * q[1] + p[4] * q[4],
    p[3] * q[2] + p[4] * q[5] + p[5],
  ];
}

/**
 * The sampling matrix of `params` for an image of `height` x `width`: output
 * pixel (x, y) reads the source at (a x + b y + c, d x + e y + f).
 */
export function samplingMatrix(params: TransformParams, height: number, width: number): Affine {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const t = (params.theta * Math.PI) / 180;
  const s = (params.shear * Math.PI) / 180;
  let m: Affine = [1, 0, cx, 0, 1, cy];
  if (params.theta !== 0) m = compose(m, [Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0]);
  if (params.tx !== 0 || params.ty !== 0) m = compose(m, [1, 0, params.tx, 0, 1, params.ty]);
  if (params.shear !== 0) m = compose(m, [1, -Math.sin(s), 0, 0, Math.cos(s), 0]);
  if (params.zx !== 1 || params.zy !== 1) m = compose(m, [params.zx, 0, 0, 0, params.zy, 0]);
  m = compose(m, [1, 0, -cx, 0, 1, -cy]);
  if (params.flipHorizontal) m = compose(m, [-1, 0, width - 1, 0, 1, 0]);
  if (params.flipVertical) m = compose(m, [1, 0, 0, 0, -1, height - 1]);
  return m;
}

/** The inverse map: where a source point lands in the output. */
export function invertAffine(m: Affine): Affine {
  const det = m[0] * m[4] - m[1] * m[3];
  const a = m[4] / det;
  const b = -m[1] / det;
  const d = -m[3] / det;
  const e = m[0] / det;
  return [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])];
}

/** True when `params` moves no pixel (the warp is then a plain copy). */
export function isIdentity(params: TransformParams): boolean {
  return params.theta === 0 && params.tx === 0 && params.ty === 0 && params.shear === 0 && params.zx === 1 && params.zy === 1 && !params.flipHorizontal && !params.flipVertical;
}
