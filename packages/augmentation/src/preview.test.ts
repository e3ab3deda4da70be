import * as tf from "@tensorflow/tfjs";
import { loadImage as decodePng } from "canvas";
import { ImageDataGenerator } from "./image_data_generator";
import { previewAugmentation } from "./preview";

describe("previewAugmentation", () => {
  it("draws count versions of one image as a PNG grid, captioned with the parameters", async () => {
    const image = tf.tidy(() => tf.linspace(0, 255, 20 * 30 * 3).reshape([20, 30, 3]));
    const datagen = new ImageDataGenerator({ rescale: 1 / 255, rotationRange: 45, horizontalFlip: true });
    const figure = previewAugmentation(datagen, image, { count: 6, cols: 3, seed: 1, includeOriginal: true });
    const png = await decodePng(Buffer.from(figure.toPng()));
    // 7 tiles in 3 columns: 3 rows; tiles are enlarged towards ~112 px.
    expect(png.width).toBeGreaterThan(3 * 30);
    expect(png.height).toBeGreaterThan(png.width / 3);
    expect(figure.alt ?? "").not.toBe(undefined);
    const again = previewAugmentation(datagen, image, { count: 6, cols: 3, seed: 1, includeOriginal: true });
    expect(Buffer.compare(again.toPng(), figure.toPng())).toBe(0);
    expect(() => previewAugmentation(datagen, image, { count: 0 })).toThrow("previewAugmentation: invalid count. Expected an integer in [1, 100]. Received: count=0.");
    expect(() => previewAugmentation(datagen, tf.zeros([2, 20, 30, 3]))).toThrow(
      "previewAugmentation: invalid image. Expected one image [height, width, channels] with 1, 3 or 4 channels. Received: image of shape [2, 20, 30, 3].",
    );
  });
});
