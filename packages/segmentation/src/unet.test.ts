import * as tf from "@tensorflow/tfjs";
import { BilinearUpsampling } from "./bilinear";
import { outputStride } from "./input_size";
import { unet } from "./unet";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

describe("unet", () => {
  test("one model with null height and width: [N, H, W, numClasses] probabilities at two sizes", () => {
    const model = unet({ inputShape: [null, null, 3], numClasses: 4, filters: 2 });
    expect(model.name).toBe("unet");
    expect(model.outputs[0].shape).toEqual([null, null, null, 4]);
    expect(outputStride(model)).toBe(16);
    for (const shape of [
      [1, 32, 48, 3],
      [2, 16, 16, 3],
    ]) {
      const x = tf.randomUniform(shape, 0, 1, "float32", 2);
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([shape[0], shape[1], shape[2], 4]);
      const sums = y.sum(-1);
      expect(tf.sub(sums, 1).abs().max().dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([x, y, sums]);
    }
    model.dispose();
  });

  test("readable layer names; up{i} pairs with down{i}", () => {
    const model = unet({ inputShape: [32, 32, 1], numClasses: 2, filters: 2, depth: 2, dropout: 0.5, name: "small" });
    const block = (p: string) => [1, 2].flatMap((c) => [`${p}_conv${c}`, `${p}_bn${c}`, `${p}_relu${c}`]);
    const expected = ["image", ...block("down1"), "down1_pool", ...block("down2"), "down2_pool", ...block("bottleneck"), "bottleneck_dropout"];
    expected.push("up2_transpose", "up2_concat", ...block("up2"), "up1_transpose", "up1_concat", ...block("up1"), "output_conv", "softmax");
    expect(model.layers.map((l) => l.name).sort()).toEqual([...expected].sort());
    expect(model.getLayer("up2_transpose").outputShape).toEqual([null, 16, 16, 4]);
    expect(model.getLayer("up2_concat").outputShape).toEqual([null, 16, 16, 8]); // 4 up + 4 from down2
    expect(model.getLayer("up1_concat").outputShape).toEqual([null, 32, 32, 4]);
    expect(model.getLayer("bottleneck_relu2").outputShape).toEqual([null, 8, 8, 8]);
    expect(outputStride(model)).toBe(4);
    expect(model.name).toBe("small");
    model.dispose();
    const plain = unet({ inputShape: [32, 32, 1], numClasses: 2, filters: 2, depth: 1, batchNorm: false });
    expect(plain.layers.map((l) => l.name)).not.toContain("down1_bn1");
    expect(plain.layers.map((l) => l.name)).not.toContain("bottleneck_dropout");
    plain.dispose();
  });

  test("parameter counts, by hand, of a tiny configuration (filters 2, depth 1, 3 channels, 3 classes)", () => {
    // down1: 3x3 3→2 (54, no bias) + BN (8) + 3x3 2→2 (36) + BN (8) = 106
    // bottleneck: 3x3 2→4 (72) + BN (16) + 3x3 4→4 (144) + BN (16) = 248
    // up1: transpose 2x2 4→2 (32 + 2 bias) + 3x3 on the concat 4→2 (72) + BN (8) + 3x3 2→2 (36) + BN (8) = 158
    // output_conv: 1x1 2→3 (6 + 3) = 9
    const args = { inputShape: [null, null, 3] as [null, null, number], numClasses: 3, filters: 2, depth: 1 };
    const model = unet(args);
    expect(model.countParams()).toBe(106 + 248 + 158 + 9);
    model.dispose();
    // Without BN the convolutions have biases: 94 + 224 + 146 + 9.
    const plain = unet({ ...args, batchNorm: false });
    expect(plain.countParams()).toBe(54 + 2 + 36 + 2 + (72 + 4 + 144 + 4) + (34 + 72 + 2 + 36 + 2) + 9);
    plain.dispose();
    // Bilinear: transpose 4x4 4→4 (256 + 4 bias), concat 4 + 2 = 6 channels: 3x3 6→2 (108).
    const bilinear = unet({ ...args, bilinear: true });
    expect(bilinear.countParams()).toBe(106 + 248 + (260 + 108 + 8 + 36 + 8) + 9);
    bilinear.dispose();
  });

  test("bilinear: 4x4 up-convolutions keeping the channels, initialised as bilinear upsampling", () => {
    const model = unet({ inputShape: [16, 16, 3], numClasses: 2, filters: 2, depth: 2, bilinear: true });
    for (const [name, channels] of [
      ["up2_transpose", 8],
      ["up1_transpose", 4],
    ] as const) {
      const [kernel, bias] = model.getLayer(name).getWeights();
      expect(kernel.shape).toEqual([4, 4, channels, channels]);
      const expected = new BilinearUpsampling().apply([4, 4, channels, channels]);
      expect(tf.sub(kernel, expected).abs().max().dataSync()[0]).toBe(0);
      expect(bias.abs().max().dataSync()[0]).toBe(0);
      expected.dispose();
    }
    model.dispose();
    const plain = unet({ inputShape: [16, 16, 3], numClasses: 2, filters: 2, depth: 2 });
    expect(plain.getLayer("up1_transpose").getWeights()[0].shape).toEqual([2, 2, 2, 4]);
    plain.dispose();
  });

  test("error lines", () => {
    expect(() => unet({ inputShape: [100, 100, 3], numClasses: 4 })).toThrow(
      "unet: invalid inputShape. Expected height and width divisible by 16 (…, 80, 96, 112, …). Received: inputShape=[100,100,3].",
    );
    expect(() => unet({ inputShape: [64, 48, 3], numClasses: 4, depth: 5 })).toThrow(
      "unet: invalid inputShape. Expected height and width divisible by 32 (32, 64, 96, …). Received: inputShape=[64,48,3].",
    );
    expect(() => unet({ numClasses: 4 } as never)).toThrow("unet: missing inputShape. Expected [height, width, channels], e.g. [null, null, 3]. Received: options without inputShape.");
    expect(() => unet({ inputShape: [64, 64, 3], numClasses: 1 })).toThrow("unet: invalid numClasses. Expected an integer >= 2. Received: numClasses=1.");
    expect(() => unet({ inputShape: [64, 64, 3], numClasses: 4, depth: 0 })).toThrow("unet: invalid depth. Expected an integer in [1, 8]. Received: depth=0.");
    expect(() => unet({ inputShape: [64, 64, 3], numClasses: 4, dropout: 1 })).toThrow("unet: invalid dropout. Expected a number in [0, 1). Received: dropout=1.");
    expect(() => unet({ inputShape: [64, 64, 3], numClasses: 4, filters: 2.5 })).toThrow("unet: invalid filters. Expected an integer >= 1. Received: filters=2.5.");
    expect(() => unet({ inputShape: [64, 64, 3], numClasses: 4, batchNorm: 1 as never })).toThrow("unet: invalid batchNorm. Expected true or false. Received: batchNorm=1.");
    expect(() => unet({ inputShape: [64, 64, 3], numClasses: 4, filter: 8 } as never)).toThrow(
      "unet: unknown option `filter`. Expected one of `inputShape`, `numClasses`, `filters`, `depth`, `batchNorm`, `dropout`, `bilinear`, `name`. Did you mean `filters`?",
    );
    expect(() => unet([] as never)).toThrow("unet: invalid options. Expected an object such as { inputShape: [null, null, 3], numClasses: 4 }. Received: options=[].");
  });

  test("no tensor leak: build, predict, dispose", () => {
    const build = () => {
      const model = unet({ inputShape: [null, null, 3], numClasses: 3, filters: 2, depth: 2, bilinear: true, dropout: 0.2 });
      const x = tf.ones([2, 16, 32, 3]);
      const y = model.predict(x) as tf.Tensor;
      tf.dispose([x, y]);
      model.dispose();
    };
    build();
    const before = tf.memory().numTensors;
    build();
    expect(tf.memory().numTensors).toBe(before);
  });
});
