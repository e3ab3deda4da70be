/**
 * Readers of the three common box-annotation formats, for users' own detection data:
 * Pascal VOC XML (`readVocXml`), COCO JSON (`readCocoJson`) and YOLO txt (`readYoloTxt`).
 * Each gives boxes in one convention, pixel `[x1, y1, x2, y2]` where pixel column `i` spans
 * [i, i + 1) (the convention of {@link syntheticScenes} and KerasCV's `"xyxy"`), with class
 * names and ids.
 *
 * A file that does not parse is one line naming the file, the line (or the JSON entry) and what
 * was expected.
 */
import * as fs from "fs";
import * as path from "path";
import { closest, expectOptions, expectTargetSize, fail, show } from "@convlab/engine";

/** The 20 Pascal VOC classes in the order of the VOC devkit (and of most VOC-trained models): class id = index. */
export const VOC_CLASS_NAMES: readonly string[] = Object.freeze([
  "aeroplane",
  "bicycle",
  "bird",
  "boat",
  "bottle",
  "bus",
  "car",
  "cat",
  "chair",
  "cow",
  "diningtable",
  "dog",
  "horse",
  "motorbike",
  "person",
  "pottedplant",
  "sheep",
  "sofa",
  "train",
  "tvmonitor",
]);

// ---------------------------------------------------------------------------------------------
// Pascal VOC XML
// ---------------------------------------------------------------------------------------------

/** Options of {@link readVocXml}. */
export interface ReadVocXmlArgs {
  /** Class names to map the objects' names to ids (`classes`); a name outside them is an error. E.g. {@link VOC_CLASS_NAMES}. */
  classNames?: readonly string[];
}

/** One `<object>` of a VOC annotation. */
export interface VocObject {
  /** `<name>`, trimmed. */
  name: string;
  /** Pixel `[x1, y1, x2, y2]` = `[xmin − 1, ymin − 1, xmax, ymax]` of `<bndbox>`. */
  box: number[];
  /** `<difficult>` is 1 (VOC's evaluation ignores such objects). False when absent. */
  difficult: boolean;
  /** `<truncated>` is 1 (the object extends outside the image). False when absent. */
  truncated: boolean;
}

/** What {@link readVocXml} returns. */
export interface VocAnnotation {
  /** `<filename>`: the image's file name, e.g. `"000001.jpg"`. */
  filename: string;
  /** `<size>`: the image's width and height in pixels and its channels (`depth`, 3 when absent). */
  size: { width: number; height: number; depth: number };
  /** The `<object>`s, in file order. */
  objects: VocObject[];
  /** `objects[i].box`, for every object. */
  boxes: number[][];
  /** `objects[i].name`, for every object. */
  names: string[];
  /** With `classNames`: each object's index in it; otherwise `undefined`. */
  classes: number[] | undefined;
}

/**
 * Reads a Pascal VOC annotation (`Annotations/000001.xml`, or what LabelImg and CVAT write in that format).
 *
 * VOC's `<bndbox>` holds 1-based, inclusive pixel indices (`xmin = 1` is the first column, a box of
 * `xmin = xmax` is one pixel wide); they become `[xmin − 1, ymin − 1, xmax, ymax]`, pixel column `i`
 * spanning [i, i + 1), so `x2 − x1` is the width in pixels. Coordinates are taken as written (tools
 * that write 0-based or fractional values give boxes shifted by one pixel; nothing is clipped).
 *
 * The XML is read by a small tolerant parser for VOC's subset: elements and their text (entities
 * `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and numeric ones decoded), attributes ignored, comments,
 * CDATA, `<?xml …?>` and `<!DOCTYPE …>` skipped. Only `<filename>`, `<size>` and each `<object>`'s
 * `<name>`, `<difficult>`, `<truncated>` and `<bndbox>` are read (a person's `<part>` boxes are not).
 *
 * @param pathOrText The file's path, or its text (a string starting with `<`, leading whitespace aside).
 * @param options `classNames`: names to map to ids (`classes`). Default: no mapping.
 * @returns `{ filename, size, objects: [{ name, box, difficult, truncated }], boxes, names, classes }`.
 * @throws ConvlabError (one line, naming the file and line) for a file that cannot be read, XML that
 *   does not parse (an unclosed or mismatched element), a missing `<annotation>`, `<filename>`, `<size>`,
 *   `<name>` or `<bndbox>` coordinate, a coordinate that is not a number, `xmax < xmin` or `ymax < ymin`,
 *   and a name outside `classNames` (suggesting the nearest).
 *
 * @example
 * ```ts
 * const a = readVocXml("VOC2012/Annotations/2007_000027.xml", { classNames: VOC_CLASS_NAMES });
 * a.size;        // { width: 486, height: 500, depth: 3 }
 * a.boxes;       // [[173, 100, 349, 351]]
 * a.names;       // ["person"]; a.classes: [14]
 * ```
 *
 * Keras counterpart: none (KerasCV's examples read VOC through TensorFlow Datasets, whose boxes are
 * relative `[ymin, xmin, ymax, xmax]`).
 */
