import * as tf from "@tensorflow/tfjs";
import { Uint8Tensor, VOC_SEGMENTATION_CLASSES } from "@convlab/datasets";
import { image, imageGrid } from "./index";
import { colorizeMask, maskLegend, overlayMask } from "./masks";
import { countPixels, decode, errorOf, near } from "./testing/png";

const BLACK = [0, 0, 0];
const AEROPLANE = [128, 0, 0]; // VOC id 1
const BICYCLE = [0, 128, 0]; // VOC id 2
const PERSON = [192, 128, 128]; // VOC id 15
const VOID = [224, 224, 192]; // VOC id 255

/** The [r, g, b] at pixel p of an RGB byte image. */
const rgbAt = (t: { data: Uint8Array }, p: number) => Array.from(t.data.subarray(3 * p, 3 * p + 3));

describe("colorizeMask", () => {
  it("colours class ids in VOC's palette, void in its cream, one mask [H,W] or [H,W,1]", () => {
    const ids = tf.tensor2d([[0, 1], [15, 255]], undefined, "int32");
    const before = tf.memory().numTensors;
    const rgb = colorizeMask(ids);
    expect(tf.memory().numTensors).toBe(before);
    expect(rgb).toBeInstanceOf(Uint8Tensor);
    expect(rgb.shape).toEqual([2, 2, 3]);
    expect([0, 1, 2, 3].map((p) => rgbAt(rgb, p))).toEqual([BLACK, AEROPLANE, PERSON, VOID]);
    const withChannel = colorizeMask({ data: Uint8Array.from([2, 0]), shape: [1, 2, 1] });
    expect(withChannel.shape).toEqual([1, 2, 3]);
    expect([...withChannel.data]).toEqual([...BICYCLE, ...BLACK]);
    // float ids with integer values are fine
    expect([...colorizeMask(tf.tensor2d([[1]])).data]).toEqual(AEROPLANE);
    ids.dispose();
  });

  it("colours a batch [N,H,W] or [N,H,W,1] into [N,H,W,3]", () => {
    const batch = colorizeMask({ data: Int32Array.from([0, 1, 2, 15, 255, 0]), shape: [3, 1, 2] });
    expect(batch.shape).toEqual([3, 1, 2, 3]);
    expect([0, 1, 2, 3, 4, 5].map((p) => rgbAt(batch, p))).toEqual([BLACK, AEROPLANE, BICYCLE, PERSON, VOID, BLACK]);
    const four = colorizeMask(tf.zeros([2, 3, 3, 1], "int32"));
    expect(four.shape).toEqual([2, 3, 3, 3]);
  });

  it("takes its own palette and void colour", () => {
    const palette = [
      [255, 255, 255],
      [255, 0, 0],
    ] as const;
    const mask = { data: Uint8Array.from([0, 1, 255]), shape: [1, 3] };
    expect([...colorizeMask(mask, { palette }).data]).toEqual([255, 255, 255, 255, 0, 0, ...VOID]);
    expect([...colorizeMask(mask, { palette, ignoreColor: [1, 2, 3] }).data]).toEqual([255, 255, 255, 255, 0, 0, 1, 2, 3]);
  });

  it("rejects non-integer, negative and too large ids, naming the pixel, and bad shapes and options", () => {
    const float = tf.tensor2d([[0, 1.5]]);
    expect(errorOf(() => colorizeMask(float))).toBe("colorizeMask: invalid mask. Expected integer class ids. Received: 1.5 at pixel (x=1, y=0) of mask=Tensor<float32>[1,2].");
    expect(errorOf(() => colorizeMask({ data: Int8Array.from([0, 0, 0, -1]), shape: [2, 1, 2] }))).toBe(
      "colorizeMask: invalid mask. Expected class ids >= 0. Received: -1 at mask[1] pixel (x=1, y=0) of mask={data: Int8Array(4), shape: [2,1,2]}.",
    );
    expect(errorOf(() => colorizeMask({ data: Float32Array.from([NaN]), shape: [1, 1] }))).toBe(
      "colorizeMask: invalid mask. Expected integer class ids. Received: NaN at pixel (x=0, y=0) of mask={data: Float32Array(1), shape: [1,1]}.",
    );
    const palette = [
      [0, 0, 0],
      [255, 0, 0],
    ] as const;
    expect(errorOf(() => colorizeMask({ data: Uint8Array.from([0, 1, 255, 2]), shape: [2, 2] }, { palette }))).toBe(
      "colorizeMask: class id 2 at pixel (x=1, y=1) of mask={data: Uint8Array(4), shape: [2,2]} is beyond the palette of 2 colours. Expected ids 0..1 or 255 (void); pass a longer palette.",
    );
    expect(errorOf(() => colorizeMask({ data: Int32Array.from([256]), shape: [1, 1] }))).toBe(
      "colorizeMask: class id 256 at pixel (x=0, y=0) of mask={data: Int32Array(1), shape: [1,1]} is beyond the palette of 256 colours. Expected ids 0..255; pass a longer palette.",
    );
    expect(colorizeMask(tf.zeros([2, 2, 3])).shape).toEqual([2, 2, 3, 3]); // rank 3, last dimension not 1: a batch
    expect(errorOf(() => colorizeMask(tf.zeros([2, 2, 3, 3])))).toBe("colorizeMask: invalid mask. Expected class ids of shape [H,W], [H,W,1], [N,H,W] or [N,H,W,1]. Received: mask=Tensor<float32>[2,2,3,3].");
    expect(errorOf(() => colorizeMask([1, 2] as never))).toBe(
      "colorizeMask: invalid mask. Expected class ids as a tf.Tensor or a {data, shape} array of shape [H,W], [H,W,1], [N,H,W] or [N,H,W,1]. Received: mask=an array of 2 items.",
    );
    expect(errorOf(() => colorizeMask({ data: Uint8Array.from([0]), shape: [2, 2] }))).toBe("colorizeMask: invalid mask. Expected data of 4 values for shape [2,2]. Received: data=Uint8Array(1).");
    const one = { data: Uint8Array.from([0]), shape: [1, 1] };
    expect(errorOf(() => colorizeMask(one, { palette: [[0, 0, 256]] as never }))).toBe(
      "colorizeMask: invalid palette. Expected 1 to 256 [r, g, b] colours of integers 0..255, such as vocPalette(). Received: palette=[[0,0,256]].",
    );
    expect(errorOf(() => colorizeMask(one, { ignoreColor: "red" as never }))).toBe('colorizeMask: invalid ignoreColor. Expected an [r, g, b] colour of integers 0..255. Received: ignoreColor="red".');
    expect(errorOf(() => colorizeMask(one, { pallete: [] } as never))).toBe("colorizeMask: unknown option `pallete`. Expected one of `palette`, `ignoreColor`. Did you mean `palette`?");
    float.dispose();
  });
});

