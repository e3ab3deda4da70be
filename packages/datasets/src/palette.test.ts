/** vocPalette: the VOC devkit's colours, exactly; the class names and the void label. */
import { VOC_CLASS_NAMES } from "./annotations";
import { VOC_SEGMENTATION_CLASSES, VOC_VOID, vocPalette } from "./palette";

describe("vocPalette", () => {
  it("gives the VOC devkit's labelcolormap: the 21 class colours and the void colour", () => {
    // VOClabelcolormap.m, as printed by the devkit (and PIL's getpalette() of a VOC mask)
    expect(vocPalette(21)).toEqual([
      [0, 0, 0],
      [128, 0, 0],
      [0, 128, 0],
      [128, 128, 0],
      [0, 0, 128],
      [128, 0, 128],
      [0, 128, 128],
      [128, 128, 128],
      [64, 0, 0],
      [192, 0, 0],
      [64, 128, 0],
      [192, 128, 0],
      [64, 0, 128],
      [192, 0, 128],
      [64, 128, 128],
      [192, 128, 128],
      [0, 64, 0],
      [128, 64, 0],
      [0, 192, 0],
      [128, 192, 0],
      [0, 64, 128],
    ]);
    const all = vocPalette();
    expect(all).toHaveLength(256);
    expect(all[VOC_VOID]).toEqual([224, 224, 192]);
    expect(all[63]).toEqual([192, 192, 192]);
    expect(all[64]).toEqual([32, 0, 0]);
    // every colour distinct, so a colour names its class id
    expect(new Set(all.map((c) => c.join(","))).size).toBe(256);
    expect(vocPalette(1)).toEqual([[0, 0, 0]]);
  });

  it("returns a new array each call", () => {
    const a = vocPalette(2);
    a[1][0] = 7;
    expect(vocPalette(2)[1]).toEqual([128, 0, 0]);
  });

  it("rejects a count outside [1, 256]", () => {
    for (const count of [0, 257, 2.5, NaN]) {
      expect(() => vocPalette(count)).toThrow(`vocPalette: invalid count. Expected an integer in [1, 256]. Received: count=${count}.`);
    }
    expect(() => vocPalette("21" as unknown as number)).toThrow('vocPalette: invalid count. Expected an integer in [1, 256]. Received: count="21".');
  });

  it("names background and the 20 VOC classes; void is 255", () => {
    expect(VOC_SEGMENTATION_CLASSES).toHaveLength(21);
    expect(VOC_SEGMENTATION_CLASSES[0]).toBe("background");
    expect(VOC_SEGMENTATION_CLASSES.slice(1)).toEqual(VOC_CLASS_NAMES);
    expect(VOC_SEGMENTATION_CLASSES[15]).toBe("person");
    expect(Object.isFrozen(VOC_SEGMENTATION_CLASSES)).toBe(true);
    expect(VOC_VOID).toBe(255);
  });
});
