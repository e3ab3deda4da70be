import * as tf from "@tensorflow/tfjs";
import { IDENTITY, TransformParams } from "./affine";
import { ImageDataGenerator } from "./image_data_generator";

/** A 4x4 RGB-free grey image 0..15 and a 5x5x3 colour one, as tensors. */
const grey = () => tf.tensor3d(Array.from({ length: 16 }, (_, i) => i), [4, 4, 1]);
const colour = () => tf.tensor3d(Array.from({ length: 75 }, (_, i) => (i * 37) % 256), [5, 5, 3]);
const params = (p: Partial<TransformParams>): TransformParams => ({ ...IDENTITY, ...p });

describe("ImageDataGenerator geometry", () => {
  it("horizontalFlip equals tf.reverse along the width; verticalFlip along the height", () => {
    const datagen = new ImageDataGenerator({ horizontalFlip: true });
    const x = colour();
    const flipped = datagen.applyTransform(x, params({ flipHorizontal: true }));
    expect(flipped.arraySync()).toEqual(tf.reverse(x, 1).arraySync());
    expect(datagen.applyTransform(x, params({ flipVertical: true })).arraySync()).toEqual(tf.reverse(x, 0).arraySync());
  });

  it("a 90° rotation of a square image is a transpose and a flip (counter-clockwise, as Keras)", () => {
    const datagen = new ImageDataGenerator();
    const x = grey();
    const turned = datagen.applyTransform(x, params({ theta: 90 }));
    // np.rot90: transpose, then reverse the rows.
    expect(turned.arraySync()).toEqual(tf.reverse(tf.transpose(x, [1, 0, 2]), 0).arraySync());
  });

  it("shifts by whole pixels equal slices, the uncovered column filled by fillMode", () => {
    const x = grey();
    // tx = 1: output column c reads column c + 1, the picture moves one pixel left.
    const shifted = (fillMode: "nearest" | "constant" | "reflect" | "wrap") =>
      new ImageDataGenerator({ fillMode, cval: -1 }).applyTransform(x, params({ tx: 1 })).squeeze().arraySync() as number[][];
    for (const mode of ["nearest", "constant", "reflect", "wrap"] as const) {
      const out = shifted(mode);
      out.forEach((row, r) => expect(row.slice(0, 3)).toEqual([4 * r + 1, 4 * r + 2, 4 * r + 3]));
    }
    // Column 4 (outside): nearest repeats column 3, reflect mirrors it (column 3), wrap (SciPy, period 3) is column 1.
    expect(shifted("nearest").map((r) => r[3])).toEqual([3, 7, 11, 15]);
    expect(shifted("reflect").map((r) => r[3])).toEqual([3, 7, 11, 15]);
    expect(shifted("wrap").map((r) => r[3])).toEqual([1, 5, 9, 13]);
    expect(shifted("constant").map((r) => r[3])).toEqual([-1, -1, -1, -1]);
    // ty = -2: output row r reads row r - 2, the picture moves two rows down.
    const down = new ImageDataGenerator({ fillMode: "constant" }).applyTransform(x, params({ ty: -2 })).squeeze().arraySync();
    expect(down).toEqual([[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 2, 3], [4, 5, 6, 7]]);
  });

  it("zoom about the centre: zx = zy = 0.5 enlarges the middle twice", () => {
    const out = new ImageDataGenerator({ interpolationOrder: 0 }).applyTransform(grey(), params({ zx: 0.5, zy: 0.5 })).squeeze().arraySync() as number[][];
    // Output (x, y) reads ((x - 1.5) / 2 + 1.5, …): x = 0 -> 0.75 -> pixel 1; x = 3 -> 2.25 -> pixel 2.
    expect(out[0]).toEqual([5, 5, 6, 6]);
    expect(out[3]).toEqual([9, 9, 10, 10]);
  });

  it("channel shift is clipped to the image's range; brightness works on 0–255 as PIL", () => {
    const x = tf.tensor3d([10, 20, 200, 250], [2, 2, 1]);
    const shifted = new ImageDataGenerator().applyTransform(x, params({ channelShiftIntensity: 30 }));
    expect(Array.from(shifted.dataSync())).toEqual([40, 50, 230, 250]);
    const bright = new ImageDataGenerator().applyTransform(tf.tensor3d([10.7, 100, 200, 250], [2, 2, 1]), params({ brightness: 1.5 }));
    // trunc(10.7) = 10 -> 15; 100 -> 150; 200 -> 300 -> 255; 250 -> 255
    expect(Array.from(bright.dataSync())).toEqual([15, 150, 255, 255]);
  });

  it("draws the same transforms for the same seed, and within the ranges given", () => {
    const datagen = new ImageDataGenerator({ rotationRange: 40, widthShiftRange: 0.2, heightShiftRange: 10, shearRange: 0.2, zoomRange: 0.2, horizontalFlip: true });
    const a = new ImageDataGenerator({ ...datagen.config, seed: 5 });
    const b = new ImageDataGenerator({ ...datagen.config, seed: 5 });
    expect(a.getRandomTransform([150, 150, 3])).toEqual(b.getRandomTransform([150, 150, 3]));
    let flips = 0;
    for (let i = 0; i < 400; i++) {
      const p = datagen.getRandomTransform([150, 100, 3]);
      expect(Math.abs(p.theta)).toBeLessThanOrEqual(40);
      expect(Math.abs(p.tx)).toBeLessThanOrEqual(0.2 * 100); // width fraction of the width
      expect(Number.isInteger(p.ty) && Math.abs(p.ty) < 10).toBe(true); // integer range: whole pixels in (-10, 10)
      expect(p.zx).toBeGreaterThanOrEqual(0.8);
      expect(p.zy).toBeLessThanOrEqual(1.2);
      if (p.flipHorizontal) flips++;
      expect(p.flipVertical).toBe(false);
    }
    expect(flips).toBeGreaterThan(150);
    expect(flips).toBeLessThan(250);
  });

  it("randomTransform with a seed is reproducible and does not leak tensors", () => {
    const datagen = new ImageDataGenerator({ rotationRange: 30, zoomRange: [0.8, 1.0] });
    const x = colour();
    const first = datagen.randomTransform(x, 3);
    const before = tf.memory().numTensors;
    const second = datagen.randomTransform(x, 3);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(second.arraySync()).toEqual(first.arraySync());
    tf.dispose([first, second]);
  });
});

