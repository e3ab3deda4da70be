import * as tf from "@tensorflow/tfjs";
import { decodeImage, Uint8Tensor } from "@convlab/datasets";
import { segmentationGrid } from "./segmentation_grid";

/** Two 4x4 white images; truth: class 1 in the left half; prediction: class 1 everywhere in image 0, all background in image 1. */
function data() {
  const images = tf.ones([2, 4, 4, 3]);
  const left = [1, 1, 0, 0];
  const truth = tf.tensor3d([...Array(4).fill(left).flat(), ...Array(4).fill(left).flat()], [2, 4, 4], "int32");
  const predicted = tf.tensor3d([...new Array(16).fill(1), ...new Array(16).fill(0)], [2, 4, 4], "int32");
  return { images, truth, predicted };
}

describe("segmentationGrid", () => {
  it("draws one row per image: the image, the truth and each prediction in the palette's colours", () => {
    const { images, truth, predicted } = data();
    const before = tf.memory().numTensors;
    const figure = segmentationGrid(images, { truth, predicted: { model: predicted }, scale: 10 });
    expect(tf.memory().numTensors).toBe(before);
    const png = decodeImage(figure.toPng());
    // Three 40x40 tiles per row, two rows, with captions: wider than 3 tiles, taller than 2.
    expect(png.shape[1]).toBeGreaterThanOrEqual(120);
    expect(png.shape[0]).toBeGreaterThanOrEqual(80);
    const rgb = (x: number, y: number) => [png.get(y, x, 0), png.get(y, x, 1), png.get(y, x, 2)];
    // Find the first tile's white (the image) and the truth's left half in VOC's class-1 red (128, 0, 0).
    const reds: number[] = [];
    for (let x = 0; x < png.shape[1]; x++) if (rgb(x, 15).join() === "128,0,0") reds.push(x);
    // Truth (left half red: 20 px) + prediction of image 0 (all red: 40 px) on the first row.
    expect(reds.length).toBe(60);
    tf.dispose([images, truth, predicted]);
  });

  it("captions each prediction with its image's mean IoU when given numClasses", () => {
    const { images, truth, predicted } = data();
    const figure = segmentationGrid(images, { truth, predicted: { model: predicted }, numClasses: 2, scale: 10 });
    // Image 0: class 1 IoU 8/16, class 0 IoU 0/8 → 0.25; image 1: class 0 IoU 8/16, class 1 IoU 0/8 → 0.25.
    expect(figure.alt).toBe("2 images with the true mask and model: model · IoU 0.25; model · IoU 0.25");
    const plain = segmentationGrid(images, { truth, predicted: { model: predicted } });
    expect(plain.alt).toBe("2 images with the true mask and model: model; model");
    tf.dispose([images, truth, predicted]);
  });

  it("takes datasets' Uint8Tensor images and masks, and picks images by indices", () => {
    const images = new Uint8Tensor(new Uint8Array(2 * 2 * 2 * 3).fill(255), [2, 2, 2, 3]);
    const truth = new Uint8Tensor(Uint8Array.from([0, 1, 1, 0, 2, 2, 2, 2]), [2, 2, 2]);
    const figure = segmentationGrid(images, { truth, indices: [1], scale: 20 });
    const png = decodeImage(figure.toPng());
    expect(png.shape[1]).toBeGreaterThanOrEqual(80);
    expect(png.shape[1]).toBeLessThan(120); // two columns: image and truth
  });

  it("rejects masks that do not match the images, bad indices and unknown options, in one line", () => {
    const { images, truth, predicted } = data();
    expect(() => segmentationGrid(images, { truth: truth.slice([0, 0, 0], [2, 4, 2]) })).toThrow(
      "segmentationGrid: invalid truth. Expected 2 masks of the images' size, shape [2,4,4]. Received: truth of shape [2,4,2].",
    );
    expect(() => segmentationGrid(images, { truth, predicted: { "U-Net": predicted.slice(0, 1) } })).toThrow(
      'segmentationGrid: invalid predicted["U-Net"]. Expected 2 masks of the images\' size, shape [2,4,4]. Received: predicted["U-Net"] of shape [1,4,4].',
    );
    expect(() => segmentationGrid(images, { truth, indices: [2] })).toThrow("segmentationGrid: invalid indices. Expected positions of the 2 images, integers in [0, 2). Received: indices=[2].");
    expect(() => segmentationGrid(images, { truth, colour: 1 } as never)).toThrow(/^segmentationGrid: /);
    expect(() => segmentationGrid(images, {} as never)).toThrow("segmentationGrid: missing truth. Expected the true masks [N, H, W] of the images. Received: options without truth.");
    tf.dispose([images, truth, predicted]);
  });
});
