/** syntheticScenes: shapes, determinism, masks and boxes that agree exactly, options, errors. */
import * as tf from "@tensorflow/tfjs";
import { SCENE_BACKGROUNDS, SCENE_SHAPES, SyntheticScenes, syntheticScenes } from "./synthetic_scenes";

/**
 * Checks every image of `s` against its masks and boxes (plain loops, one `expect` per image: a
 * per-pixel `expect` would take minutes); returns the pixel count of every object.
 */
function checkConsistent(s: SyntheticScenes): number[][] {
  const [n, h, w] = s.masks.shape;
  const areas: number[][] = [];
  for (let i = 0; i < n; i++) {
    const m = s.boxes[i].length;
    const problems: string[] = [];
    if (s.classes[i].length !== m) problems.push(`${s.classes[i].length} classes for ${m} boxes`);
    const tight = Array.from({ length: m }, () => [w, h, 0, 0]);
    const count = new Array<number>(m).fill(0);
    const colour: (number[] | undefined)[] = new Array(m).fill(undefined);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = (i * h + y) * w + x;
        const id = s.instanceMasks.data[p];
        if (id === 0) {
          if (s.masks.data[p] !== 0) problems.push(`class ${s.masks.data[p]} on background at (${x}, ${y})`);
          continue;
        }
        if (id > m) {
          problems.push(`instance ${id} of ${m} at (${x}, ${y})`);
          continue;
        }
        const j = id - 1;
        if (s.masks.data[p] !== s.classes[i][j] + 1) problems.push(`class mask ${s.masks.data[p]} on object ${j} at (${x}, ${y})`);
        count[j]++;
        const box = tight[j];
        [box[0], box[1], box[2], box[3]] = [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x + 1), Math.max(box[3], y + 1)];
        const rgb = Array.from(s.images.data.subarray(3 * p, 3 * p + 3));
        if (!colour[j]) colour[j] = rgb;
        else if (colour[j]!.some((v, k) => v !== rgb[k])) problems.push(`object ${j} has a second colour at (${x}, ${y})`);
      }
    }
    // Every object is visible, and its box is the tight box of its visible pixels.
    count.forEach((c, j) => c === 0 && problems.push(`object ${j} has no pixel`));
    expect({ image: i, problems: problems.slice(0, 3), boxes: s.boxes[i] }).toEqual({ image: i, problems: [], boxes: tight });
    areas.push(count);
  }
  return areas;
}

/** Pairs [j, k] of same-class objects of image i whose pixels are adjacent (4- or 8-neighbourhood). */
function adjacentPairs(s: SyntheticScenes, i: number, diagonal: boolean): string[] {
  const [, h, w] = s.masks.shape;
  const at = (x: number, y: number): number => s.instanceMasks.data[(i * h + y) * w + x];
  const found = new Set<string>();
  const steps = diagonal ? [[1, 0], [0, 1], [1, 1], [1, -1]] : [[1, 0], [0, 1]];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (const [dx, dy] of steps) {
        const [nx, ny] = [x + dx, y + dy];
        if (nx >= w || ny < 0 || ny >= h) continue;
        const [a, b] = [at(x, y), at(nx, ny)];
        if (a && b && a !== b && s.classes[i][a - 1] === s.classes[i][b - 1]) found.add(`${Math.min(a, b) - 1},${Math.max(a, b) - 1}`);
      }
    }
  }
  return [...found].sort();
}