export function readVocXml(pathOrText: string, options: ReadVocXmlArgs = {}): VocAnnotation {
  const unit = "readVocXml";
  expectOptions(unit, options, ["classNames"], '{ classNames: ["cat", "dog"] }');
  const classNames = options.classNames === undefined ? undefined : checkClassNames(unit, options.classNames);
  const { text, source } = readSource(unit, pathOrText, (s) => /^\uFEFF?\s*</.test(s), "a Pascal VOC XML file");
  const xml = new XmlParser(unit, text, source);
  const root = xml.parse();
  if (root.name !== "annotation") {
    throw fail(`${unit}: invalid annotation at line ${xml.line(root.at)} of ${source}. Expected a Pascal VOC <annotation> root element. Received: <${root.name}>.`);
  }
  const required = (parent: XmlElement, name: string, what: string): XmlElement => {
    const found = child(parent, name);
    if (!found) throw fail(`${unit}: missing <${name}> in ${what} at line ${xml.line(parent.at)} of ${source}. Expected <${parent.name}> to hold a <${name}> element.`);
    return found;
  };
  const number = (element: XmlElement, what: string): number => {
    const value = element.text === "" ? NaN : Number(element.text);
    if (!Number.isFinite(value)) {
      throw fail(`${unit}: invalid <${element.name}> of ${what} at line ${xml.line(element.at)} of ${source}. Expected a number. Received: ${show(element.text)}.`);
    }
    return value;
  };
  const flag = (parent: XmlElement, name: string, what: string): boolean => {
    const element = child(parent, name);
    if (!element) return false;
    const value = element.text.toLowerCase();
    if (value === "1" || value === "true") return true;
    if (value === "0" || value === "false" || value === "") return false;
    throw fail(`${unit}: invalid <${name}> of ${what} at line ${xml.line(element.at)} of ${source}. Expected 0 or 1. Received: ${show(element.text)}.`);
  };

  const filename = required(root, "filename", "<annotation>").text;
  const sizeElement = required(root, "size", "<annotation>");
  const depthElement = child(sizeElement, "depth");
  const size = {
    width: number(required(sizeElement, "width", "<size>"), "<size>"),
    height: number(required(sizeElement, "height", "<size>"), "<size>"),
    depth: depthElement ? number(depthElement, "<size>") : 3,
  };
  const objects = root.children
    .filter((e) => e.name === "object")
    .map((element, i): VocObject => {
      const what = `object ${i + 1}`;
      const name = required(element, "name", what).text;
      const bndbox = required(element, "bndbox", `${what} (${show(name)})`);
      const [xmin, ymin, xmax, ymax] = ["xmin", "ymin", "xmax", "ymax"].map((k) => number(required(bndbox, k, `${what} (${show(name)})`), `${what} (${show(name)})`));
      for (const [axis, low, high] of [["x", xmin, xmax], ["y", ymin, ymax]] as const) {
        if (high < low) {
          throw fail(
            `${unit}: invalid box of ${what} (${show(name)}) at line ${xml.line(bndbox.at)} of ${source}: ${axis}max < ${axis}min gives ${axis}2 < ${axis}1. ` +
              `Expected ${axis}min <= ${axis}max (1-based, inclusive). Received: ${axis}min=${low}, ${axis}max=${high}.`,
          );
        }
      }
      return { name, box: [xmin - 1, ymin - 1, xmax, ymax], difficult: flag(element, "difficult", what), truncated: flag(element, "truncated", what) };
    });
  let classes: number[] | undefined;
  if (classNames) {
    const objectElements = root.children.filter((e) => e.name === "object");
    classes = objects.map((o, i) => {
      const id = classNames.indexOf(o.name);
      if (id < 0) {
        const hint = closest(o.name, classNames);
        throw fail(
          `${unit}: unknown class name of object ${i + 1} at line ${xml.line(objectElements[i].at)} of ${source}. ` +
            `Expected one of classNames (${listed(classNames.map((n) => JSON.stringify(n)))}). Received: name=${show(o.name)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`,
        );
      }
      return id;
    });
  }
  return { filename, size, objects, boxes: objects.map((o) => o.box), names: objects.map((o) => o.name), classes };
}

