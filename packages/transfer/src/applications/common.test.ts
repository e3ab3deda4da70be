/**
 * The helpers the application builders share: Keras's default layer names (`autoNames`),
 * `correct_pad`, and the channel rounding of the MobileNets and EfficientNets (`makeDivisible`).
 * Expected values are Keras's: `_make_divisible` / `round_filters` and `correct_pad` computed by
 * hand from `keras/applications/{mobilenet_v2,efficientnet,imagenet_utils}.py`.
 */
import * as tf from "@tensorflow/tfjs";
import { autoNames, correctPad, makeDivisible } from "./common";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

describe("application helpers", () => {
  test("makeDivisible and correctPad are Keras's", () => {
    // _make_divisible(v, 8): nearest multiple of 8, halves up, never 10% below v.
    expect([8, 12, 16, 20, 22.4, 44.8, 72, 88, 184, 1792].map((v) => makeDivisible(v))).toEqual([8, 16, 16, 24, 24, 48, 72, 88, 184, 1792]);
    expect(makeDivisible(3)).toBe(8); // at least the divisor
    expect(makeDivisible(10.5)).toBe(16); // 8 would be 24% below
    // EfficientNet's round_filters(32) for widths 1.1, 1.4, 1.8 (stem of B2, B4, B6), and with depth_divisor 16.
    expect([1.1, 1.4, 1.8].map((w) => makeDivisible(32 * w, 8))).toEqual([32, 48, 56]);
    expect(makeDivisible(40, 16)).toBe(48);
    const even = tf.input({ shape: [112, 112, 16] });
    const odd = tf.input({ shape: [113, 57, 16] });
    const unknown = tf.input({ shape: [null, null, 16] });
    expect(correctPad(even, 3)).toEqual([[0, 1], [0, 1]]);
    expect(correctPad(odd, 5)).toEqual([[2, 2], [2, 2]]);
    expect(correctPad(unknown, 3)).toEqual([[0, 1], [0, 1]]);
  });

  test("autoNames counts each prefix from zero, per counter", () => {
    const name = autoNames();
    expect(["conv2d", "conv2d", "add", "conv2d", "add"].map((p) => name(p))).toEqual(["conv2d", "conv2d_1", "add", "conv2d_2", "add_1"]);
    expect(autoNames()("conv2d")).toBe("conv2d");
  });
});
