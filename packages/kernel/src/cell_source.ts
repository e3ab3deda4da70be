/**
 * Line mapping between a cell's TypeScript and the JavaScript tslab emits.
 *
 * tslab transpiles twice (ESNext, then CommonJS) and emits no source map, so
 * a runtime error's line number points into generated code. Before
 * transpiling, a comment marker `/*@cl:N*\/` is put in front of every
 * statement (N = the statement's line in the cell). The emitter keeps a
 * statement's leading comments, so in the generated code the last marker at
 * or before an error's position names the cell line it came from. Markers
 * shift only columns, never lines, so type-check diagnostics are mapped back
 * by subtracting the markers inserted before them on their line.
 *
 * The same pass spells out shorthand properties, `{ a }` → `{ a: a }`: tslab
 * rewrites a name declared in an earlier cell into a reference to that cell,
 * but misses the shorthand form, so `fit(model, gen, { stepsPerEpoch })`
 * failed with "stepsPerEpoch is not defined". The added text shifts columns
 * exactly as the markers do.
 */
import * as ts from "@tslab/typescript-for-tslab";

const MARKER = /\/\*@cl:(\d+)\*\//g;

interface Insertion {
  /** Zero-based line. */
  line: number;
  /** Zero-based column in the original source. */
  column: number;
  text: string;
}

/** A cell's source with statement markers, and how to map positions back. */
export interface MarkedSource {
  /** The source to hand to the converter. */
  text: string;
  /**
   * The original zero-based column for a zero-based (line, column) of the
   * marked text.
   */
  originalColumn(line: number, column: number): number;
}

/** Puts a line marker in front of every statement of `source` and spells out shorthand properties. */
export function markStatements(source: string): MarkedSource {
  const file = ts.createSourceFile("cell.ts", source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const added = new Map<number, string>();
  const visit = (node: ts.Node): void => {
    const statements = (node as { statements?: ts.NodeArray<ts.Statement> }).statements;
    if (statements) {
      for (const statement of statements) {
        const pos = statement.getStart(file);
        added.set(pos, `/*@cl:${file.getLineAndCharacterOfPosition(pos).line + 1}*/`);
      }
    }
    if (ts.isShorthandPropertyAssignment(node)) added.set(node.name.getEnd(), `: ${node.name.text}`);
    ts.forEachChild(node, visit);
  };
  visit(file);
  const positions = [...added.keys()].sort((a, b) => a - b);
  const insertions: Insertion[] = positions.map((pos) => {
    const { line, character } = file.getLineAndCharacterOfPosition(pos);
    return { line, column: character, text: added.get(pos)! };
  });
  let text = "";
  let from = 0;
  for (const pos of positions) {
    text += source.slice(from, pos) + added.get(pos)!;
    from = pos;
  }
  text += source.slice(from);
  return {
    text,
    originalColumn(line, column) {
      let shift = 0;
      for (const insertion of insertions) {
        if (insertion.line !== line) continue;
        if (insertion.column + shift + insertion.text.length <= column) shift += insertion.text.length;
      }
      return column - shift;
    },
  };
}

/**
 * Maps a one-based (line, column) of generated JavaScript to the one-based
 * cell line of the statement it belongs to, or undefined before any marker.
 */
export function cellLineOf(generated: string, line: number, column: number): number | undefined {
  const lines = generated.split("\n");
  for (let l = Math.min(line, lines.length) - 1; l >= 0; l--) {
    let found: number | undefined;
    for (const match of lines[l].matchAll(MARKER)) {
      if (l === line - 1 && match.index! >= column - 1) break;
      found = Number(match[1]);
    }
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * True when the generated JavaScript of a cell awaits at its top level (an `await` or a
 * `for await` outside any function or class), so it must run inside an async wrapper.
 *
 * tslab's own flag comes from TypeScript's "await is only allowed in async functions" diagnostic
 * and misses nested awaits: `const v = await (await it.iterator()).next();` was run in a plain
 * function, a SyntaxError ("missing ) after argument list"). The generated code is the truth.
 */
export function hasTopLevelAwait(generated: string): boolean {
  const file = ts.createSourceFile("cell.js", generated, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const visit = (node: ts.Node): boolean => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return false;
    if (ts.isAwaitExpression(node)) return true;
    if (ts.isForOfStatement(node) && node.awaitModifier) return true;
    return ts.forEachChild(node, visit) ?? false;
  };
  return visit(file);
}