interface XmlElement {
  name: string;
  /** Offset of the `<` of its start tag, for line numbers. */
  at: number;
  children: XmlElement[];
  /** Its own text (not its children's), entities decoded, trimmed. */
  text: string;
}

/** A tolerant parser for the XML subset annotation files use; see {@link readVocXml}. */
class XmlParser {
  private newlines: number[] | undefined;

  constructor(
    private readonly unit: string,
    private readonly text: string,
    private readonly source: string,
  ) {}

  /** The 1-based line of offset `at`. */
  line(at: number): number {
    if (!this.newlines) {
      this.newlines = [];
      for (let i = this.text.indexOf("\n"); i >= 0; i = this.text.indexOf("\n", i + 1)) this.newlines.push(i);
    }
    let [low, high] = [0, this.newlines.length];
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.newlines[mid] < at) low = mid + 1;
      else high = mid;
    }
    return low + 1;
  }

  parse(): XmlElement {
    const text = this.text;
    const stack: XmlElement[] = [];
    const pieces: string[][] = [];
    let root: XmlElement | undefined;
    let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    while (i < text.length) {
      if (text[i] !== "<") {
        const end = text.indexOf("<", i);
        const raw = text.slice(i, end < 0 ? text.length : end);
        if (stack.length > 0) pieces[pieces.length - 1].push(decodeEntities(raw));
        else if (raw.trim() !== "") throw this.error(i, root ? "nothing after the root element" : "an element", show(raw.trim().slice(0, 20)));
        i = end < 0 ? text.length : end;
      } else if (text.startsWith("<!--", i)) {
        i = this.skipPast("-->", i, "the end of the comment, -->");
      } else if (text.startsWith("<![CDATA[", i)) {
        const end = this.skipPast("]]>", i, "the end of the CDATA section, ]]>");
        if (stack.length === 0) throw this.error(i, "an element", "<![CDATA[");
        pieces[pieces.length - 1].push(text.slice(i + 9, end - 3));
        i = end;
      } else if (text.startsWith("<?", i)) {
        i = this.skipPast("?>", i, "the end of the processing instruction, ?>");
      } else if (text.startsWith("<!", i)) {
        // <!DOCTYPE …>, possibly with an internal subset in brackets.
        const bracket = text.indexOf("[", i);
        const close = text.indexOf(">", i);
        i = bracket >= 0 && close >= 0 && bracket < close ? this.skipPast("]>", i, "the end of the DOCTYPE, ]>") : this.skipPast(">", i, "the end of the declaration, >");
      } else if (text.startsWith("</", i)) {
        const end = this.skipPast(">", i, "the end of the closing tag, >");
        const name = text.slice(i + 2, end - 1).trim();
        const open = stack.pop();
        if (!open) throw this.error(i, "an element", `</${name}>`);
        if (open.name !== name) throw this.error(i, `</${open.name}> (to close <${open.name}> of line ${this.line(open.at)})`, `</${name}>`);
        open.text = pieces.pop()!.join("").trim();
        if (stack.length === 0) root = open;
        i = end;
      } else {
        const end = this.tagEnd(i);
        const body = text.slice(i + 1, end - 1);
        const match = /^([A-Za-z_:][-\w.:]*)/.exec(body);
        if (!match) throw this.error(i, "an element name after <", show(text.slice(i, Math.min(end, i + 20))));
        if (root) throw this.error(i, "nothing after the root element", `<${match[1]}>`);
        const element: XmlElement = { name: match[1], at: i, children: [], text: "" };
        if (stack.length > 0) stack[stack.length - 1].children.push(element);
        if (body.endsWith("/")) {
          if (stack.length === 0) root = element;
        } else {
          stack.push(element);
          pieces.push([]);
        }
        i = end;
      }
    }
    if (stack.length > 0) {
      const open = stack[stack.length - 1];
      throw fail(`${this.unit}: invalid XML in ${this.source}: <${open.name}> of line ${this.line(open.at)} is never closed. Expected </${open.name}> before the end of the file.`);
    }
    if (!root) throw fail(`${this.unit}: invalid XML in ${this.source}. Expected a root element such as <annotation>. Received: no element.`);
    return root;
  }

  /** The offset after `marker` (searched from `from`), or the error naming what was expected. */
  private skipPast(marker: string, from: number, expected: string): number {
    const end = this.text.indexOf(marker, from + 1);
    if (end < 0) throw this.error(from, `${expected} before the end of the file`, show(this.text.slice(from, from + 20)));
    return end + marker.length;
  }

  /** The offset after the `>` of a start tag, skipping `>` inside quoted attribute values. */
  private tagEnd(from: number): number {
    let quote = "";
    for (let i = from + 1; i < this.text.length; i++) {
      const c = this.text[i];
      if (quote) {
        if (c === quote) quote = "";
      } else if (c === '"' || c === "'") quote = c;
      else if (c === ">") return i + 1;
      else if (c === "<") break;
    }
    throw this.error(from, "the end of the tag, >", show(this.text.slice(from, from + 20)));
  }

  private error(at: number, expected: string, received: string): Error {
    return fail(`${this.unit}: invalid XML at line ${this.line(at)} of ${this.source}. Expected ${expected}. Received: ${received}.`);
  }
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body[0] !== "#") return ENTITIES[body] ?? whole;
    const code = body[1] === "x" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