describe("overlayMask", () => {
  it("blends each class's colour into the image, leaving background as it is", () => {
    // a grey uint8 image 1x3 and the ids 0, 1, 255
    const img = { data: Uint8Array.from([100, 100, 100, 100, 100, 100, 100, 100, 100]), shape: [1, 3, 3] };
    const mask = { data: Uint8Array.from([0, 1, 255]), shape: [1, 3] };
    const out = overlayMask(img, mask);
    expect(out.shape).toEqual([1, 3, 3]);
    // 0.5 · 100 + 0.5 · (128, 0, 0) = (114, 50, 50); void: 0.5 · 100 + 0.5 · (224, 224, 192) = (162, 162, 146)
    expect([...out.data]).toEqual([100, 100, 100, 114, 50, 50, 162, 162, 146]);
    expect([...overlayMask(img, mask, { alpha: 1 }).data]).toEqual([100, 100, 100, 128, 0, 0, 224, 224, 192]);
    expect([...overlayMask(img, mask, { alpha: 0 }).data]).toEqual(Array(9).fill(100));
    // background: true blends class 0 too (black: halves the image)
    expect([...overlayMask(img, mask, { background: true }).data.subarray(0, 3)]).toEqual([50, 50, 50]);
    expect([...overlayMask(img, mask, { palette: [[0, 0, 0], [0, 0, 200]], ignoreColor: [0, 0, 0] }).data]).toEqual([100, 100, 100, 50, 50, 150, 50, 50, 50]);
  });

  it("reads float images as 0..1 and grey or RGBA images, and leaks no tensor", () => {
    const img = tf.tensor3d([[[0.2], [1]]]); // [1,2,1] grey floats
    const mask = tf.tensor2d([[2, 0]], undefined, "int32");
    overlayMask(img, mask);
    const before = tf.memory().numTensors;
    const out = overlayMask(img, mask, { alpha: 0.25 });
    expect(tf.memory().numTensors).toBe(before);
    // 0.75 · 51 + 0.25 · (0, 128, 0) = (38.25, 70.25, 38.25); white background kept
    expect([...out.data]).toEqual([38, 70, 38, 255, 255, 255]);
    const rgba = { data: Uint8Array.from([10, 20, 30, 0]), shape: [1, 1, 1, 4] };
    expect([...overlayMask(rgba, { data: Uint8Array.from([0]), shape: [1, 1] }).data]).toEqual([10, 20, 30]);
    img.dispose();
    mask.dispose();
  });

  it("overlays a batch [N,H,W,3] with masks [N,H,W], for image() and imageGrid()", async () => {
    const images = tf.fill([2, 2, 2, 3], 0.5);
    const masks = { data: Uint8Array.from([0, 0, 0, 0, 15, 15, 15, 15]), shape: [2, 2, 2] };
    const out = overlayMask(images, masks, { alpha: 0.5 });
    expect(out.shape).toEqual([2, 2, 2, 3]);
    expect(rgbAt(out, 0)).toEqual([128, 128, 128]); // round(127.5)
    expect(rgbAt(out, 4)).toEqual([160, 128, 128]); // (127.5 + 192) / 2 = 159.75
    const grid = await decode(imageGrid(out, { scale: 1 }).toPng());
    expect(grid.width).toBeGreaterThan(2);
    const one = await decode(image(overlayMask(images.slice(1, 1), personLeft(), { alpha: 1 }), { scale: 10 }).toPng());
    expect([one.rgb(5, 5), one.rgb(15, 15)]).toEqual([PERSON, [128, 128, 128]]);
    images.dispose();
  });

  it("rejects a mask that does not fit the image, naming both shapes, and bad values", () => {
    const img = tf.zeros([4, 4, 3]);
    expect(errorOf(() => overlayMask(img, tf.zeros([4, 5], "int32")))).toBe(
      "overlayMask: the mask does not fit the image. Expected a mask of the image's height and width. Received: image=Tensor<float32>[4,4,3], mask=Tensor<int32>[4,5].",
    );
    expect(errorOf(() => overlayMask(tf.zeros([2, 4, 4, 3]), { data: new Uint8Array(48), shape: [3, 4, 4] }))).toBe(
      "overlayMask: the mask does not fit the image. Expected a mask of the image's height and width and batch size. Received: image=Tensor<float32>[2,4,4,3], mask={data: Uint8Array(48), shape: [3,4,4]}.",
    );
    expect(errorOf(() => overlayMask(tf.zeros([2, 4, 4, 3]), tf.zeros([4, 4])))).toBe(
      "overlayMask: invalid image. Expected a shape [H,W], [H,W,C] or [1,H,W,C] (C = 1, 3 or 4) for one mask. Received: image=Tensor<float32>[2,4,4,3].",
    );
    expect(errorOf(() => overlayMask(tf.fill([4, 4, 3], 255), tf.zeros([4, 4])))).toBe(
      "overlayMask: invalid image. Expected float values in [0, 1]; rescale it to [0, 1] first (x / 255 for 0..255 values). Received: values in [255, 255] (image=Tensor<float32>[4,4,3]).",
    );
    expect(errorOf(() => overlayMask({ data: Int32Array.from([300]), shape: [1, 1] }, tf.zeros([1, 1])))).toBe(
      "overlayMask: invalid image. Expected integer values in 0..255; clip or rescale it first. Received: values in [300, 300] (image={data: Int32Array(1), shape: [1,1]}).",
    );
    expect(errorOf(() => overlayMask({ data: Float32Array.from([0.5, NaN]), shape: [1, 2] }, tf.zeros([1, 2])))).toMatch(/^overlayMask: invalid image\. Expected float values in \[0, 1\].* Received: values in \[NaN, NaN\]/);
    expect(errorOf(() => overlayMask(img, tf.fill([4, 4], -1)))).toBe("overlayMask: invalid mask. Expected class ids >= 0. Received: -1 at pixel (x=0, y=0) of mask=Tensor<float32>[4,4].");
    expect(errorOf(() => overlayMask(img, tf.zeros([4, 4]), { alpha: 1.5 }))).toBe("overlayMask: invalid alpha. Expected a number in [0, 1]. Received: alpha=1.5.");
    expect(errorOf(() => overlayMask(img, tf.zeros([4, 4]), { background: 1 as never }))).toBe("overlayMask: invalid background. Expected true or false. Received: background=1.");
    img.dispose();
  });
});

