/**
 * Gradients tfjs lacks, registered for every backend.
 *
 * Conv2D with dilation > 1 (Keras `Conv2D(dilation_rate=2)`): tfjs refuses its gradient
 * ("dilation rates greater than 1 are not yet supported in gradients"). A dilated
 * convolution is an ordinary one with a dilated kernel, one whose taps are spread
 * `d` apart with zeros between them:
 *
 *   conv(x, w, dilation d) = conv(x, dilate(w, d), dilation 1)
 *   dx = conv2DBackpropInput(dy, dilate(w, d))
 *   dw = every d-th tap of conv2DBackpropFilter(x, dy, shape of dilate(w, d))
 *
 * Both backprops are the backend's own kernels (native, wasm or cpu), so the gradient is
 * as fast as an undilated one with the larger kernel. tfjs allows dilation only with
 * stride 1, so no stride enters the formulas.
 */
import * as tf from "@tensorflow/tfjs";

type Conv2DAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dilations: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
};

const pair = (v: number | [number, number]): [number, number] => (typeof v === "number" ? [v, v] : v);

/**
 * `filter` [kh, kw, cin, cout] with `dh - 1` zero rows between its rows and `dw - 1` zero
 * columns between its columns: [(kh - 1) dh + 1, (kw - 1) dw + 1, cin, cout].
 */
export function dilateFilter(filter: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, cin, cout] = filter.shape;
    const spread = filter
      .reshape([kh, 1, kw, 1, cin, cout])
      .pad([[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]])
      .reshape([kh * dh, kw * dw, cin, cout]);
    return spread.slice([0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, cin, cout]) as tf.Tensor4D;
  });
}

/** Registers the gradients above (idempotent). */
export function registerGradients(): void {
  const original = tf.getGradient("Conv2D");
  if (!original || (original as { convlab?: boolean }).convlab) return;
  const config = {
    ...original,
    convlab: true,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const { dilations, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
      const d = pair(dilations ?? 1);
      if ((d[0] === 1 && d[1] === 1) || dataFormat === "NCHW") return original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const grad = dy as tf.Tensor4D;
      const common = { strides: [1, 1], pad, dataFormat: "NHWC", dimRoundingMode } as unknown as tf.NamedAttrMap;
      return {
        x: () =>
          tf.tidy(() => {
            const dilated = dilateFilter(filter, d);
            return tf.engine().runKernel("Conv2DBackpropInput", { dy: grad, filter: dilated }, { ...common, inputShape: x.shape }) as tf.Tensor;
          }),
        filter: () =>
          tf.tidy(() => {
            const [kh, kw, cin, cout] = filter.shape;
            const dilatedShape = [(kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1, cin, cout];
            const full = tf.engine().runKernel("Conv2DBackpropFilter", { x, dy: grad }, { ...common, filterShape: dilatedShape }) as tf.Tensor4D;
            return tf.stridedSlice(full, [0, 0, 0, 0], dilatedShape, [d[0], d[1], 1, 1]);
          }),
      };
    },
  };
  tf.registerGradient(config as tf.GradConfig);
}
