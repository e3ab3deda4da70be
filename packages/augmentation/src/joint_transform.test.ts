import * as tf from "@tensorflow/tfjs";
import { IDENTITY, TransformParams } from "./affine";
import { ImageDataGenerator } from "./image_data_generator";
import { augmentWithTargets, transformBoxes, transformMask } from "./joint_transform";

const params = (p: Partial<TransformParams>): TransformParams => ({ ...IDENTITY, ...p });

/** A 10x12 image, 0 except a bright rectangle x in [2, 6), y in [3, 8); its mask with class 2 there. */
function scene(): { image: tf.Tensor3D; mask: tf.Tensor; box: number[] } {
  const v = new Float32Array(10 * 12);
  for (let y = 3; y < 8; y++) for (let x = 2; x < 6; x++) v[y * 12 + x] = 200;
  return { image: tf.tensor3d(v, [10, 12, 1]), mask: tf.tensor(Int32Array.from(v, (p) => (p ? 2 : 0)), [10, 12], "int32"), box: [2, 3, 6, 8] };
}

/** The xyxy pixel box around the non-zero pixels of an [H, W(, 1)] tensor. */
function extent(t: tf.Tensor): number[] {
  const [h, w] = t.shape;
  const d = t.dataSync();
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (d[y * w + x] > 100) [x1, y1, x2, y2] = [Math.min(x1, x), Math.min(y1, y), Math.max(x2, x + 1), Math.max(y2, y + 1)];
  return [x1, y1, x2, y2];
}

describe("boxes and masks follow the image", () => {
  const cases: [string, Partial<TransformParams>][] = [
    ["horizontal flip", { flipHorizontal: true }],
    ["vertical flip", { flipVertical: true }],
    ["shift by whole pixels", { tx: 2, ty: -1 }],
    ["quarter turn", { theta: 90 }],
    ["zoom out twice", { zx: 2, zy: 2 }],
  ];
  it.each(cases)("%s", (_name, p) => {
    const datagen = new ImageDataGenerator({ fillMode: "constant", interpolationOrder: 0 });
    const { image, mask, box } = scene();
    const moved = datagen.applyTransform(image, params(p));
    const { boxes, kept } = transformBoxes([box], params(p), [10, 12], { format: "xyxy" });
    expect(kept).toEqual([0]);
    // The image is sampled at pixel centres, the box moved exactly: within half a pixel.
    extent(moved).forEach((v, i) => expect(Math.abs(boxes[0][i] - v)).toBeLessThanOrEqual(0.5));
    if (!("zx" in p)) expect(boxes[0]).toEqual(extent(moved));
    const movedMask = transformMask(mask, params(p), datagen);
    expect(movedMask.dtype).toBe("int32");
    expect(Array.from(movedMask.dataSync())).toEqual(Array.from(moved.dataSync(), (v) => (v > 100 ? 2 : 0)));
  });

  it("converts formats, clips to the image and drops boxes that leave it, with their labels", () => {
    const p = params({ tx: 5 }); // the picture moves 5 pixels left
    const { boxes, kept } = transformBoxes([[3, 2, 1, 1], [7, 0, 4, 4]], p, [10, 12], { format: "xywh" });
    // First box (x 3..4) moves to -2..-1 and leaves; the second (x 7..11) moves to 2..6 and stays.
    expect(kept).toEqual([1]);
    expect(boxes).toEqual([[2, 0, 4, 4]]);
    const yxyx = transformBoxes([[2, 6, 5, 11]], p, [10, 12], { format: "yxyx" });
    expect(yxyx.boxes).toEqual([[2, 1, 5, 6]]);
    const visible = transformBoxes([[2, 0, 6, 4]], p, [10, 12], { format: "xyxy", minVisibility: 0.5 });
    expect(visible.kept).toEqual([]); // only a quarter stays inside
    const datagen = new ImageDataGenerator({ widthShiftRange: 3, fillMode: "constant" });
    const out = augmentWithTargets(datagen, scene().image, { boxes: [[2, 3, 6, 8]], boxFormat: "xyxy", labels: ["cat"], mask: scene().mask }, { seed: 4 });
    expect(out.labels).toEqual(["cat"]);
    expect(out.boxes![0]).toEqual(extent(out.image));
  });

  it("rejects bad boxes in one line", () => {
    expect(() => transformBoxes([[5, 5, 1, 1]], IDENTITY, [10, 10], { format: "xyxy" })).toThrow(
      'transformBoxes: invalid boxes[0]. Expected x2 >= x1 and y2 >= y1 in format "xyxy". Received: boxes[0]=[5,5,1,1].',
    );
    expect(() => transformBoxes(tf.zeros([2, 3]), IDENTITY, [10, 10], { format: "xyxy" })).toThrow("transformBoxes: invalid boxes. Expected a [numBoxes, 4] tensor. Received: boxes=Tensor<float32>[2,3].");
    expect(() => transformBoxes([[1, 2, 3]], IDENTITY, [10, 10], { format: "xyxy" })).toThrow("transformBoxes: invalid boxes[0]. Expected 4 finite numbers. Received: boxes[0]=[1,2,3].");
    expect(() => transformBoxes([[1, 2, 3, 4]], IDENTITY, [10, 10], { format: "xywhn" as never })).toThrow("Did you mean `xywh`?");
    expect(() => augmentWithTargets(new ImageDataGenerator(), scene().image, { boxes: [[1, 1, 2, 2]] })).toThrow("augmentWithTargets: missing boxFormat.");
    expect(() => augmentWithTargets(new ImageDataGenerator(), scene().image, { mask: tf.zeros([4, 4]) })).toThrow(
      "augmentWithTargets: invalid mask. Expected the image's size 10x12. Received: a mask of 4x4.",
    );
  });
});
