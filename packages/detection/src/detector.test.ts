/**
 * trainDetector: the one training loop, on a toy detector whose loss is known by hand (the mean
 * square of one weight times the number of boxes), so every logged value can be checked exactly.
 */
import * as tf from "@tensorflow/tfjs";
import { trainDetector } from "./detector";
import type { Detector, DetectionData, DetectorLoss, Detections, ImageTargets } from "./detector";

/** A "detector" with one weight w: loss = w² · (boxes in the batch), parts { box_loss: w², count_loss: boxes }. */
class ToyDetector implements Detector {
  readonly name = "toy";
  readonly numClasses = 2;
  readonly imageShape: [number, number] = [4, 4];
  readonly model: tf.LayersModel;
  nanAfter = Infinity;
  private steps = 0;

  constructor() {
    const input = tf.input({ shape: [4, 4, 3] });
    const output = tf.layers.dense({ units: 1, useBias: false, kernelInitializer: "ones", name: "w" }).apply(tf.layers.globalAveragePooling2d({}).apply(input)) as tf.SymbolicTensor;
    this.model = tf.model({ inputs: input, outputs: output });
  }

  computeLoss(images: tf.Tensor4D, targets: ImageTargets[]): DetectorLoss {
    const w = this.model.trainableWeights[0].read().slice([0, 0], [1, 1]).reshape([]) as tf.Scalar;
    const boxes = targets.reduce((n, t) => n + t.boxes.length, 0);
    this.steps += 1;
    const square = w.square();
    const loss = (this.steps > this.nanAfter ? square.mul(NaN) : square.mul(boxes)) as tf.Scalar;
    return { loss, parts: { box_loss: square, count_loss: tf.scalar(boxes + images.shape[0] * 0) } };
  }

  detect(images: tf.Tensor4D): Detections[] {
    return Array.from({ length: images.shape[0] }, () => ({ boxes: [], scores: [], classes: [] }));
  }

  dispose(): void {
    this.model.dispose();
  }
}

function data(n: number): DetectionData {
  return {
    images: tf.zeros([n, 4, 4, 3]) as tf.Tensor4D,
    targets: Array.from({ length: n }, (_, i) => ({ boxes: Array.from({ length: i % 3 }, () => [0, 0, 2, 2]), classes: Array.from({ length: i % 3 }, () => i % 2) })),
  };
}