function child(parent: XmlElement, name: string): XmlElement | undefined {
  return parent.children.find((e) => e.name === name);
}

// ---------------------------------------------------------------------------------------------
// COCO JSON
// ---------------------------------------------------------------------------------------------

/** A COCO category. */
export interface CocoCategory {
  /** COCO's id (not contiguous: COCO 2017's 80 run from 1 to 90). */
  id: number;
  name: string;
  /** `supercategory`, when the file has one. */
  supercategory?: string;
}

/** One image of a COCO file with its annotations. */
export interface CocoImage {
  /** COCO's image id. */
  id: number;
  /** `file_name`, e.g. `"000000397133.jpg"`. */
  fileName: string;
  width: number;
  height: number;
  /** Per annotation, pixel `[x1, y1, x2, y2]` = `[x, y, x + width, y + height]` of COCO's `bbox`. */
  boxes: number[][];
  /** Per annotation, its index in `classNames` (0-based, contiguous). */
  classes: number[];
  /** Per annotation, its category's name. */
  names: string[];
  /** Per annotation, COCO's `category_id`. */
  categoryIds: number[];
  /** Per annotation, whether `iscrowd` is 1 (a box around a crowd, ignored by COCO's evaluation). */
  iscrowd: boolean[];
  /** Per annotation, its `id` (its index in `annotations` when it has none). */
  annotationIds: number[];
}

