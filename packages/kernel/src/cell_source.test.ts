import { cellLineOf, hasTopLevelAwait, markStatements } from "./cell_source";

describe("markStatements", () => {
  it("spells out shorthand properties (tslab misses names of earlier cells in them), keeping columns mappable", () => {
    const marked = markStatements("f({ a, b: 2 }, { ...c, d });");
    expect(marked.text).toBe("/*@cl:1*/f({ a: a, b: 2 }, { ...c, d: d });");
    // The `b` of the original sits at column 7; in the marked text after the marker and ": a".
    const bAt = marked.text.indexOf("b:");
    expect(marked.originalColumn(0, bAt)).toBe(7);
    // Destructuring is left alone: `const { a } = o` declares, it does not read an earlier `a`.
    expect(markStatements("const { a } = o;").text).toBe("/*@cl:1*/const { a } = o;");
  });

  it("puts a line marker before every statement, nested ones too, and leaves strings alone", () => {
    const src = 'const a = 1;\nfunction f() {\n  return `x\n${a}`;\n}';
    expect(markStatements(src).text).toBe('/*@cl:1*/const a = 1;\n/*@cl:2*/function f() {\n  /*@cl:3*/return `x\n${a}`;\n}');
  });

  it("maps columns of the marked text back to the original", () => {
    const marked = markStatements("let x = 1; let y: string = 2;");
    // "/*@cl:1*/let x = 1; /*@cl:1*/let y: string = 2;" -> `y` is at column 33 marked, 15 original
    expect(marked.text.indexOf("y:")).toBe(33);
    expect(marked.originalColumn(0, 33)).toBe(15);
    expect(marked.originalColumn(0, 9)).toBe(0);
  });
});

describe("cellLineOf", () => {
  const generated = "/*@cl:1*/const a = 1;\nfoo(/*@cl:3*/bar());\nbaz();";
  it("names the last marker at or before a position", () => {
    expect(cellLineOf(generated, 1, 12)).toBe(1);
    expect(cellLineOf(generated, 2, 1)).toBe(1);
    expect(cellLineOf(generated, 2, 14)).toBe(3);
    expect(cellLineOf(generated, 3, 1)).toBe(3);
  });
  it("is undefined before any marker", () => {
    expect(cellLineOf("x();\n/*@cl:2*/y();", 1, 1)).toBeUndefined();
  });
});

describe("hasTopLevelAwait", () => {
  it("finds awaits outside functions, nested ones included, and ignores those inside functions and classes", () => {
    expect(hasTopLevelAwait("const v = await f();")).toBe(true);
    expect(hasTopLevelAwait("const v = await (await it.iterator()).next();")).toBe(true);
    expect(hasTopLevelAwait("for await (const x of xs) {}")).toBe(true);
    expect(hasTopLevelAwait("if (a) { exports.v = g(await h()); }")).toBe(true);
    expect(hasTopLevelAwait("async function f() { await g(); }\nconst h = async () => await g();")).toBe(false);
    expect(hasTopLevelAwait("class A { async m() { await g(); } }")).toBe(false);
    expect(hasTopLevelAwait("const await_ = 1; exports.x = 'await';")).toBe(false);
  });
});
