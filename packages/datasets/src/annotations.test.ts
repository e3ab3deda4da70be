/** Annotation readers: VOC XML, COCO JSON and YOLO txt, from files the tests write; every error by its text. */
import * as fs from "fs";
import * as path from "path";
import { readCocoJson, readVocXml, readYoloTxt, VOC_CLASS_NAMES } from "./annotations";
import { removeDirs, tempDir } from "./testing/fixtures";

let dir: string;
beforeAll(() => {
  dir = tempDir("convlab-annotations-");
});
afterAll(removeDirs);

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

const VOC = `<?xml version="1.0" encoding="utf-8"?>
<!-- written by hand, like LabelImg -->
<annotation verified="yes">
  <folder>VOC2007</folder>
  <filename>000001 &amp; co.jpg</filename>
  <source><database>The VOC2007 Database</database></source>
  <size>
    <width>353</width>
    <height>500</height>
    <depth>3</depth>
  </size>
  <segmented>0</segmented>
  <object>
    <name>dog</name>
    <pose>Left</pose>
    <truncated>1</truncated>
    <difficult>0</difficult>
    <bndbox>
      <xmin>48</xmin>
      <ymin>240</ymin>
      <xmax>195</xmax>
      <ymax>371</ymax>
    </bndbox>
  </object>
  <object>
    <name><![CDATA[person]]></name>
    <bndbox><xmin>8</xmin><ymin>12</ymin><xmax>8</xmax><ymax>498</ymax></bndbox>
    <part><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>
    <difficult>1</difficult>
  </object>
</annotation>
`;