/** What {@link readCocoJson} returns. */
export interface CocoDataset {
  /** The images in file order, each with its annotations in file order (an image without any has empty lists). */
  images: CocoImage[];
  /** The categories sorted by id. */
  categories: CocoCategory[];
  /** The categories' names sorted by id: class `k` (in `classes`) is `classNames[k]`, category `categories[k].id`. */
  classNames: string[];
}

/**
 * Reads a COCO object-detection file (`instances_val2017.json`, or what CVAT, Label Studio or
 * Roboflow export as COCO): its images, each with the boxes, classes and flags of its annotations.
 *
 * COCO's `bbox` is `[x, y, width, height]` in pixels, in continuous coordinates with pixel column
 * `i` spanning [i, i + 1); it becomes `[x, y, x + width, y + height]` (nothing rounded or clipped).
 * Category ids are kept (`categoryIds`) and mapped to contiguous 0-based `classes` by sorting the
 * categories by id, as torchvision and Detectron2 do. Segmentations, areas and keypoints are not read.
 *
 * @param pathOrJson The file's path, its text (a string starting with `{`, leading whitespace
 *   aside), or the parsed object.
 * @returns `{ images: [{ id, fileName, width, height, boxes, classes, names, categoryIds, iscrowd,
 *   annotationIds }], categories, classNames }`.
 * @throws ConvlabError (one line, naming the file) for a file that cannot be read, JSON that does not
 *   parse (with its line and column), a missing or mistyped field (naming the entry, e.g.
 *   `annotations[3] (id 7)`), duplicate image or category ids, an annotation whose `image_id` or
 *   `category_id` is not listed, and a `bbox` of negative width (x2 < x1) or height (y2 < y1).
 *
 * @example
 * ```ts
 * const coco = readCocoJson("annotations/instances_val2017.json");
 * coco.classNames.length;          // 80
 * const first = coco.images[0];    // { fileName: "000000397133.jpg", width: 640, height: 427, boxes: [[x1, y1, x2, y2], …], … }
 * ```
 *
 * Keras counterpart: no reader (pycocotools' `COCO(file)` reads the same); the box conversion is
 * `keras.utils.bounding_boxes.convert_format(bbox, source="xywh", target="xyxy")`.
 */