describe("trainDetector", () => {
  beforeAll(() => tf.setBackend("cpu"));

  it("minimises the detector's loss and logs it, its parts and their val_ versions per epoch", async () => {
    const detector = new ToyDetector();
    const train = data(6);
    const validation = data(3);
    const optimizer = tf.train.sgd(0.01);
    const before = tf.memory().numTensors;
    const history = await trainDetector(detector, train, { epochs: 2, batchSize: 6, verbose: 0, validationData: validation, optimizer });
    expect(Object.keys(history.history)).toEqual(["loss", "box_loss", "count_loss", "val_loss", "val_box_loss", "val_count_loss"]);
    // Batch of all 6 images: 0+1+2+0+1+2 = 6 boxes. Step 1 at w = 1: loss 6, then w ← 1 − 0.01·(2·6·1) = 0.88.
    expect(history.history.loss[0]).toBeCloseTo(6, 5);
    expect(history.history.box_loss[0]).toBeCloseTo(1, 5);
    expect(history.history.count_loss).toEqual([6, 6]);
    expect(history.history.loss[1]).toBeCloseTo(6 * 0.88 * 0.88, 4);
    // Validation after epoch 1 at w = 0.88, batches of up to 6: 3 images with 0+1+2 boxes, weighted by batch size.
    expect(history.history.val_loss[0]).toBeCloseTo(3 * 0.88 * 0.88, 4);
    expect(history.history.val_count_loss[0]).toBeCloseTo(3, 5);
    expect(history.epoch).toEqual([0, 1]);
    expect(history.params).toEqual({ verbose: 0, epochs: 2, steps: 1 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([train.images, validation.images]);
    optimizer.dispose();
    detector.dispose();
  });

  it("shows Keras's progress display with the loss parts", async () => {
    const detector = new ToyDetector();
    const train = data(4);
    const lines: string[] = [];
    const log = jest.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.join(" ")));
    const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    await trainDetector(detector, train, { epochs: 2, batchSize: 2, verbose: 2, seed: 3 });
    log.mockRestore();
    write.mockRestore();
    const text = lines.join("\n");
    expect(text).toMatch(/Epoch 1\/2/);
    expect(text).toMatch(/2\/2 - \d+s - loss: [\d.]+ - box_loss: [\d.]+ - count_loss: [\d.]+/);
    tf.dispose(train.images);
    detector.dispose();
  });

  it("stops with a clear line when the loss is not finite", async () => {
    const detector = new ToyDetector();
    detector.nanAfter = 1;
    const train = data(4);
    await expect(trainDetector(detector, train, { epochs: 1, batchSize: 2, verbose: 0 })).rejects.toThrow(
      "trainDetector: the loss became NaN at epoch 1, step 2. Expected a finite loss: lower the learning rate (e.g. Adam({ learningRate: 1e-4 })).",
    );
    tf.dispose(train.images);
    detector.dispose();
  });

  it("rejects data that does not fit the detector, in one line naming the value", async () => {
    const detector = new ToyDetector();
    const good = data(2);
    const wrongSize = { images: tf.zeros([2, 8, 8, 3]) as tf.Tensor4D, targets: good.targets };
    await expect(trainDetector(detector, wrongSize)).rejects.toThrow("trainDetector: invalid data.images. Expected shape [n, 4, 4, 3] (the detector's image size). Received: data.images=Tensor<float32>[2,8,8,3].");
    await expect(trainDetector(detector, { images: good.images, targets: good.targets.slice(1) })).rejects.toThrow("trainDetector: invalid data.targets. Expected one entry per image (2). Received: 1 entries.");
    const badClass = { images: good.images, targets: [good.targets[0], { boxes: [[0, 0, 1, 1]], classes: [2] }] };
    await expect(trainDetector(detector, badClass)).rejects.toThrow("trainDetector: invalid data.targets[1].classes[0]. Expected a class id in [0, 1]. Received: 2.");
    const inverted = { images: good.images, targets: [good.targets[0], { boxes: [[0, 0, 1, 1], [3, 0, 1, 2]], classes: [0, 1] }] };
    await expect(trainDetector(detector, inverted)).rejects.toThrow("trainDetector: invalid data.targets[1].boxes[1]. Expected pixel [x1, y1, x2, y2] with x2 > x1 and y2 > y1, inside the 4x4 image. Received: [3,0,1,2].");
    const outside = { images: good.images, targets: [{ boxes: [[0, 0, 9, 2]], classes: [0] }, good.targets[1]] };
    await expect(trainDetector(detector, outside)).rejects.toThrow("trainDetector: invalid data.targets[0].boxes[0]. Expected pixel [x1, y1, x2, y2] with x2 > x1 and y2 > y1, inside the 4x4 image. Received: [0,0,9,2].");
    await expect(trainDetector(detector, { images: good.images } as never)).rejects.toThrow(/^trainDetector: invalid data\. Expected \{ images: \[n, h, w, 3\] tensor, targets: \[\{ boxes, classes \}, …\] \}\./);
    await expect(trainDetector(detector, good, { verbose: 3 as never })).rejects.toThrow("trainDetector: invalid verbose. Expected 0, 1 or 2. Received: verbose=3.");
    await expect(trainDetector(detector, good, { epoch: 3 } as never)).rejects.toThrow("Did you mean `epochs`?");
    await expect(trainDetector(detector, good, { validationData: wrongSize })).rejects.toThrow("trainDetector: invalid validationData.images.");
    tf.dispose([good.images, wrongSize.images]);
    detector.dispose();
  });
});