describe("readVocXml", () => {
  test("reads a VOC file: 1-based inclusive boxes become [xmin - 1, ymin - 1, xmax, ymax]", () => {
    const file = write("Annotations/000001.xml", VOC);
    const a = readVocXml(file);
    expect(a).toEqual({
      filename: "000001 & co.jpg",
      size: { width: 353, height: 500, depth: 3 },
      objects: [
        { name: "dog", box: [47, 239, 195, 371], difficult: false, truncated: true },
        { name: "person", box: [7, 11, 8, 498], difficult: true, truncated: false },
      ],
      boxes: [
        [47, 239, 195, 371],
        [7, 11, 8, 498],
      ],
      names: ["dog", "person"],
      classes: undefined,
    });
    // A one-pixel-wide box (xmin = xmax = 8) is one pixel wide: x2 - x1 = 1.
    expect(a.boxes[1][2] - a.boxes[1][0]).toBe(1);
    expect(readVocXml(VOC)).toEqual(a);
    expect(readVocXml(VOC, { classNames: VOC_CLASS_NAMES }).classes).toEqual([11, 14]);
  });

  test("tolerant: self-closing elements, attributes with > in quotes, entities, DOCTYPE, BOM, CRLF, no depth", () => {
    const text =
      '\uFEFF<!DOCTYPE annotation [ <!ENTITY x "y"> ]>\r\n<annotation a=\'1>2\'><filename>a&#x41;&#66;&lt;&unknown;.png</filename><empty/>\r\n' +
      '<size><width>10</width><height>20</height></size><object><name> cat </name><bndbox><xmin>1.5</xmin><ymin>1</ymin><xmax>10</xmax><ymax>20</ymax></bndbox></object></annotation>\r\n';
    expect(readVocXml(text)).toEqual({
      filename: "aAB<&unknown;.png",
      size: { width: 10, height: 20, depth: 3 },
      objects: [{ name: "cat", box: [0.5, 0, 10, 20], difficult: false, truncated: false }],
      boxes: [[0.5, 0, 10, 20]],
      names: ["cat"],
      classes: undefined,
    });
    const none = readVocXml("<annotation><filename>x.jpg</filename><size><width>1</width><height>1</height><depth>1</depth></size></annotation>");
    expect([none.objects, none.boxes, none.names]).toEqual([[], [], []]);
  });

  test("XML that does not parse: the line and what was expected", () => {
    const lines = VOC.split("\n");
    expect(lines[22]).toBe("    </bndbox>");
    const mismatched = [...lines.slice(0, 22), "    </object>", ...lines.slice(23)].join("\n"); // line 23 closes <bndbox>
    const file = write("Annotations/bad.xml", mismatched);
    expect(() => readVocXml(file)).toThrow(`readVocXml: invalid XML at line 23 of ${file}. Expected </bndbox> (to close <bndbox> of line 18). Received: </object>.`);
    expect(() => readVocXml("<annotation>\n<filename>x</filename>\n")).toThrow(
      "readVocXml: invalid XML in <text>: <annotation> of line 1 is never closed. Expected </annotation> before the end of the file.",
    );
    expect(() => readVocXml("<annotation>\n<!-- never closed\n</annotation>")).toThrow(
      'readVocXml: invalid XML at line 2 of <text>. Expected the end of the comment, --> before the end of the file. Received: "<!-- never closed\\n</".',
    );
    expect(() => readVocXml("<annotation></annotation>\n<annotation></annotation>")).toThrow(
      "readVocXml: invalid XML at line 2 of <text>. Expected nothing after the root element. Received: <annotation>.",
    );
    expect(() => readVocXml("<annotation>\n<size width=\"3\"</annotation>")).toThrow(
      'readVocXml: invalid XML at line 2 of <text>. Expected the end of the tag, >. Received: "<size width=\\"3\\"</ann".',
    );
    expect(() => readVocXml("<annotation>\n</size>")).toThrow("readVocXml: invalid XML at line 2 of <text>. Expected </annotation> (to close <annotation> of line 1). Received: </size>.");
    expect(() => readVocXml("<annotation><3>x</3></annotation>")).toThrow('readVocXml: invalid XML at line 1 of <text>. Expected an element name after <. Received: "<3>".');
    expect(() => readVocXml("<annotation>< 3</annotation>")).toThrow('readVocXml: invalid XML at line 1 of <text>. Expected the end of the tag, >. Received: "< 3</annotation>".');
    expect(() => readVocXml("<!-- only a comment -->")).toThrow("readVocXml: invalid XML in <text>. Expected a root element such as <annotation>. Received: no element.");
  });

  test("VOC content errors: root, missing elements, numbers, flags, reversed boxes, unknown class names", () => {
    const voc = (object: string, size = "<size><width>5</width><height>5</height></size>") => `<annotation>\n<filename>a.jpg</filename>\n${size}\n<object>\n${object}\n</object>\n</annotation>`;
    const box = "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>3</ymax></bndbox>";
    expect(() => readVocXml("<root/>")).toThrow("readVocXml: invalid annotation at line 1 of <text>. Expected a Pascal VOC <annotation> root element. Received: <root>.");
    expect(() => readVocXml("<annotation>\n<size/></annotation>")).toThrow(
      "readVocXml: missing <filename> in <annotation> at line 1 of <text>. Expected <annotation> to hold a <filename> element.",
    );
    expect(() => readVocXml(voc(`<name>dog</name>${box}`, "<size>\n<width>5</width></size>"))).toThrow(
      "readVocXml: missing <height> in <size> at line 3 of <text>. Expected <size> to hold a <height> element.",
    );
    expect(() => readVocXml(voc(box))).toThrow("readVocXml: missing <name> in object 1 at line 4 of <text>. Expected <object> to hold a <name> element.");
    expect(() => readVocXml(voc("<name>dog</name>"))).toThrow('readVocXml: missing <bndbox> in object 1 ("dog") at line 4 of <text>. Expected <object> to hold a <bndbox> element.');
    expect(() => readVocXml(voc("<name>dog</name>\n<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax></bndbox>"))).toThrow(
      'readVocXml: missing <ymax> in object 1 ("dog") at line 6 of <text>. Expected <bndbox> to hold a <ymax> element.',
    );
    expect(() => readVocXml(voc("<name>dog</name>\n<bndbox><xmin>1</xmin><ymin>one</ymin><xmax>3</xmax><ymax>3</ymax></bndbox>"))).toThrow(
      'readVocXml: invalid <ymin> of object 1 ("dog") at line 6 of <text>. Expected a number. Received: "one".',
    );
    expect(() => readVocXml(voc(`<name>dog</name>${box}\n<difficult>yes</difficult>`))).toThrow(
      'readVocXml: invalid <difficult> of object 1 at line 6 of <text>. Expected 0 or 1. Received: "yes".',
    );
    expect(() => readVocXml(voc("<name>dog</name>\n<bndbox><xmin>30</xmin><ymin>1</ymin><xmax>20</xmax><ymax>3</ymax></bndbox>"))).toThrow(
      'readVocXml: invalid box of object 1 ("dog") at line 6 of <text>: xmax < xmin gives x2 < x1. Expected xmin <= xmax (1-based, inclusive). Received: xmin=30, xmax=20.',
    );
    expect(() => readVocXml(voc("<name>dog</name>\n<bndbox><xmin>1</xmin><ymin>9</ymin><xmax>2</xmax><ymax>3</ymax></bndbox>"))).toThrow(
      'readVocXml: invalid box of object 1 ("dog") at line 6 of <text>: ymax < ymin gives y2 < y1. Expected ymin <= ymax (1-based, inclusive). Received: ymin=9, ymax=3.',
    );
    expect(() => readVocXml(voc(`<name>dgo</name>${box}`), { classNames: ["cat", "dog"] })).toThrow(
      'readVocXml: unknown class name of object 1 at line 4 of <text>. Expected one of classNames ("cat", "dog"). Received: name="dgo". Did you mean `dog`?',
    );
    expect(() => readVocXml(voc(`<name>zebra</name>${box}`), { classNames: VOC_CLASS_NAMES })).toThrow(
      'readVocXml: unknown class name of object 1 at line 4 of <text>. Expected one of classNames ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", … (20 in all)). Received: name="zebra".',
    );
  });

  test("arguments and files", () => {
    expect(() => readVocXml(path.join(dir, "missing.xml"))).toThrow(
      `readVocXml: file not found: ${JSON.stringify(path.join(dir, "missing.xml"))} (looked in ${JSON.stringify(path.join(dir, "missing.xml"))}). Expected a Pascal VOC XML file; paths are relative to the working folder ${JSON.stringify(process.cwd())}.`,
    );
    expect(() => readVocXml(dir)).toThrow(`readVocXml: cannot read ${JSON.stringify(dir)}. Expected a Pascal VOC XML file. Received: EISDIR.`);
    expect(() => readVocXml(5 as never)).toThrow("readVocXml: invalid pathOrText. Expected the path of a Pascal VOC XML file or its text. Received: 5.");
    expect(() => readVocXml(VOC, { classNames: [] })).toThrow('readVocXml: invalid classNames. Expected a non-empty array of strings, e.g. ["cat", "dog"]. Received: classNames=[].');
    expect(() => readVocXml(VOC, { classes: ["dog"] } as never)).toThrow("readVocXml: unknown option `classes`. Expected one of `classNames`.");
  });
});

