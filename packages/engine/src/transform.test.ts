/**
 * The corrected `Transform` kernel (tf.image.transform): tfjs 4.22's stock kernels' three
 * deviations from TensorFlow, shown on the stock kernels themselves, and the corrected results
 * on the cpu, native and wasm backends.
 */
import * as tf from "@tensorflow/tfjs";
import "./index";
import { STOCK_KERNEL } from "./transform";
import { setupWasm } from "./wasm";

const STOCK = Symbol.for("convlab.wasm.stockKernel");

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Runs tfjs's own cpu `Transform` kernel (convlab registers over it). */
function stockCpu(x: tf.Tensor, transforms: tf.Tensor, interpolation: string, fillMode: string, fillValue = 0): number[] {
  const config = (tf.getKernel("Transform", "cpu")!.kernelFunc as unknown as Record<symbol, tf.KernelConfig>)[STOCK_KERNEL];
  const info = config.kernelFunc({ inputs: { image: x, transforms }, attrs: { interpolation, fillMode, fillValue, outputShape: null as never }, backend: tf.backend() as never }) as tf.TensorInfo;
  const out = tf.engine().makeTensorFromTensorInfo(info);
  const v = values(out);
  out.dispose();
  return v;
}

const row8 = (m: number[]) => tf.tensor2d([[...m, 0, 0]]);

describe("Transform (tf.image.transform)", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  test("every image of a batch is transformed (tfjs 4.22's cpu kernel stops after the first)", () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
    // The deviation itself: the second image comes back as fillValue.
    expect(stockCpu(x, row8([1, 0, 0, 0, 1, 0]), "nearest", "constant", 9)).toEqual([1, 2, 3, 4, 9, 9, 9, 9]);
    const fixed = tf.image.transform(x, tf.tensor2d([[1, 0, 0, 0, 1, 0, 0, 0], [1, 0, 1, 0, 1, 0, 0, 0]]), "nearest", "constant", 9);
    expect(values(fixed)).toEqual([1, 2, 3, 4, 6, 9, 8, 9]);
  });

  test("constant fill: a point outside [0, len - 1] is fillValue (tfjs blends the edge or rounds onto it)", () => {
    const row = tf.tensor4d([0, 10, 20, 30], [1, 1, 4, 1]);
    const t = row8([1, 0, -0.5, 0, 1, 0]); // column x reads x − 0.5
    // tfjs alone: bilinear mixes the fill into column 0, nearest rounds −0.5 onto column 0.
    expect(stockCpu(row, t, "bilinear", "constant", 100)).toEqual([50, 5, 15, 25]);
    expect(stockCpu(row, t, "nearest", "constant", 100)).toEqual([0, 10, 20, 30]);
    // TensorFlow: column 0 reads −0.5, outside, so fillValue.
    expect(values(tf.image.transform(row, t, "bilinear", "constant", 100))).toEqual([100, 5, 15, 25]);
    expect(values(tf.image.transform(row, t, "nearest", "constant", 100))).toEqual([100, 10, 20, 30]);
  });

  test("the other fill modes follow TensorFlow's definitions on a row a b c d", () => {
    const row = tf.tensor4d([0, 1, 2, 3], [1, 1, 4, 1]);
    const shifted = (s: number, mode: "reflect" | "wrap" | "nearest") => values(tf.image.transform(row, row8([1, 0, -s, 0, 1, 0]), "nearest", mode, 0));
    // reflect: d c b a | a b c d | d c b a
    expect(shifted(2, "reflect")).toEqual([1, 0, 0, 1]);
    expect(shifted(-2, "reflect")).toEqual([2, 3, 3, 2]);
    // nearest: a a a a | a b c d | d d d d
    expect(shifted(2, "nearest")).toEqual([0, 0, 0, 1]);
    expect(shifted(-2, "nearest")).toEqual([2, 3, 3, 3]);
    // wrap: a b c d | a b c d | a b c d, exact for shifts under len − 1 pixels…
    expect(shifted(2, "wrap")).toEqual([2, 3, 0, 1]);
    expect(shifted(-2, "wrap")).toEqual([2, 3, 0, 1]);
    // …and TensorFlow's formula (which tfjs shares) lands on an edge beyond.
    expect(shifted(3, "wrap")).toEqual([3, 2, 3, 0]);
    // The stock kernel agrees on these single-image cases.
    expect(stockCpu(row, row8([1, 0, -3, 0, 1, 0]), "nearest", "wrap")).toEqual([3, 2, 3, 0]);
  });

  test("the same results on the native and wasm backends (wasm's stock reflect reads the far edge for negative points)", async () => {
    const maps = [
      [1, 0, -1.3, 0, 1, 0.7],
      [1, 0, 6.3, 0, 1, -9.2],
      [0.6, 0, 0.8, 0, 0.6, 1.2],
      [1.4, 0, -0.8, 0, 1.7, -1.2],
      [Math.SQRT1_2, -Math.SQRT1_2, 2, Math.SQRT1_2, Math.SQRT1_2, -1.5],
    ];
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(Array.from({ length: 5 * 6 * 2 * 5 }, (_, i) => (i * 7919) % 101), [5, 5, 6, 2]);
        const t = tf.tensor2d(maps.map((m) => [...m, 0, 0]));
        return (["reflect", "wrap", "constant", "nearest"] as const).flatMap((mode) => (["bilinear", "nearest"] as const).map((ip) => values(tf.image.transform(x, t, ip, mode, -1))));
      });
    const onCpu = run();
    await tf.setBackend("native");
    const onNative = run();
    onNative.forEach((v, k) => expect(v).toEqual(onCpu[k]));
    await setupWasm(tf, { threads: 1 });
    try {
      expect(tf.getBackend()).toBe("wasm");
      // The stock wasm deviation: column 0 reads column −1, which reflects to column 0; wasm reads column 5.
      const stock = (tf.getKernel("Transform", "wasm")!.kernelFunc as unknown as Record<symbol, tf.KernelConfig>)[STOCK];
      const x = tf.tensor4d(Array.from({ length: 5 * 6 }, (_, i) => i), [1, 5, 6, 1]);
      const info = stock.kernelFunc({ inputs: { image: x, transforms: row8([1, 0, -1, 0, 1, 0]) }, attrs: { interpolation: "nearest", fillMode: "reflect", fillValue: 0, outputShape: null as never }, backend: tf.backend() as never }) as tf.TensorInfo;
      const raw = values(tf.engine().makeTensorFromTensorInfo(info));
      expect([0, 1, 2, 3, 4].map((r) => raw[r * 6])).toEqual([5, 11, 17, 23, 29]);
      const onWasm = run();
      onWasm.forEach((image, k) => image.forEach((v, j) => expect(v).toBeCloseTo(onCpu[k][j], 4)));
    } finally {
      await tf.setBackend("cpu");
      tf.removeBackend("wasm");
    }
  });

  test("projective rows keep tfjs's kernel; nothing leaks", () => {
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const projective = tf.tensor2d([[1, 0, 0, 0, 1, 0, 0.01, 0]]);
    expect(values(tf.image.transform(x, projective, "nearest", "nearest"))).toEqual(stockCpu(x, projective, "nearest", "nearest"));
    const run = () => tf.tidy(() => tf.image.transform(tf.ones([3, 4, 4, 2]) as tf.Tensor4D, tf.tensor2d([[1, 0, 0.5, 0, 1, 0, 0, 0]]), "bilinear", "constant")).dispose();
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
  });
});