describe("syntheticScenes", () => {
  test("shapes, dtypes and defaults", () => {
    const s = syntheticScenes({ count: 5, imageSize: [48, 40], seed: 1 });
    expect(s.images.shape).toEqual([5, 48, 40, 3]);
    expect(s.images.dtype).toBe("uint8");
    expect(s.masks.shape).toEqual([5, 48, 40]);
    expect(s.instanceMasks.shape).toEqual([5, 48, 40]);
    expect(s.boxes).toHaveLength(5);
    expect(s.classes).toHaveLength(5);
    expect(s.touching).toEqual([[], [], [], [], []]);
    expect(s.classNames).toEqual(["circle", "square", "triangle"]);
    expect(s.maxObjects).toBe(4);
    const d = syntheticScenes({ count: 1, seed: 1 });
    expect(d.images.shape).toEqual([1, 64, 64, 3]);
  });

  test("the same seed gives the same bytes; another seed other scenes", () => {
    for (const background of SCENE_BACKGROUNDS) {
      for (const touching of [false, true]) {
        const options = { count: 20, background, touching, classes: [...SCENE_SHAPES] };
        const a = syntheticScenes({ ...options, seed: 7 });
        const b = syntheticScenes({ ...options, seed: 7 });
        expect(Buffer.from(a.images.data).equals(Buffer.from(b.images.data))).toBe(true);
        expect(Buffer.from(a.masks.data).equals(Buffer.from(b.masks.data))).toBe(true);
        expect(Buffer.from(a.instanceMasks.data).equals(Buffer.from(b.instanceMasks.data))).toBe(true);
        expect([a.boxes, a.classes, a.touching]).toEqual([b.boxes, b.classes, b.touching]);
        const c = syntheticScenes({ ...options, seed: 8 });
        expect(Buffer.from(a.images.data).equals(Buffer.from(c.images.data))).toBe(false);
      }
    }
  });

  test("boxes are the tight boxes of the visible pixels; masks and image agree (every background, overlap and touching)", () => {
    const variants = [
      { background: "plain" as const },
      { background: "noise" as const, maxOverlap: 1, minVisible: 0 },
      { background: "gradient" as const, touching: true, classes: [...SCENE_SHAPES] },
      { background: "clutter" as const, maxOverlap: 0.6, minObjects: 2, maxObjects: 8, imageSize: [50, 70] as [number, number] },
    ];
    for (const v of variants) {
      const s = syntheticScenes({ count: 150, seed: 3, ...v });
      checkConsistent(s);
      for (const boxes of s.boxes) {
        expect(boxes.length).toBeGreaterThanOrEqual(v.minObjects ?? 1);
        expect(boxes.length).toBeLessThanOrEqual(v.maxObjects ?? 4);
      }
    }
  });

  test("object counts cover [minObjects, maxObjects]; sizes stay in [minSize, maxSize]", () => {
    const s = syntheticScenes({ count: 300, classes: ["square"], minObjects: 0, maxObjects: 3, minSize: 6, maxSize: 12, minVisible: 1, maxOverlap: 1, seed: 5 });
    const counts = new Set(s.boxes.map((b) => b.length));
    expect([...counts].sort()).toEqual([0, 1, 2, 3]);
    const areas = checkConsistent(s);
    s.boxes.forEach((boxes, i) =>
      boxes.forEach(([x1, y1, x2, y2], j) => {
        // minVisible 1: no square is covered at all, so it fills its box, a side in [6, 12].
        expect(x2 - x1).toBe(y2 - y1);
        expect(x2 - x1).toBeGreaterThanOrEqual(6);
        expect(x2 - x1).toBeLessThanOrEqual(12);
        expect(areas[i][j]).toBe((x2 - x1) * (y2 - y1));
      }),
    );
  });

  test("covered objects: boxes shrink to what stays visible; minVisible leaves out the mostly hidden", () => {
    // Squares fill their boxes: one with fewer pixels than its box area is partly covered.
    const covered = syntheticScenes({ count: 200, classes: ["square"], maxObjects: 6, maxOverlap: 1, minVisible: 0, seed: 11 });
    const areas = checkConsistent(covered);
    // Same-class objects never overlap, so with one class nothing is covered...
    expect(covered.boxes.every((boxes, i) => boxes.every(([x1, y1, x2, y2], j) => areas[i][j] === (x2 - x1) * (y2 - y1)))).toBe(true);
    // ...with two, some are, and a covered square's box is the tight box of its visible part (checked above).
    const two = syntheticScenes({ count: 200, classes: ["square", "rectangle"], maxObjects: 6, maxOverlap: 1, minVisible: 0, seed: 11 });
    const twoAreas = checkConsistent(two);
    const partly = two.boxes.flatMap((boxes, i) => boxes.filter(([x1, y1, x2, y2], j) => twoAreas[i][j] < (x2 - x1) * (y2 - y1)));
    expect(partly.length).toBeGreaterThan(10);
    const whole = syntheticScenes({ count: 200, classes: ["square", "rectangle"], maxObjects: 6, maxOverlap: 1, minVisible: 1, seed: 11 });
    const wholeAreas = checkConsistent(whole);
    expect(whole.boxes.every((boxes, i) => boxes.every(([x1, y1, x2, y2], j) => wholeAreas[i][j] === (x2 - x1) * (y2 - y1)))).toBe(true);
  });

  test("maxOverlap: 0 keeps boxes apart", () => {
    const s = syntheticScenes({ count: 200, maxOverlap: 0, maxObjects: 5, seed: 2 });
    for (const boxes of s.boxes) {
      for (let a = 0; a < boxes.length; a++) {
        for (let b = a + 1; b < boxes.length; b++) {
          const iw = Math.min(boxes[a][2], boxes[b][2]) - Math.max(boxes[a][0], boxes[b][0]);
          const ih = Math.min(boxes[a][3], boxes[b][3]) - Math.max(boxes[a][1], boxes[b][1]);
          expect(iw <= 0 || ih <= 0).toBe(true);
        }
      }
    }
  });

  test("touching: every scene of two or more objects has a same-class pair that touches; without it none touch", () => {
    const s = syntheticScenes({ count: 200, touching: true, seed: 4, classes: ["ellipse", "star", "cross"] });
    checkConsistent(s);
    let pairs = 0;
    s.boxes.forEach((boxes, i) => {
      const reported = s.touching[i].map(([a, b]) => `${a},${b}`);
      expect(reported).toEqual(adjacentPairs(s, i, false));
      for (const [a, b] of s.touching[i]) expect(s.classes[i][a]).toBe(s.classes[i][b]);
      if (boxes.length >= 2) expect(reported.length).toBeGreaterThan(0);
      pairs += reported.length;
    });
    expect(pairs).toBeGreaterThan(100);
    // The class mask shows such a pair as one region: no background pixel between them on the contact line.
    const apart = syntheticScenes({ count: 200, maxOverlap: 1, maxObjects: 6, seed: 4 });
    apart.boxes.forEach((_, i) => {
      expect(apart.touching[i]).toEqual([]);
      expect(adjacentPairs(apart, i, true)).toEqual([]);
    });
  });

  test("shapes are rasterised exactly: a circle of diameter d has the pixels whose centres are in it", () => {
    const s = syntheticScenes({ count: 40, classes: ["circle"], maxObjects: 1, minVisible: 1, minSize: 5, maxSize: 20, seed: 9 });
    const [, h, w] = s.masks.shape;
    for (let i = 0; i < 40; i++) {
      const [x1, y1, x2, y2] = s.boxes[i][0];
      const d = x2 - x1;
      expect(y2 - y1).toBe(d);
      const expected: number[] = [];
      const actual: number[] = [];
      for (let y = 0; y < d; y++) {
        for (let x = 0; x < d; x++) {
          expected.push((x + 0.5 - d / 2) ** 2 + (y + 0.5 - d / 2) ** 2 <= (d / 2) ** 2 ? 1 : 0);
          actual.push(s.instanceMasks.data[(i * h + y1 + y) * w + x1 + x]);
        }
      }
      expect(actual).toEqual(expected);
    }
  });

  test("class balance is roughly uniform", () => {
    for (const classes of [undefined, [...SCENE_SHAPES]]) {
      const s = syntheticScenes({ count: 2000, classes, seed: 12, touching: classes !== undefined });
      const k = s.classNames.length;
      const counts = new Array<number>(k).fill(0);
      for (const c of s.classes.flat()) counts[c]++;
      const mean = counts.reduce((a, b) => a + b) / k;
      for (const c of counts) expect(Math.abs(c - mean) / mean).toBeLessThan(0.1);
    }
  });

  test("backgrounds: plain is one colour, noise varies per pixel, gradient is smooth, clutter has a few colours", () => {
    const background = (s: SyntheticScenes, i: number): number[][] => {
      const [, h, w] = s.masks.shape;
      const out: number[][] = [];
      for (let p = 0; p < h * w; p++) {
        out.push(s.instanceMasks.data[i * h * w + p] === 0 ? Array.from(s.images.data.subarray(3 * (i * h * w + p), 3 * (i * h * w + p) + 3)) : []);
      }
      return out;
    };
    const distinct = (pixels: number[][]): number => new Set(pixels.filter((p) => p.length).map((p) => p.join())).size;
    const plain = syntheticScenes({ count: 10, background: "plain", seed: 1 });
    const noise = syntheticScenes({ count: 10, background: "noise", seed: 1 });
    const gradient = syntheticScenes({ count: 10, background: "gradient", seed: 1 });
    const clutter = syntheticScenes({ count: 10, background: "clutter", seed: 1 });
    for (let i = 0; i < 10; i++) {
      expect(distinct(background(plain, i))).toBe(1);
      expect(distinct(background(noise, i))).toBeGreaterThan(500);
      const c = distinct(background(clutter, i));
      expect(c).toBeGreaterThanOrEqual(1);
      expect(c).toBeLessThanOrEqual(9);
      // Neighbouring background pixels of a gradient differ by a few levels at most.
      const g = background(gradient, i);
      let step = 0;
      for (let p = 0; p + 1 < g.length; p++) {
        if (p % 64 === 63 || !g[p].length || !g[p + 1].length) continue;
        for (let k = 0; k < 3; k++) step = Math.max(step, Math.abs(g[p][k] - g[p + 1][k]));
      }
      expect(step).toBeLessThanOrEqual(6);
    }
    expect([...Array(10).keys()].some((i) => distinct(background(clutter, i)) > 1)).toBe(true);
  });

  test("object colours stand out from a plain background", () => {
    const s = syntheticScenes({ count: 300, seed: 6 });
    const [, h, w] = s.masks.shape;
    let far = 0;
    let all = 0;
    for (let i = 0; i < 300; i++) {
      const bg = s.images.data.subarray(3 * i * h * w, 3 * i * h * w + 3); // pixel (0, 0) or an object's colour
      let background: number[] | undefined;
      for (let p = 0; p < h * w && !background; p++) {
        if (s.instanceMasks.data[i * h * w + p] === 0) background = Array.from(s.images.data.subarray(3 * (i * h * w + p), 3 * (i * h * w + p) + 3));
      }
      expect(bg.length).toBe(3);
      s.boxes[i].forEach(([x1, y1, x2, y2], j) => {
        for (let y = y1; y < y2; y++) {
          for (let x = x1; x < x2; x++) {
            const p = (i * h + y) * w + x;
            if (s.instanceMasks.data[p] !== j + 1) continue;
            const rgb = s.images.data.subarray(3 * p, 3 * p + 3);
            all++;
            if (Math.hypot(rgb[0] - background![0], rgb[1] - background![1], rgb[2] - background![2]) >= 100) far++;
            return;
          }
        }
      });
    }
    expect(far / all).toBeGreaterThan(0.99);
  });

  test("toTensors: x in [0, 1], boxes and classes padded with -1, int32 masks; nothing leaked", () => {
    const s = syntheticScenes({ count: 3, imageSize: [16, 20], minSize: 4, maxSize: 8, maxObjects: 3, seed: 1 });
    const before = tf.memory().numTensors;
    const t = s.toTensors();
    expect(t.x.shape).toEqual([3, 16, 20, 3]);
    expect(t.x.dtype).toBe("float32");
    expect(t.boxes.shape).toEqual([3, 3, 4]);
    expect(t.classes.shape).toEqual([3, 3]);
    expect(t.classes.dtype).toBe("int32");
    expect(t.masks.shape).toEqual([3, 16, 20]);
    expect(t.masks.dtype).toBe("int32");
    const x = t.x.dataSync();
    for (const p of [0, 1, 500, x.length - 1]) expect(x[p]).toBeCloseTo(s.images.data[p] / 255, 6);
    const boxes = t.boxes.arraySync();
    const classes = t.classes.arraySync();
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        expect(boxes[i][j]).toEqual(s.boxes[i][j] ?? [-1, -1, -1, -1]);
        expect(classes[i][j]).toBe(s.classes[i][j] ?? -1);
      }
    }
    expect(Array.from(t.masks.dataSync())).toEqual(Array.from(s.masks.data));
    tf.dispose([t.x, t.boxes, t.classes, t.masks]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test("errors name the option, what was expected and what was received", () => {
    const call = (options: unknown) => () => syntheticScenes(options as never);
    expect(call(undefined)).toThrow("syntheticScenes: invalid options. Expected an object such as { count: 1000, seed: 42 }. Received: options=undefined.");
    expect(call(5)).toThrow("syntheticScenes: invalid options. Expected an object such as { count: 1000, seed: 42 }. Received: options=5.");
    const keys = "`count`, `imageSize`, `classes`, `minObjects`, `maxObjects`, `minSize`, `maxSize`, `maxOverlap`, `minVisible`, `touching`, `background`, `seed`";
    expect(call({ count: 10, overlap: 0.5 })).toThrow(`syntheticScenes: unknown option \`overlap\`. Expected one of ${keys}.`);
    expect(call({ count: 10, minVisibility: 0.5 })).toThrow(`syntheticScenes: unknown option \`minVisibility\`. Expected one of ${keys}. Did you mean \`minVisible\`?`);
    expect(call({})).toThrow("syntheticScenes: invalid count. Expected an integer >= 1. Received: count=undefined.");
    expect(call({ count: 0 })).toThrow("syntheticScenes: invalid count. Expected an integer >= 1. Received: count=0.");
    expect(call({ count: 1, imageSize: [64] })).toThrow("syntheticScenes: invalid imageSize. Expected [height, width], two positive integers. Received: imageSize=[64].");
    expect(call({ count: 1, imageSize: [3, 64] })).toThrow("syntheticScenes: invalid imageSize. Expected [height, width], both at least 4. Received: imageSize=[3,64].");
    expect(call({ count: 1, classes: [] })).toThrow(
      'syntheticScenes: invalid classes. Expected a non-empty array of shape names from "circle", "square", "triangle", "rectangle", "ellipse", "star", "cross". Received: classes=[].',
    );
    expect(call({ count: 1, classes: ["circle", "sqare"] })).toThrow(
      'syntheticScenes: invalid classes. Expected one of "circle", "square", "triangle", "rectangle", "ellipse", "star", "cross". Received: classes="sqare". Did you mean `square`?',
    );
    expect(call({ count: 1, classes: ["star", "cross", "star"] })).toThrow(
      'syntheticScenes: invalid classes. Expected distinct shape names. Received: classes=["star","cross","star"] ("star" twice).',
    );
    expect(call({ count: 1, minObjects: -1 })).toThrow("syntheticScenes: invalid minObjects. Expected an integer in [0, 255]. Received: minObjects=-1.");
    expect(call({ count: 1, minObjects: 3, maxObjects: 2 })).toThrow("syntheticScenes: invalid maxObjects. Expected an integer in [3, 255]. Received: maxObjects=2.");
    expect(call({ count: 1, maxObjects: 256 })).toThrow("syntheticScenes: invalid maxObjects. Expected an integer in [1, 255]. Received: maxObjects=256.");
    expect(call({ count: 1, minSize: 3 })).toThrow("syntheticScenes: invalid minSize. Expected an integer in [4, 64]. Received: minSize=3.");
    expect(call({ count: 1, imageSize: [32, 48], maxSize: 40 })).toThrow("syntheticScenes: invalid maxSize. Expected an integer in [5, 32]. Received: maxSize=40.");
    expect(call({ count: 1, minSize: 20, maxSize: 10 })).toThrow("syntheticScenes: invalid maxSize. Expected an integer in [20, 64]. Received: maxSize=10.");
    expect(call({ count: 1, maxOverlap: 1.5 })).toThrow("syntheticScenes: invalid maxOverlap. Expected a number in [0, 1]. Received: maxOverlap=1.5.");
    expect(call({ count: 1, minVisible: -0.1 })).toThrow("syntheticScenes: invalid minVisible. Expected a number in [0, 1]. Received: minVisible=-0.1.");
    expect(call({ count: 1, touching: "yes" })).toThrow('syntheticScenes: invalid touching. Expected true or false. Received: touching="yes".');
    expect(call({ count: 1, background: "noisy" })).toThrow(
      'syntheticScenes: invalid background. Expected one of "plain", "noise", "gradient", "clutter". Received: background="noisy". Did you mean `noise`?',
    );
    expect(call({ count: 1, seed: -1 })).toThrow("syntheticScenes: invalid seed. Expected a non-negative integer. Received: seed=-1.");
    expect(call({ count: 1, imageSize: [32, 32], minObjects: 8, maxObjects: 8, minSize: 16, maxSize: 20, maxOverlap: 0, seed: 1 })).toThrow(
      "syntheticScenes: could not draw a scene of at least 8 objects in 100 tries. Expected room for minObjects objects of minSize to maxSize pixels at maxOverlap: lower minObjects or the sizes, or raise maxOverlap. " +
        "Received: minObjects=8, imageSize=[32,32], minSize=16, maxSize=20, maxOverlap=0, minVisible=0.5.",
    );
  });

  test("defaults adapt to the other size and count given", () => {
    expect(() => syntheticScenes({ count: 5, maxSize: 6, seed: 1 })).not.toThrow(); // minSize becomes 6
    const big = syntheticScenes({ count: 5, minSize: 30, minObjects: 0, seed: 1 }); // maxSize becomes 30
    checkConsistent(big);
    const many = syntheticScenes({ count: 20, minObjects: 6, maxOverlap: 1, seed: 1 }); // maxObjects becomes 6
    expect(many.maxObjects).toBe(6);
    expect(many.boxes.every((b) => b.length === 6)).toBe(true);
    const none = syntheticScenes({ count: 3, maxObjects: 0, seed: 1 }); // minObjects becomes 0
    expect(none.boxes).toEqual([[], [], []]);
  });
});