const COCO = {
  info: { description: "tiny" },
  images: [
    { id: 42, file_name: "a.jpg", width: 640, height: 480 },
    { id: 7, file_name: "b.jpg", width: 100, height: 50 },
    { id: 9, file_name: "empty.jpg", width: 10, height: 10 },
  ],
  annotations: [
    { id: 1, image_id: 42, category_id: 18, bbox: [10.5, 20, 100, 50.25], area: 5025, iscrowd: 0, segmentation: [[0, 0, 1, 1]] },
    { id: 2, image_id: 7, category_id: 1, bbox: [0, 0, 100, 50], iscrowd: 1 },
    { id: 3, image_id: 42, category_id: 3, bbox: [5, 6, 0, 0] },
  ],
  categories: [
    { id: 18, name: "dog", supercategory: "animal" },
    { id: 1, name: "person", supercategory: "person" },
    { id: 3, name: "car" },
  ],
};

describe("readCocoJson", () => {
  test("reads a COCO file: bbox [x, y, w, h] becomes [x, y, x + w, y + h]; categories sorted by id give the classes", () => {
    const file = write("instances.json", JSON.stringify(COCO, null, 2));
    const coco = readCocoJson(file);
    expect(coco).toEqual({
      images: [
        {
          id: 42,
          fileName: "a.jpg",
          width: 640,
          height: 480,
          boxes: [
            [10.5, 20, 110.5, 70.25],
            [5, 6, 5, 6],
          ],
          classes: [2, 1],
          names: ["dog", "car"],
          categoryIds: [18, 3],
          iscrowd: [false, false],
          annotationIds: [1, 3],
        },
        { id: 7, fileName: "b.jpg", width: 100, height: 50, boxes: [[0, 0, 100, 50]], classes: [0], names: ["person"], categoryIds: [1], iscrowd: [true], annotationIds: [2] },
        { id: 9, fileName: "empty.jpg", width: 10, height: 10, boxes: [], classes: [], names: [], categoryIds: [], iscrowd: [], annotationIds: [] },
      ],
      categories: [
        { id: 1, name: "person", supercategory: "person" },
        { id: 3, name: "car" },
        { id: 18, name: "dog", supercategory: "animal" },
      ],
      classNames: ["person", "car", "dog"],
    });
    expect(readCocoJson(JSON.stringify(COCO))).toEqual(coco);
    expect(readCocoJson(COCO)).toEqual(coco);
    // A test-set file: images only.
    expect(readCocoJson({ images: [{ id: 1, file_name: "t.jpg", width: 1, height: 1 }] }).classNames).toEqual([]);
  });

  test("JSON that does not parse: line and column", () => {
    const file = write("broken.json", '{\n  "images": [\n    {"id": 1,}\n  ]\n}\n');
    expect(() => readCocoJson(file)).toThrow(
      `readCocoJson: invalid JSON at line 3, column 14 of ${file}. Expected a COCO file (an object with images, annotations and categories). Received: Expected double-quoted property name.`,
    );
    const cut = write("cut.json", '{\n  "images": [');
    expect(() => readCocoJson(cut)).toThrow(/^readCocoJson: invalid JSON at (the end \(line 2\)|line 2, column 14) of .*cut\.json\. Expected a COCO file \(an object with images, annotations and categories\)\. Received: /);
  });

  test("COCO content errors name the entry", () => {
    const with_ = (patch: Record<string, unknown>) => ({ ...COCO, ...patch });
    const annotations = (a: Record<string, unknown>) => with_({ annotations: [COCO.annotations[0], { id: 7, image_id: 42, category_id: 1, bbox: [0, 0, 1, 1], ...a }] });
    const at = "annotations[1] (id 7) in the object given";
    expect(() => readCocoJson([] as never)).toThrow("readCocoJson: invalid the object given. Expected a COCO file: an object with images, annotations and categories. Received: an array of 0.");
    expect(() => readCocoJson({ annotations: [] })).toThrow(
      "readCocoJson: invalid images in the object given. Expected a COCO file: an object with images, annotations and categories (arrays). Received: images=undefined.",
    );
    expect(() => readCocoJson(with_({ annotations: {} }))).toThrow(
      "readCocoJson: invalid annotations in the object given. Expected a COCO file: an object with images, annotations and categories (arrays). Received: annotations=an object.",
    );
    expect(() => readCocoJson(with_({ images: [5] }))).toThrow("readCocoJson: invalid images[0] in the object given. Expected an object. Received: 5.");
    expect(() => readCocoJson(with_({ images: [{ id: 1, width: 1, height: 1 }] }))).toThrow(
      "readCocoJson: invalid file_name of images[0] (id 1) in the object given. Expected a string. Received: file_name=undefined.",
    );
    expect(() => readCocoJson(with_({ images: [{ id: "a", file_name: "x", width: 1, height: 1 }] }))).toThrow(
      'readCocoJson: invalid id of images[0] in the object given. Expected an integer id. Received: id="a".',
    );
    expect(() => readCocoJson(with_({ images: [{ id: 1, file_name: "x", width: -1, height: 1 }] }))).toThrow(
      "readCocoJson: invalid width of images[0] (id 1) in the object given. Expected a number >= 0. Received: width=-1.",
    );
    expect(() => readCocoJson(with_({ images: [COCO.images[0], { ...COCO.images[1], id: 42 }] }))).toThrow(
      'readCocoJson: duplicate image id 42 in the object given (images[1] (id 42)). Expected distinct ids. Received: "b.jpg" and "a.jpg".',
    );
    expect(() => readCocoJson(with_({ categories: [...COCO.categories, { id: 3, name: "truck" }] }))).toThrow(
      'readCocoJson: duplicate category id 3 in the object given. Expected distinct ids. Received: "truck" and "car".',
    );
    expect(() => readCocoJson(annotations({ image_id: 99 }))).toThrow(`readCocoJson: invalid image_id of ${at}. Expected the id of an entry of images. Received: image_id=99.`);
    expect(() => readCocoJson(annotations({ category_id: 2 }))).toThrow(`readCocoJson: invalid category_id of ${at}. Expected the id of an entry of categories (1, 3, 18). Received: category_id=2.`);
    expect(() => readCocoJson(with_({ categories: [], annotations: [COCO.annotations[1]] }))).toThrow(
      "readCocoJson: invalid category_id of annotations[0] (id 2) in the object given. Expected the id of an entry of categories (none listed). Received: category_id=1.",
    );
    expect(() => readCocoJson(annotations({ bbox: [1, 2, 3] }))).toThrow(`readCocoJson: invalid bbox of ${at}. Expected [x, y, width, height], four numbers. Received: bbox=[1,2,3].`);
    expect(() => readCocoJson(annotations({ bbox: [10, 2, -3, 4] }))).toThrow(
      `readCocoJson: invalid bbox of ${at}: width < 0 gives x2 < x1. Expected [x, y, width, height] with width >= 0 and height >= 0. Received: bbox=[10,2,-3,4].`,
    );
    expect(() => readCocoJson(annotations({ bbox: [10, 2, 3, -4] }))).toThrow(
      `readCocoJson: invalid bbox of ${at}: height < 0 gives y2 < y1. Expected [x, y, width, height] with width >= 0 and height >= 0. Received: bbox=[10,2,3,-4].`,
    );
    expect(() => readCocoJson(annotations({ iscrowd: 2 }))).toThrow(`readCocoJson: invalid iscrowd of ${at}. Expected 0 or 1. Received: iscrowd=2.`);
    expect(() => readCocoJson(path.join(dir, "nope.json"))).toThrow(
      `readCocoJson: file not found: ${JSON.stringify(path.join(dir, "nope.json"))} (looked in ${JSON.stringify(path.join(dir, "nope.json"))}). Expected a COCO JSON file; paths are relative to the working folder ${JSON.stringify(process.cwd())}.`,
    );
  });
});