export function readCocoJson(pathOrJson: string | object): CocoDataset {
  const unit = "readCocoJson";
  let data: unknown;
  let source: string;
  if (pathOrJson !== null && typeof pathOrJson === "object") {
    data = pathOrJson;
    source = "the object given";
  } else {
    const read = readSource(unit, pathOrJson as string, (s) => /^\uFEFF?\s*\{/.test(s), "a COCO JSON file");
    source = read.source;
    data = parseJson(unit, read.text.replace(/^\uFEFF/, ""), source);
  }
  const expected = "Expected a COCO file: an object with images, annotations and categories";
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw fail(`${unit}: invalid ${source}. ${expected}. Received: ${kind(data)}.`);
  const top = data as Record<string, unknown>;
  const list = (key: string, required: boolean): Record<string, unknown>[] => {
    const value = top[key];
    if (value === undefined && !required) return [];
    if (!Array.isArray(value)) throw fail(`${unit}: invalid ${key} in ${source}. ${expected} (arrays). Received: ${key}=${value === undefined ? "undefined" : kind(value)}.`);
    value.forEach((entry, i) => {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) throw fail(`${unit}: invalid ${key}[${i}] in ${source}. Expected an object. Received: ${kind(entry)}.`);
    });
    return value as Record<string, unknown>[];
  };
  const field = <T>(entry: Record<string, unknown>, where: string, key: string, check: (v: unknown) => boolean, what: string, fallback?: T): T => {
    const value = entry[key];
    if (value === undefined && fallback !== undefined) return fallback;
    if (!check(value)) throw fail(`${unit}: invalid ${key} of ${where} in ${source}. Expected ${what}. Received: ${key}=${show(value)}.`);
    return value as T;
  };
  const isId = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v);
  const isSize = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v) && v >= 0;
  const label = (key: string, i: number, entry: Record<string, unknown>): string => `${key}[${i}]${isId(entry.id) ? ` (id ${entry.id})` : ""}`;

  const categories = list("categories", false).map((entry, i): CocoCategory => {
    const where = label("categories", i, entry);
    const category: CocoCategory = {
      id: field(entry, where, "id", isId, "an integer id"),
      name: field(entry, where, "name", (v) => typeof v === "string", "a string"),
    };
    if (typeof entry.supercategory === "string") category.supercategory = entry.supercategory;
    return category;
  });
  categories.sort((a, b) => a.id - b.id);
  const classOf = new Map<number, number>();
  categories.forEach((c, k) => {
    if (classOf.has(c.id)) throw fail(`${unit}: duplicate category id ${c.id} in ${source}. Expected distinct ids. Received: ${show(c.name)} and ${show(categories[classOf.get(c.id)!].name)}.`);
    classOf.set(c.id, k);
  });

  const imageOf = new Map<number, CocoImage>();
  const images = list("images", true).map((entry, i): CocoImage => {
    const where = label("images", i, entry);
    const image: CocoImage = {
      id: field(entry, where, "id", isId, "an integer id"),
      fileName: field(entry, where, "file_name", (v) => typeof v === "string", "a string"),
      width: field(entry, where, "width", isSize, "a number >= 0"),
      height: field(entry, where, "height", isSize, "a number >= 0"),
      boxes: [],
      classes: [],
      names: [],
      categoryIds: [],
      iscrowd: [],
      annotationIds: [],
    };
    if (imageOf.has(image.id)) throw fail(`${unit}: duplicate image id ${image.id} in ${source} (${where}). Expected distinct ids. Received: ${show(image.fileName)} and ${show(imageOf.get(image.id)!.fileName)}.`);
    imageOf.set(image.id, image);
    return image;
  });

  list("annotations", false).forEach((entry, i) => {
    const where = label("annotations", i, entry);
    const imageId = field<number>(entry, where, "image_id", isId, "an integer id");
    const image = imageOf.get(imageId);
    if (!image) throw fail(`${unit}: invalid image_id of ${where} in ${source}. Expected the id of an entry of images. Received: image_id=${imageId}.`);
    const categoryId = field<number>(entry, where, "category_id", isId, "an integer id");
    const k = classOf.get(categoryId);
    if (k === undefined) {
      const ids = categories.map((c) => String(c.id));
      throw fail(`${unit}: invalid category_id of ${where} in ${source}. Expected the id of an entry of categories (${ids.length === 0 ? "none listed" : listed(ids)}). Received: category_id=${categoryId}.`);
    }
    const bbox = field<number[]>(entry, where, "bbox", (v) => Array.isArray(v) && v.length === 4 && v.every((x) => typeof x === "number" && Number.isFinite(x)), "[x, y, width, height], four numbers");
    const [x, y, w, h] = bbox;
    if (w < 0 || h < 0) {
      const [name, axis] = w < 0 ? ["width", "x"] : ["height", "y"];
      throw fail(`${unit}: invalid bbox of ${where} in ${source}: ${name} < 0 gives ${axis}2 < ${axis}1. Expected [x, y, width, height] with width >= 0 and height >= 0. Received: bbox=${show(bbox)}.`);
    }
    const crowd = field<number | boolean>(entry, where, "iscrowd", (v) => v === 0 || v === 1 || typeof v === "boolean", "0 or 1", 0);
    image.boxes.push([x, y, x + w, y + h]);
    image.classes.push(k);
    image.names.push(categories[k].name);
    image.categoryIds.push(categoryId);
    image.iscrowd.push(crowd === 1 || crowd === true);
    image.annotationIds.push(isId(entry.id) ? (entry.id as number) : i);
  });
  return { images, categories, classNames: categories.map((c) => c.name) };
}