describe("ImageDataGenerator options", () => {
  it("rejects out-of-range options in one line naming the option and value", () => {
    expect(() => new ImageDataGenerator({ zoomRange: -1 })).toThrow(
      "ImageDataGenerator: invalid zoomRange. Expected a number in [0, 1) (zoom drawn in [1 - z, 1 + z]) or [lo, hi] with 0 < lo <= hi. Received: zoomRange=-1.",
    );
    expect(() => new ImageDataGenerator({ zoomRange: [1.2, 0.8] })).toThrow("ImageDataGenerator: invalid zoomRange. Expected [lo, hi] with 0 < lo <= hi. Received: zoomRange=[1.2,0.8].");
    expect(() => new ImageDataGenerator({ rotationRange: -5 })).toThrow("ImageDataGenerator: invalid rotationRange. Expected a number in [0, 360]. Received: rotationRange=-5.");
    expect(() => new ImageDataGenerator({ fillMode: "mirror" as never })).toThrow('ImageDataGenerator: invalid fillMode. Expected one of "nearest", "constant", "reflect", "wrap". Received: fillMode="mirror".');
    expect(() => new ImageDataGenerator({ widthShiftRange: "0.2" as never })).toThrow(
      'ImageDataGenerator: invalid widthShiftRange. Expected a number >= 0 (a fraction of the side when < 1, pixels otherwise) or an array of shifts. Received: widthShiftRange="0.2".',
    );
    expect(() => new ImageDataGenerator({ brightnessRange: [1.2] as never })).toThrow("ImageDataGenerator: invalid brightnessRange. Expected [lo, hi] with 0 <= lo <= hi. Received: brightnessRange=[1.2].");
    expect(() => new ImageDataGenerator({ validationSplit: 1 })).toThrow("ImageDataGenerator: invalid validationSplit. Expected a number in [0, 1). Received: validationSplit=1.");
  });

  it("an unknown option suggests the right name", () => {
    expect(() => new ImageDataGenerator({ rotation_range: 40 } as never)).toThrow("ImageDataGenerator: unknown option `rotation_range`.");
    expect(() => new ImageDataGenerator({ rotationRnage: 40 } as never)).toThrow("Did you mean `rotationRange`?");
  });

  it("fromKerasConfig takes Keras's snake_case config, rejecting unknown keys and features not offered", () => {
    const datagen = ImageDataGenerator.fromKerasConfig({
      rescale: 1 / 255,
      rotation_range: 40,
      width_shift_range: 0.2,
      horizontal_flip: true,
      fill_mode: "nearest",
      featurewise_center: false,
    });
    expect(datagen.rotationRange).toBe(40);
    expect(datagen.horizontalFlip).toBe(true);
    expect(datagen.rescale).toBeCloseTo(1 / 255, 12);
    expect(() => ImageDataGenerator.fromKerasConfig({ rotation_rnage: 40 })).toThrow("Did you mean `rotation_range`?");
    expect(() => ImageDataGenerator.fromKerasConfig({ rotationRange: 40 })).toThrow("(camelCase options go to new ImageDataGenerator(\"rotationRange\"…) directly)");
    expect(() => ImageDataGenerator.fromKerasConfig({ zca_whitening: true })).toThrow(
      "ImageDataGenerator.fromKerasConfig: unsupported Keras option `zca_whitening`. Expected false (the default); convlab's ImageDataGenerator does not offer it. Received: zca_whitening=true.",
    );
  });
});