describe("readYoloTxt", () => {
  test("reads a label file: relative centre and size become pixel corners", () => {
    const file = write("labels/img1.txt", "1 0.5 0.5 0.25 0.5\r\n\r\n0 0.125 0.25 0.25 0.5\n2 1 1 0 0\n");
    const a = readYoloTxt(file, { imageSize: [480, 640], classNames: ["cat", "dog", "bird"] });
    expect(a).toEqual({
      boxes: [
        [240, 120, 400, 360],
        [0, 0, 160, 240],
        [640, 480, 640, 480],
      ],
      classes: [1, 0, 2],
      names: ["dog", "cat", "bird"],
    });
    expect(readYoloTxt(file, { imageSize: [480, 640] })).toEqual({ boxes: a.boxes, classes: [1, 0, 2], names: undefined });
    // Text: a line of numbers, text with line breaks, or nothing.
    expect(readYoloTxt("1 0.5 0.5 0.25 0.5", { imageSize: [480, 640] }).boxes).toEqual([[240, 120, 400, 360]]);
    expect(readYoloTxt("3 0.5 0.5 1 1\n", { imageSize: [4, 8] })).toEqual({ boxes: [[0, 0, 8, 4]], classes: [3], names: undefined });
    expect(readYoloTxt("", { imageSize: [4, 8] })).toEqual({ boxes: [], classes: [], names: undefined });
    expect(readYoloTxt(write("labels/empty.txt", ""), { imageSize: [4, 8] }).boxes).toEqual([]);
  });

  test("lines that do not parse name the file and line", () => {
    write("labels/img1.txt", "0 0.5 0.5 0.2 0.2\n\n0 0.5 0.5\n");
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(() => readYoloTxt("labels/img1.txt", { imageSize: [100, 100] })).toThrow(
        'readYoloTxt: invalid line 3 of labels/img1.txt. Expected 5 numbers: class cx cy w h. Received: "0 0.5 0.5".',
      );
    } finally {
      process.chdir(cwd);
    }
    const size = { imageSize: [100, 100] as [number, number] };
    expect(() => readYoloTxt("0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2 0.9", size)).toThrow(
      'readYoloTxt: invalid line 2 of <text>. Expected 5 numbers: class cx cy w h. Received: "0 0.5 0.5 0.2 0.2 0.9".',
    );
    expect(() => readYoloTxt("dog 0.5 0.5 0.2 0.2\n", size)).toThrow('readYoloTxt: invalid line 1 of <text>. Expected 5 numbers: class cx cy w h. Received: "dog 0.5 0.5 0.2 0.2".');
    expect(() => readYoloTxt("1.5 0.5 0.5 0.2 0.2\n", size)).toThrow("readYoloTxt: invalid class id on line 1 of <text>. Expected an integer >= 0. Received: class=1.5.");
    expect(() => readYoloTxt("-1 0.5 0.5 0.2 0.2\n", size)).toThrow("readYoloTxt: invalid class id on line 1 of <text>. Expected an integer >= 0. Received: class=-1.");
    expect(() => readYoloTxt("0 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.2 0.2\n", { ...size, classNames: ["a", "b", "c"] })).toThrow(
      "readYoloTxt: invalid class id on line 2 of <text>. Expected an integer in [0, 2] (3 classNames). Received: class=3.",
    );
    expect(() => readYoloTxt("0 0.5 0.5 -0.2 0.2\n", size)).toThrow("readYoloTxt: invalid box on line 1 of <text>: w < 0 gives x2 < x1. Expected w >= 0 and h >= 0. Received: w=-0.2.");
    expect(() => readYoloTxt("0 0.5 0.5 0.2 -0.1\n", size)).toThrow("readYoloTxt: invalid box on line 1 of <text>: h < 0 gives y2 < y1. Expected w >= 0 and h >= 0. Received: h=-0.1.");
    expect(() => readYoloTxt("0 320 240 64 48\n", size)).toThrow(
      "readYoloTxt: invalid cx on line 1 of <text>. Expected cx, cy, w and h relative to the image, in [0, 1] (pixel values are not YOLO's format). Received: cx=320.",
    );
  });

  test("arguments and files", () => {
    expect(() => readYoloTxt("0 0.5 0.5 0.2 0.2", undefined as never)).toThrow(
      "readYoloTxt: invalid options. Expected an object with the image's size, such as { imageSize: [480, 640] }. Received: options=undefined.",
    );
    expect(() => readYoloTxt("0 0.5 0.5 0.2 0.2", {} as never)).toThrow("readYoloTxt: invalid imageSize. Expected [height, width], two positive integers. Received: imageSize=undefined.");
    expect(() => readYoloTxt("0 0.5 0.5 0.2 0.2", { imageSize: [10, 10], classNames: "cat" as never })).toThrow(
      'readYoloTxt: invalid classNames. Expected a non-empty array of strings, e.g. ["cat", "dog"]. Received: classNames="cat".',
    );
    expect(() => readYoloTxt("0 0.5 0.5 0.2 0.2", { imageSize: [10, 10], imgsz: 640 } as never)).toThrow(
      "readYoloTxt: unknown option `imgsz`. Expected one of `imageSize`, `classNames`.",
    );
    const missing = path.join(dir, "labels", "nope.txt");
    expect(() => readYoloTxt(missing, { imageSize: [10, 10] })).toThrow(
      `readYoloTxt: file not found: ${JSON.stringify(missing)} (looked in ${JSON.stringify(missing)}). Expected a YOLO label file; paths are relative to the working folder ${JSON.stringify(process.cwd())}.`,
    );
  });
});