function parseJson(unit: string, text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    // V8 says "… in JSON at position 10" (Node 20) and may add "(line 2 column 1)" (Node 22).
    const position = /at position (\d+)/.exec(message);
    let where = "";
    if (position) {
      const at = Number(position[1]);
      const before = text.slice(0, at);
      const line = before.split("\n").length;
      where = ` at line ${line}, column ${at - before.lastIndexOf("\n")}`;
    } else if (/end of JSON input/.test(message)) {
      where = ` at the end (line ${text.split("\n").length})`;
    }
    const reason = message.replace(/ in JSON at position \d+.*$/, "").replace(/\s*\(line \d+ column \d+\)/, "");
    throw fail(`${unit}: invalid JSON${where} of ${source}. Expected a COCO file (an object with images, annotations and categories). Received: ${reason}.`);
  }
}

function kind(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return show(value);
}

// ---------------------------------------------------------------------------------------------
// YOLO txt
// ---------------------------------------------------------------------------------------------

/** Options of {@link readYoloTxt}. */
export interface ReadYoloTxtArgs {
  /** The image's `[height, width]` in pixels, which YOLO's relative coordinates are scaled by. Required. */
  imageSize: readonly [number, number];
  /** The class names (`data.yaml`'s `names`): ids are checked against them and named (`names`). Default: ids unchecked, `names` undefined. */
  classNames?: readonly string[];
}

/** What {@link readYoloTxt} returns. */
export interface YoloAnnotation {
  /** Per line, pixel `[x1, y1, x2, y2]`. */
  boxes: number[][];
  /** Per line, its class id. */
  classes: number[];
  /** With `classNames`: per line, its class's name; otherwise `undefined`. */
  names: string[] | undefined;
}

/**
 * Reads a YOLO label file (`labels/img1.txt`: one line `class cx cy w h` per object, as Ultralytics
 * and Darknet write them, blank lines ignored) for an image of `imageSize`.
 *
 * YOLO's values are relative to the image: the box's centre and size divided by the image's width
 * (cx, w) and height (cy, h), each in [0, 1]. With the image `W` wide and `H` high, the box is
 * `[(cx − w/2)·W, (cy − h/2)·H, (cx + w/2)·W, (cy + h/2)·H]`, pixel column `i` spanning [i, i + 1)
 * (not rounded; a box reaching past the image by rounding is not clipped).
 *
 * @param pathOrText The file's path, or its text: a string that is empty, has a line break, or
 *   is nothing but numbers (`"0 0.5 0.5 0.2 0.3"`) is taken as text.
 * @param options `imageSize: [height, width]` (required), `classNames` (default: ids unchecked).
 * @returns `{ boxes, classes, names }`, one entry per line.
 * @throws ConvlabError (one line, naming the file and line) for a file that cannot be read, a line
 *   that is not five numbers, a class id that is not an integer >= 0 or (with `classNames`) not below
 *   their count, a value outside [0, 1], and a negative `w` (x2 < x1) or `h` (y2 < y1).
 *
 * @example
 * ```ts
 * const { boxes, classes, names } = readYoloTxt("labels/img1.txt", { imageSize: [480, 640], classNames: ["cat", "dog"] });
 * // "1 0.5 0.5 0.25 0.5" gives boxes [[240, 120, 400, 360]], classes [1], names ["dog"]
 * ```
 *
 * Keras counterpart: no reader; the conversion is Keras 3's
 * `keras.utils.bounding_boxes.convert_format(boxes, source="rel_center_xywh", target="xyxy", height=H, width=W)`.
 */
