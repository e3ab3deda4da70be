import * as tf from "@tensorflow/tfjs";
import { drawBoxes } from "./draw_boxes";
import { countPixels, decode, errorOf, near } from "./testing/png";

const BLUE = [31, 119, 180]; // tab10 0
const ORANGE = [255, 127, 14]; // tab10 1
const RED = [214, 39, 40]; // tab10 3
const BLACK = [0, 0, 0];
const isWhite = ([r, g, b]: number[]) => r > 200 && g > 200 && b > 200;

describe("drawBoxes", () => {
  it("outlines a box inside its edges, scaled with the image, with a tag above it", async () => {
    const black = tf.zeros([10, 20]);
    // box x 2..10, y 5..9 at scale 4: figure pixels x 8..40, y 20..36
    const fig = drawBoxes(black, [[2, 5, 10, 9]], { labels: ["cat"], scores: [0.93], scale: 4 });
    expect([fig.width, fig.height]).toEqual([80, 40]);
    expect(String(fig)).toBe("<Figure 80x40: 10x20 image with 1 box>");
    const img = await decode(fig.toPng());
    // left and right edges, 2 px wide, inside the box
    expect([img.rgb(7, 28), img.rgb(8, 28), img.rgb(9, 28), img.rgb(10, 28)]).toEqual([BLACK, BLUE, BLUE, BLACK]);
    expect([img.rgb(37, 28), img.rgb(38, 28), img.rgb(39, 28), img.rgb(40, 28)]).toEqual([BLACK, BLUE, BLUE, BLACK]);
    // top and bottom edges (the tag covers the rows above the top edge)
    expect([img.rgb(20, 21), img.rgb(20, 22)]).toEqual([BLUE, BLACK]);
    expect([img.rgb(20, 33), img.rgb(20, 34), img.rgb(20, 35), img.rgb(20, 36)]).toEqual([BLACK, BLUE, BLUE, BLACK]);
    // the tag: 15 px high, just above the box, filled in the box's colour, white text "cat 0.93"
    expect([img.rgb(8, 4), img.rgb(8, 5), img.rgb(9, 12), img.rgb(8, 19)]).toEqual([BLACK, BLUE, BLUE, BLUE]);
    expect(countPixels(img, 11, 5, 60, 20, isWhite)).toBeGreaterThan(10);
    expect(countPixels(img, 0, 0, 80, 40, isWhite) - countPixels(img, 11, 5, 60, 20, isWhite)).toBe(0); // text only in the tag
    black.dispose();
  });

  it("colours by label, by tab10 index or CSS colour, and puts the tag inside a box at the top edge", async () => {
    const black = tf.zeros([10, 20]);
    const boxes = [
      [0, 0, 5, 5],
      [6, 6, 9, 9],
      [12, 5, 20, 10],
    ];
    const byLabel = await decode(drawBoxes(black, boxes, { labels: ["cat", "dog", "cat"], scale: 4 }).toPng());
    expect([byLabel.rgb(0, 10), byLabel.rgb(24, 30), byLabel.rgb(48, 30)]).toEqual([BLUE, ORANGE, BLUE]);
    // box 0 touches the top: its tag is inside, under the top edge (x 0..2 is its left padding)
    expect(byLabel.rgb(2, 8)).toEqual(BLUE);
    expect(byLabel.rgb(2, 17)).toEqual(BLACK);
    const custom = await decode(drawBoxes(black, boxes, { colors: [3, 13, "lime"], scale: 4 }).toPng());
    expect([custom.rgb(0, 10), custom.rgb(24, 30), custom.rgb(48, 30)]).toEqual([RED, RED, [0, 255, 0]]);
    expect(custom.rgb(2, 8)).toEqual(BLACK); // no labels, no scores: no tag
    const one = await decode(drawBoxes(black, boxes, { colors: "#ff00ff", scale: 4 }).toPng());
    expect(countPixels(one, 0, 0, 80, 40, (p) => near(p, [255, 0, 255]))).toBe(countPixels(custom, 0, 0, 80, 40, (p) => !near(p, BLACK)));
    // without labels, one tab10 colour per box
    const byBox = await decode(drawBoxes(black, boxes, { scale: 4 }).toPng());
    expect([byBox.rgb(0, 10), byBox.rgb(24, 30), byBox.rgb(48, 30)]).toEqual([BLUE, ORANGE, [44, 160, 44]]);
    black.dispose();
  });

  it("enlarges as image() does, takes lineWidth, clips boxes to the image and skips boxes outside it", async () => {
    const black = tf.zeros([10, 20]);
    const whole = drawBoxes(black, [[0, 0, 20, 10]]); // scale "auto": 280 / 20 = 14
    expect([whole.width, whole.height]).toEqual([280, 140]);
    const w = await decode(whole.toPng());
    expect([w.rgb(0, 70), w.rgb(1, 70), w.rgb(2, 70), w.rgb(279, 70), w.rgb(139, 0), w.rgb(139, 139)]).toEqual([BLUE, BLUE, BLACK, BLUE, BLUE, BLUE]);
    const thick = await decode(drawBoxes(black, [[0, 0, 20, 10]], { lineWidth: 3 }).toPng());
    expect([thick.rgb(2, 70), thick.rgb(3, 70)]).toEqual([BLUE, BLACK]);
    const clipped = await decode(drawBoxes(black, [[-5, -5, 100, 100]], { scale: 1 }).toPng());
    expect([clipped.rgb(0, 5), clipped.rgb(19, 5), clipped.rgb(10, 0), clipped.rgb(10, 9), clipped.rgb(10, 5)]).toEqual([BLUE, BLUE, BLUE, BLUE, BLACK]);
    const outside = await decode(drawBoxes(black, [[30, 0, 40, 5]], { labels: ["gone"], scale: 1 }).toPng());
    expect(countPixels(outside, 0, 0, 20, 10, (p) => !near(p, BLACK))).toBe(0);
    const none = drawBoxes(black, [], { scale: 1 });
    expect(String(none)).toBe("<Figure 20x10: 10x20 image with 0 boxes>");
    black.dispose();
  });

  it("draws on RGB images, takes tensor boxes, a title, and leaks no tensor", async () => {
    const white = tf.ones([4, 4, 3]);
    const boxes = tf.tensor2d([[1, 1, 3, 3]]);
    drawBoxes(white, boxes, { scale: 10, colors: ["black"] });
    const before = tf.memory().numTensors;
    const fig = drawBoxes(white, boxes, { scale: 10, colors: ["black"] });
    expect(tf.memory().numTensors).toBe(before);
    const img = await decode(fig.toPng());
    expect([img.rgb(9, 20), img.rgb(10, 20), img.rgb(20, 20), img.rgb(29, 20), img.rgb(30, 20)]).toEqual([[255, 255, 255], BLACK, [255, 255, 255], BLACK, [255, 255, 255]]);
    // a title band of 24 px and the 6 px margin of image()'s titled layout
    const titled = drawBoxes(white, boxes, { scale: 10, colors: ["black"], title: "truth" });
    expect(titled.height).toBe(24 + 6 + 40 + 6);
    expect(titled.title).toBe("truth");
    const t = await decode(titled.toPng());
    const x0 = Math.floor((titled.width - (40 + 12)) / 2) + 6;
    expect([t.rgb(x0 + 9, 30 + 20), t.rgb(x0 + 10, 30 + 20), t.rgb(x0 + 20, 30 + 20)]).toEqual([[255, 255, 255], BLACK, [255, 255, 255]]);
    expect(boxes.isDisposed).toBe(false);
    tf.dispose([white, boxes]);
  });

  it("says what is wrong in one line", () => {
    const x = tf.zeros([10, 20]);
    const twoByThree = tf.zeros([2, 3]);
    const two = [
      [0, 0, 1, 1],
      [2, 2, 3, 3],
    ];
    expect(errorOf(() => drawBoxes(x, [[0, 0, 1, 1], [10, 5, 4, 20]]))).toBe('drawBoxes: invalid boxes[1]. Expected x1 ≤ x2 and y1 ≤ y2 in format "xyxy". Received: boxes[1]=[10, 5, 4, 20].');
    expect(errorOf(() => drawBoxes(x, twoByThree))).toBe("drawBoxes: invalid boxes. Expected a [N, 4] tensor or an array of [x1, y1, x2, y2] pixel boxes. Received: boxes=Tensor<float32>[2,3].");
    expect(errorOf(() => drawBoxes(x, [1, 2, 3, 4] as never))).toBe("drawBoxes: invalid boxes. Expected a [N, 4] tensor or an array of [x1, y1, x2, y2] pixel boxes. Received: boxes=[1,2,3,4].");
    expect(errorOf(() => drawBoxes(x, [[1, 2, 3]]))).toBe("drawBoxes: invalid boxes[0]. Expected 4 finite numbers [x1, y1, x2, y2]. Received: boxes[0]=[1, 2, 3].");
    expect(errorOf(() => drawBoxes(x, two, { labels: ["a"] }))).toBe("drawBoxes: invalid labels. Expected one per box (2). Received: 1 labels.");
    expect(errorOf(() => drawBoxes(x, two, { labels: ["a", 7 as never] }))).toBe("drawBoxes: invalid labels[1]. Expected a string. Received: labels[1]=7.");
    expect(errorOf(() => drawBoxes(x, two, { scores: [0.5, NaN] }))).toBe("drawBoxes: invalid scores[1]. Expected a finite number. Received: scores[1]=NaN.");
    expect(errorOf(() => drawBoxes(x, two, { colors: ["red", "blu"] }))).toBe(
      'drawBoxes: invalid colors[1]. Expected a CSS colour such as "red" or "#1f77b4", or a number k for tab10 colour k mod 10. Received: colors[1]="blu".',
    );
    expect(errorOf(() => drawBoxes(x, two, { colors: ["red"] }))).toBe("drawBoxes: invalid colors. Expected one per box (2). Received: 1 colors.");
    expect(errorOf(() => drawBoxes(x, two, { lineWidth: 0 }))).toBe("drawBoxes: invalid lineWidth. Expected an integer in [1, 16]. Received: lineWidth=0.");
    expect(errorOf(() => drawBoxes(x, two, { label: ["a", "b"] } as never))).toMatch(/^drawBoxes: unknown option `label`\. Expected one of .*\. Did you mean `labels`\?$/);
    const batch = tf.zeros([2, 2, 3, 1]);
    expect(errorOf(() => drawBoxes(batch, two))).toMatch(/^drawBoxes: invalid image\. Expected one image/);
    tf.dispose([x, twoByThree, batch]);
  });
});
