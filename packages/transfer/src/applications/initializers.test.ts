/**
 * KerasVarianceScaling: Keras's truncated-normal VarianceScaling (standard deviation, bound,
 * serialisation as tfjs's VarianceScaling).
 */
import * as tf from "@tensorflow/tfjs";
import { KerasVarianceScaling } from "./initializers";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

describe("KerasVarianceScaling", () => {
  test("a truncated normal of standard deviation sqrt(scale / fan)", () => {
    // fan_out of a [3, 3, 256, 128] kernel: 3·3·128 = 1152; scale 2 → std sqrt(2 / 1152).
    // 294,912 draws (unseeded, as Keras's): the sample std's standard error is ~0.13 %, so the 0.5 %
    // tolerance below is ~3.8 standard errors (with 73,728 draws it was 2 and failed about 1 run in 20).
    const init = new KerasVarianceScaling({ scale: 2, mode: "fanOut" });
    const t = init.apply([3, 3, 256, 128]);
    const v = t.dataSync() as Float32Array;
    t.dispose();
    const n = v.length;
    const mean = v.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const expected = Math.sqrt(2 / 1152);
    expect(Math.abs(mean)).toBeLessThan(0.01 * expected);
    expect(std / expected).toBeCloseTo(1, 2);
    const bound = (2 * expected) / 0.87962566103423978;
    expect(v.every((x) => Math.abs(x) <= bound * (1 + 1e-6))).toBe(true);
    expect(init.getClassName()).toBe("VarianceScaling");
    expect(init.getConfig()).toEqual({ scale: 2, mode: "fanOut", distribution: "normal", seed: null });
  });
});