export function readYoloTxt(pathOrText: string, options: ReadYoloTxtArgs): YoloAnnotation {
  const unit = "readYoloTxt";
  if (options === undefined) {
    throw fail(`${unit}: invalid options. Expected an object with the image's size, such as { imageSize: [480, 640] }. Received: options=undefined.`);
  }
  expectOptions(unit, options, ["imageSize", "classNames"], "{ imageSize: [480, 640] }");
  const [height, width] = expectTargetSize(unit, options.imageSize, "imageSize");
  const classNames = options.classNames === undefined ? undefined : checkClassNames(unit, options.classNames);
  const isText = (s: string): boolean => s.trim() === "" || /[\r\n]/.test(s) || s.trim().split(/\s+/).every((t) => t !== "" && Number.isFinite(Number(t)));
  const { text, source } = readSource(unit, pathOrText, isText, "a YOLO label file");
  const boxes: number[][] = [];
  const classes: number[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n|\r/)
    .forEach((raw, index) => {
      const line = raw.trim();
      if (line === "") return;
      const where = `line ${index + 1} of ${source}`;
      const tokens = line.split(/\s+/);
      const values = tokens.map(Number);
      if (tokens.length !== 5 || !values.every(Number.isFinite)) {
        throw fail(`${unit}: invalid ${where}. Expected 5 numbers: class cx cy w h. Received: ${show(line)}.`);
      }
      const [id, cx, cy, w, h] = values;
      if (!Number.isInteger(id) || id < 0) {
        throw fail(`${unit}: invalid class id on ${where}. Expected an integer >= 0. Received: class=${tokens[0]}.`);
      }
      if (classNames && id >= classNames.length) {
        throw fail(`${unit}: invalid class id on ${where}. Expected an integer in [0, ${classNames.length - 1}] (${classNames.length} classNames). Received: class=${id}.`);
      }
      if (w < 0 || h < 0) {
        const [name, axis] = w < 0 ? ["w", "x"] : ["h", "y"];
        throw fail(`${unit}: invalid box on ${where}: ${name} < 0 gives ${axis}2 < ${axis}1. Expected w >= 0 and h >= 0. Received: ${name}=${tokens[w < 0 ? 3 : 4]}.`);
      }
      const outside = (["cx", "cy", "w", "h"] as const).findIndex((_, k) => values[k + 1] < 0 || values[k + 1] > 1);
      if (outside >= 0) {
        const name = ["cx", "cy", "w", "h"][outside];
        throw fail(`${unit}: invalid ${name} on ${where}. Expected cx, cy, w and h relative to the image, in [0, 1] (pixel values are not YOLO's format). Received: ${name}=${tokens[outside + 1]}.`);
      }
      boxes.push([(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height]);
      classes.push(id);
    });
  return { boxes, classes, names: classNames ? classes.map((id) => classNames[id]) : undefined };
}

// ---------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------

/** The text to parse and the name errors give it: the path as given, or `<text>`. */
function readSource(unit: string, pathOrText: string, isText: (s: string) => boolean, what: string): { text: string; source: string } {
  if (typeof pathOrText !== "string") {
    throw fail(`${unit}: invalid pathOrText. Expected the path of ${what} or its text. Received: ${show(pathOrText)}.`);
  }
  if (isText(pathOrText)) return { text: pathOrText, source: "<text>" };
  try {
    return { text: fs.readFileSync(pathOrText, "utf8"), source: pathOrText };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw fail(`${unit}: file not found: ${show(pathOrText)} (looked in ${show(path.resolve(pathOrText))}). Expected ${what}; paths are relative to the working folder ${show(process.cwd())}.`);
    }
    throw fail(`${unit}: cannot read ${show(pathOrText)}. Expected ${what}. Received: ${code ?? (error as Error).message}.`);
  }
}

function checkClassNames(unit: string, value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((n) => typeof n === "string")) {
    throw fail(`${unit}: invalid classNames. Expected a non-empty array of strings, e.g. ["cat", "dog"]. Received: classNames=${show(value)}.`);
  }
  return value;
}

/** Up to 10 items joined, then "… (N in all)". */
function listed(items: string[]): string {
  return items.length <= 10 ? items.join(", ") : `${items.slice(0, 10).join(", ")}, … (${items.length} in all)`;
}
