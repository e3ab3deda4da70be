/**
 * Colormaps: a value t in [0, 1] to an RGB colour.
 *
 * - `gray`: level = round(255·t).
 * - `viridis`: matplotlib's 256-entry table, entry min(255, floor(256·t)), as `plt.imshow(cmap="viridis")`.
 * - `bwr`: blue (0,0,255) at t=0, white at t=0.5, red (255,0,0) at t=1, linear in between,
 *   computed exactly (not through a 256-entry table) so that the middle is pure white.
 */
import type { Colormap } from "./options";

const VIRIDIS_HEX =
  "44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769" +
  "48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a" +
  "472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85" +
  "4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b" +
  "3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d" +
  "33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e" +
  "2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e" +
  "26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d" +
  "21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88" +
  "1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81" +
  "28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74" +
  "3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863" +
  "5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d" +
  "84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32" +
  "addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a" +
  "d8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725";

const VIRIDIS = Uint8Array.from(VIRIDIS_HEX.match(/../g)!.map((h) => parseInt(h, 16)));

/** ColorBrewer "Blues" (as matplotlib's), light to dark: the confusion-matrix heatmap. */
const BLUES = ["f7fbff", "deebf7", "c6dbef", "9ecae1", "6baed6", "4292c6", "2171b5", "08519c", "08306b"].map((h) => [
  parseInt(h.slice(0, 2), 16),
  parseInt(h.slice(2, 4), 16),
  parseInt(h.slice(4, 6), 16),
]);

/** Writes the colour of t (clamped to [0, 1]) as R, G, B at `out[offset..offset+2]`. */
export function colorize(t: number, colormap: Colormap, out: Uint8ClampedArray, offset: number): void {
  const x = t <= 0 ? 0 : t >= 1 ? 1 : t;
  switch (colormap) {
    case "gray": {
      const g = Math.round(255 * x);
      out[offset] = g;
      out[offset + 1] = g;
      out[offset + 2] = g;
      return;
    }
    case "viridis": {
      const i = 3 * Math.min(255, Math.floor(256 * x));
      out[offset] = VIRIDIS[i];
      out[offset + 1] = VIRIDIS[i + 1];
      out[offset + 2] = VIRIDIS[i + 2];
      return;
    }
    case "bwr": {
      if (x <= 0.5) {
        const v = Math.round(510 * x);
        out[offset] = v;
        out[offset + 1] = v;
        out[offset + 2] = 255;
      } else {
        const v = Math.round(510 * (1 - x));
        out[offset] = 255;
        out[offset + 1] = v;
        out[offset + 2] = v;
      }
      return;
    }
  }
}

/** True for colormaps centred on a middle value (0 of a symmetric range). */
export function isDiverging(colormap: Colormap): boolean {
  return colormap === "bwr";
}

/** The "Blues" colour of t in [0, 1] as a CSS `rgb(…)` string, and whether text on it should be white. */
export function blues(t: number): { css: string; dark: boolean } {
  const x = Math.min(1, Math.max(0, t)) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(x));
  const f = x - i;
  const [r, g, b] = [0, 1, 2].map((k) => Math.round(BLUES[i][k] + (BLUES[i + 1][k] - BLUES[i][k]) * f));
  return { css: `rgb(${r},${g},${b})`, dark: 0.299 * r + 0.587 * g + 0.114 * b < 140 };
}

/**
 * matplotlib's "tab10", the default colour cycle (`C0`…`C9`): the colours of series and groups,
 * in order, cycling after ten.
 */
export const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"] as const;
