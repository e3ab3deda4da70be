/**
 * The grid layout shared by imageGrid, filters and featureMaps: tiles in rows,
 * an optional caption under each, an optional title on top.
 *
 * Geometry (pixels), with cellW/cellH the largest tile, captionH = 16 when any tile has a caption:
 *   gridW = cols·cellW + (cols + 1)·GAP
 *   gridH = rows·(cellH + captionH) + (rows + 1)·GAP
 *   width = max(gridW, title width + 16), height = gridH (+ 24 with a title)
 * Tile (r, c) is centred in its cell, whose top-left is
 *   (x0 + GAP + c·(cellW + GAP), top + GAP + r·(cellH + captionH + GAP)).
 */
import { blit, drawTitle, encodePng, fitText, font, measure, newCanvas, Raster, textCentered, TITLE_HEIGHT } from "./draw";
import { checkFigureSize } from "./options";

/** Space around and between tiles. */
export const GAP = 6;
/** Height of the caption line under a tile. */
export const CAPTION_HEIGHT = 16;
/** Preferred caption font size (shrinks to 8 px to fit the cell, then is cut with "…"). */
export const CAPTION_PX = 11;

/** One cell of a grid. @internal */
export interface Tile {
  raster: Raster;
  caption?: string;
  captionColor?: string;
}

/** The drawn grid. @internal */
export interface GridResult {
  png: Uint8Array;
  width: number;
  height: number;
}

/** Draws tiles into a grid of `cols` columns; `unit` names the caller in size errors. @internal */
export function drawGrid(unit: string, tiles: Tile[], cols: number, title?: string): GridResult {
  const columns = Math.min(cols, tiles.length);
  const rows = Math.ceil(tiles.length / columns);
  const cellW = Math.max(...tiles.map((t) => t.raster.width));
  const cellH = Math.max(...tiles.map((t) => t.raster.height));
  const captionH = tiles.some((t) => t.caption !== undefined) ? CAPTION_HEIGHT : 0;
  const gridW = columns * cellW + (columns + 1) * GAP;
  const gridH = rows * (cellH + captionH) + (rows + 1) * GAP;
  const top = title ? TITLE_HEIGHT : 0;
  const width = title ? Math.max(gridW, Math.ceil(measure(title, font(14, true))) + 16) : gridW;
  const height = gridH + top;
  checkFigureSize(unit, width, height, "Show fewer images, fewer columns or a smaller scale.");
  const { canvas, ctx } = newCanvas(width, height);
  if (title) drawTitle(ctx, title, width);
  const x0 = Math.floor((width - gridW) / 2);
  tiles.forEach((tile, i) => {
    const r = Math.floor(i / columns);
    const c = i % columns;
    const cellX = x0 + GAP + c * (cellW + GAP);
    const cellY = top + GAP + r * (cellH + captionH + GAP);
    blit(ctx, tile.raster, cellX + Math.floor((cellW - tile.raster.width) / 2), cellY + Math.floor((cellH - tile.raster.height) / 2));
    if (tile.caption) {
      const fitted = fitText(tile.caption, cellW + GAP - 2, CAPTION_PX);
      textCentered(ctx, fitted.text, cellX + cellW / 2, cellY + cellH + 2, font(fitted.px), tile.captionColor ?? "#222222");
    }
  });
  return { png: encodePng(canvas), width, height };
}

/** Default column count: a near-square grid (6 images: 3 columns, 10: 4, 16: 4). */
export function defaultCols(n: number): number {
  return Math.max(1, Math.min(n, Math.ceil(Math.sqrt(n))));
}

/** The enlargement that brings the largest side of a tile near `target` pixels (at least 1, at most 64). */
export function autoScale(side: number, target: number): number {
  return Math.max(1, Math.min(64, Math.floor(target / side)));
}