/** A [1,2,2] batch mask: person on the left column, background on the right. */
function personLeft() {
  return { data: Uint8Array.from([15, 0, 15, 0]), shape: [1, 2, 2] };
}

describe("maskLegend", () => {
  it("draws one swatch in the class's colour and its name per class", async () => {
    const fig = maskLegend(["background", "aeroplane", "bicycle"]);
    expect(String(fig)).toMatch(/^<Figure \d+x68: legend of 3 classes>$/); // 3 rows of 20 + 8
    const img = await decode(fig.toPng());
    // swatch of class i: x 8..21, y 4 + 20 i + 3 .. + 14, in a 1 px grey frame
    expect([img.rgb(8, 7), img.rgb(21, 20), img.rgb(14, 27), img.rgb(14, 47)]).toEqual([BLACK, BLACK, AEROPLANE, BICYCLE]);
    expect([img.rgb(7, 7), img.rgb(22, 7), img.rgb(14, 6), img.rgb(14, 21)]).toEqual([[136, 136, 136], [136, 136, 136], [136, 136, 136], [136, 136, 136]]);
    expect(img.rgb(14, 2)).toEqual([255, 255, 255]);
    // each name written right of its swatch, in dark ink
    for (let i = 0; i < 3; i++) expect(countPixels(img, 28, 4 + 20 * i, img.width, 24 + 20 * i, (p) => p[0] < 120)).toBeGreaterThan(10);
    expect(countPixels(img, 23, 0, 28, img.height, (p) => !near(p, [255, 255, 255]))).toBe(0);
  });

  it("takes a palette and a title, wraps more than 25 classes into columns", async () => {
    const titled = await decode(maskLegend(["a", "b"], { palette: [[0, 0, 255], [255, 0, 0]], title: "classes" }).toPng());
    expect(titled.height).toBe(24 + 2 * 20 + 8);
    expect([titled.rgb(14, 24 + 7 + 7), titled.rgb(14, 24 + 27 + 7)]).toEqual([[0, 0, 255], [255, 0, 0]]);
    const voc = maskLegend(VOC_SEGMENTATION_CLASSES);
    expect(voc.height).toBe(21 * 20 + 8);
    const many = maskLegend(Array.from({ length: 30 }, (_, i) => `c${i}`));
    expect(many.height).toBe(15 * 20 + 8); // 2 columns of 15
    const img = await decode(many.toPng());
    const colWidth = img.width / 2;
    // class 15 tops the second column: VOC colour 15 (person)
    expect(img.rgb(colWidth + 14, 14)).toEqual(PERSON);
  });

  it("rejects bad class names, more names than colours, and unknown options", () => {
    expect(errorOf(() => maskLegend([]))).toBe("maskLegend: invalid classNames. Expected a non-empty array of strings, class id = index. Received: classNames=[].");
    expect(errorOf(() => maskLegend(["a", 1] as never))).toBe('maskLegend: invalid classNames. Expected a non-empty array of strings, class id = index. Received: classNames=["a",1].');
    expect(errorOf(() => maskLegend(["a", "b", "c"], { palette: [[0, 0, 0], [1, 1, 1]] }))).toBe(
      "maskLegend: too many classes for the palette. Expected at most 2 class names (one per colour). Received: 3 classNames.",
    );
    expect(errorOf(() => maskLegend(["a"], { colors: [] } as never))).toBe("maskLegend: unknown option `colors`. Expected one of `palette`, `title`, `alt`.");
  });
});
