/**
 * `convlab run`: argument parsing (pure), then whole runs through the real
 * kernel spawned from dist/cli.js (build it first: `npm run build -w @convlab/kernel`).
 */
import type { ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultCliPath } from "./client";
import { outputPathFor, parseRunArgs, runMain, runNotebook, tracebackLine } from "./runner";
import {
  EXIT_CELLS,
  FAILING_CELLS,
  OK_CELLS,
  alive,
  childPids,
  nbformatCheck,
  readJson,
  runCli,
  streamText,
  waitFor,
  writeFixture,
} from "./testing/notebook_fixtures";

const CLI = defaultCliPath();

describe("parseRunArgs", () => {
  it("reads notebooks, --out, repeated --param and --timeout in both spellings", () => {
    expect(parseRunArgs(["a.ipynb", "--out", "build", "--param", "epochs=1", "--param=lr=0.01", "b.ipynb", "--timeout=2.5"])).toEqual({
      notebooks: ["a.ipynb", "b.ipynb"],
      outDir: "build",
      params: { epochs: "1", lr: "0.01" },
      timeoutSeconds: 2.5,
      help: false,
    });
  });

  it("keeps an empty value, lets the last value of a key win, and takes paths after --", () => {
    expect(parseRunArgs(["--param", "name=", "--param", "epochs=1", "--param", "epochs=2", "--", "--odd.ipynb"])).toEqual({
      notebooks: ["--odd.ipynb"],
      params: { name: "", epochs: "2" },
      help: false,
    });
  });

  it("accepts --help without a notebook", () => {
    expect(parseRunArgs(["--help"]).help).toBe(true);
    expect(parseRunArgs(["-h"]).help).toBe(true);
  });

  const cases: Array<[string[], string]> = [
    [["a.ipynb", "--param", "epochs"], 'convlab run: invalid --param "epochs". Expected KEY=VALUE, e.g. --param EPOCHS=1.'],
    [["a.ipynb", "--param", "=1"], 'convlab run: invalid --param "=1". Expected KEY=VALUE, e.g. --param EPOCHS=1.'],
    [["a.ipynb", "--param"], "convlab run: --param needs a value. Expected --param KEY=VALUE, e.g. --param EPOCHS=1."],
    [["a.ipynb", "--outt", "x"], 'convlab run: unknown option "--outt". Did you mean --out? Expected --out DIR, --param KEY=VALUE or --timeout S.'],
    [["a.ipynb", "--params", "a=1"], 'convlab run: unknown option "--params". Did you mean --param? Expected --out DIR, --param KEY=VALUE or --timeout S.'],
    [["a.ipynb", "--timout=5"], 'convlab run: unknown option "--timout=5". Did you mean --timeout? Expected --out DIR, --param KEY=VALUE or --timeout S.'],
    [["a.ipynb", "--output", "x"], 'convlab run: unknown option "--output". Did you mean --out? Expected --out DIR, --param KEY=VALUE or --timeout S.'],
    [["a.ipynb", "--verbose"], 'convlab run: unknown option "--verbose". Expected --out DIR, --param KEY=VALUE or --timeout S.'],
    [["a.ipynb", "--timeout", "abc"], 'convlab run: invalid --timeout "abc". Expected a positive number of seconds, e.g. --timeout 600.'],
    [["a.ipynb", "--timeout", "-5"], 'convlab run: invalid --timeout "-5". Expected a positive number of seconds, e.g. --timeout 600.'],
    [["a.ipynb", "--timeout=0"], 'convlab run: invalid --timeout "0". Expected a positive number of seconds, e.g. --timeout 600.'],
    [["a.ipynb", "--timeout", "--out", "x"], "convlab run: --timeout needs a value. Expected --timeout S, e.g. --timeout 600."],
    [["a.ipynb", "--out"], "convlab run: --out needs a value. Expected --out DIR, e.g. --out build/notebooks."],
    [["--out", "x"], "convlab run: no notebook given. Expected one or more .ipynb paths, e.g. convlab run notebooks/01_intro.ipynb."],
    [[], "convlab run: no notebook given. Expected one or more .ipynb paths, e.g. convlab run notebooks/01_intro.ipynb."],
  ];
  it.each(cases)("rejects %j", (argv, message) => {
    expect(() => parseRunArgs(argv)).toThrow(message);
  });
});

describe("outputPathFor and tracebackLine", () => {
  it("writes next to the input as <name>.out.ipynb, or to DIR/<name>.ipynb", () => {
    expect(outputPathFor("notebooks/x.ipynb")).toBe(path.join("notebooks", "x.out.ipynb"));
    expect(outputPathFor("x.ipynb")).toBe("x.out.ipynb");
    expect(outputPathFor("notebooks/x.ipynb", "build")).toBe(path.join("build", "x.ipynb"));
  });

  it("takes the line of this cell's frame from the traceback, ignoring colour codes", () => {
    const traceback = [
      "RangeError: too big: 5",
      "    at Cell In[2], line 3 (in check)",
      "    at \u001b[36mCell In[5]\u001b[0m, line 7",
      "    at Cell In[5], line 9",
    ];
    expect(tracebackLine(traceback, 5)).toBe(7);
    expect(tracebackLine(traceback, 2)).toBe(3);
    expect(tracebackLine(traceback, 4)).toBeUndefined();
    expect(tracebackLine(traceback, null)).toBe(3);
    expect(tracebackLine(["TSError: error TS2322: x (Cell In[3], line 2, column 9)"], 3)).toBe(2);
    expect(tracebackLine(["Error: no cell frame"], 1)).toBeUndefined();
  });
});

/** Captures what runMain writes on stdout and stderr. */
async function captureMain(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = jest.spyOn(process.stdout, "write").mockImplementation((chunk: any) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, "write").mockImplementation((chunk: any) => ((stderr += String(chunk)), true));
  try {
    const code = await runMain(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe("runMain: bad input exits 2 before anything runs", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-runargs-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("names a missing notebook", async () => {
    const missing = path.join(dir, "notebooks", "x.ipynb");
    expect(await captureMain([missing])).toEqual({
      code: 2,
      stdout: "",
      stderr: `convlab run: ${missing} does not exist. Expected a path to a .ipynb notebook.\n`,
    });
  });

  it("names invalid JSON, and runs nothing when one of several notebooks is bad", async () => {
    const good = writeFixture(dir, "good.ipynb", OK_CELLS);
    const bad = path.join(dir, "bad.ipynb");
    fs.writeFileSync(bad, '{"nbformat": 4, "cells": [}');
    let reason = "";
    try {
      JSON.parse('{"nbformat": 4, "cells": [}');
    } catch (error) {
      reason = (error as Error).message;
    }
    expect(await captureMain([good, bad])).toEqual({
      code: 2,
      stdout: "",
      stderr: `convlab run: cannot read ${bad}: not valid JSON (${reason}). Expected a Jupyter notebook (.ipynb) file.\n`,
    });
    expect(fs.existsSync(path.join(dir, "good.out.ipynb"))).toBe(false);
  });

  it("names a bad --param", async () => {
    expect(await captureMain(["x.ipynb", "--param", "epochs"])).toEqual({
      code: 2,
      stdout: "",
      stderr: 'convlab run: invalid --param "epochs". Expected KEY=VALUE, e.g. --param EPOCHS=1.\n',
    });
  });

  it("refuses two notebooks that --out would write to the same file", async () => {
    fs.mkdirSync(path.join(dir, "a"));
    fs.mkdirSync(path.join(dir, "b"));
    const first = writeFixture(path.join(dir, "a"), "x.ipynb", OK_CELLS);
    const second = writeFixture(path.join(dir, "b"), "x.ipynb", OK_CELLS);
    const out = path.join(dir, "out");
    expect(await captureMain([first, second, "--out", out])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        `convlab run: ${first} and ${second} would both be written to ${path.join(out, "x.ipynb")}. ` +
        "Expected notebooks with distinct names; run them separately or without --out.\n",
    });
  });

  it("prints the usage for --help and exits 0", async () => {
    const { code, stdout } = await captureMain(["--help"]);
    expect(code).toBe(0);
    expect(stdout.split("\n")[0]).toBe("Usage: convlab run <notebook.ipynb...> [--out DIR] [--param KEY=VALUE ...] [--timeout S]");
  });
});

// ---------------------------------------------------------------------------
// Through the real kernel.

const children: ChildProcess[] = [];
const kernelPids: number[] = [];

const TIME = String.raw`\d+\.\d\d s`;

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const pid of kernelPids.splice(0)) {
    if (alive(pid)) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  }
});

describe("convlab run through the kernel", () => {
  let dir: string;
  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build -w @convlab/kernel\` first.`);
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-run-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("runs each notebook; a failing one stops at its cell with one line, the next still runs, exit 1", async () => {
    writeFixture(dir, "fail.ipynb", FAILING_CELLS);
    writeFixture(dir, "ok.ipynb", OK_CELLS);
    const run = await runCli(["fail.ipynb", "ok.ipynb", "--param", "epochs=3", "--out", "out"], dir, { children, env: { CONVLAB_EXPORTED: "from-shell" } });

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "convlab run: fail.ipynb failed at cell 3 (line 2: `const y = (undefined as any).field + 1;`): " +
        "TypeError: Cannot read properties of undefined (reading 'field'). Executed notebook written to out/fail.ipynb.\n",
    );
    const lines = run.stdout.trimEnd().split("\n");
    const expected = [
      "fail.ipynb: 4 code cells",
      `  \\[1/4\\] cell 1  ${TIME}  ok`,
      `  \\[2/4\\] cell 2  ${TIME}  ok`,
      `  \\[3/4\\] cell 3  ${TIME}  error`,
      "ok.ipynb: 4 code cells",
      `  \\[1/4\\] cell 1  ${TIME}  ok`,
      `  \\[2/4\\] cell 2  skipped \\(empty\\)`,
      `  \\[3/4\\] cell 3  ${TIME}  ok`,
      `  \\[4/4\\] cell 4  ${TIME}  ok`,
      `ok.ipynb: ok in ${TIME}. Executed notebook written to out/ok.ipynb.`,
    ];
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^${expected[i]}$`)));

    // The executed notebook: outputs, execution counts, kernel metadata, ids kept, stale outputs gone.
    const okFile = path.join(dir, "out", "ok.ipynb");
    const check = nbformatCheck(okFile);
    if (check !== "no-nbformat") expect(check).toBe("valid");
    const ok = readJson(okFile);
    expect(ok.nbformat).toBe(4);
    expect(ok.nbformat_minor).toBe(5);
    expect(ok.metadata.kernelspec).toEqual({ name: "convlab", display_name: "TypeScript (convlab)", language: "typescript" });
    expect(ok.metadata.language_info.name).toBe("typescript");
    expect(ok.metadata.custom).toEqual({ kept: true });
    expect(ok.cells.map((c: any) => c.id)).toEqual(["cell-1", "cell-2", "cell-3", "cell-4", "cell-5", "cell-6"]);
    expect(ok.cells.map((c: any) => c.execution_count)).toEqual([undefined, 1, null, 2, undefined, 3]);
    expect(ok.cells[0].outputs).toBeUndefined();
    expect(ok.cells[1].outputs).toEqual([{ output_type: "stream", name: "stdout", text: ["hello\n"] }]);
    expect(ok.cells[2].outputs).toEqual([]);
    expect(ok.cells[3].outputs).toEqual([{ output_type: "execute_result", execution_count: 2, data: { "text/plain": ["42"] }, metadata: {} }]);
    expect(ok.cells[5].outputs).toEqual([{ output_type: "stream", name: "stdout", text: ["epochs=3\n", "exported=from-shell\n"] }]);

    // The failed notebook: cells before and the failing cell have outputs, the rest none.
    const failFile = path.join(dir, "out", "fail.ipynb");
    const failCheck = nbformatCheck(failFile);
    if (failCheck !== "no-nbformat") expect(failCheck).toBe("valid");
    const failed = readJson(failFile);
    expect(failed.cells.map((c: any) => c.execution_count)).toEqual([undefined, 1, 2, 3, null]);
    expect(failed.cells[1].outputs).toEqual([{ output_type: "stream", name: "stdout", text: ["one\n"] }]);
    const failing = failed.cells[3].outputs;
    expect(failing[0]).toEqual({ output_type: "stream", name: "stdout", text: ["before\n"] });
    expect(failing[1]).toMatchObject({ output_type: "error", ename: "TypeError", evalue: "Cannot read properties of undefined (reading 'field')" });
    expect(failing).toHaveLength(2);
    expect(failed.cells[4].outputs).toEqual([]);
    expect(fs.readdirSync(path.join(dir, "out")).sort()).toEqual(["fail.ipynb", "ok.ipynb"]);
  });

  it("writes <name>.out.ipynb next to the input by default and exits 0; no kernel is left", async () => {
    const input = writeFixture(dir, "simple.ipynb", [["code", "console.log(1 + 1);"]], 4);
    const result = await runNotebook(input);
    if (result.kernelPid) kernelPids.push(result.kernelPid);
    expect(result.status).toBe("ok");
    expect(result.failure).toBeUndefined();
    expect(result.output).toBe(path.join(dir, "simple.out.ipynb"));
    expect(result.cells).toEqual([{ cell: 1, index: 0, status: "ok", seconds: expect.any(Number), executionCount: 1 }]);
    const written = readJson(result.output);
    expect(written.nbformat_minor).toBe(4);
    expect(written.cells[0]).toEqual({ cell_type: "code", metadata: {}, source: ["console.log(1 + 1);"], execution_count: 1, outputs: [{ output_type: "stream", name: "stdout", text: ["2\n"] }] });
    expect(result.kernelPid).toEqual(expect.any(Number));
    expect(alive(result.kernelPid)).toBe(false);
  });

  it("reports a cell that ends the kernel with process.exit(), keeping what ran", async () => {
    const input = writeFixture(dir, "exit.ipynb", EXIT_CELLS);
    const result = await runNotebook(input);
    if (result.kernelPid) kernelPids.push(result.kernelPid);
    const output = path.join(dir, "exit.out.ipynb");
    expect(result.status).toBe("failed");
    expect(result.failure).toEqual({
      kind: "died",
      cell: 2,
      message: `convlab run: ${input} failed at cell 2: the kernel died (exit code 0) while running it. Executed notebook written to ${output}.`,
    });
    const written = readJson(output);
    expect(written.cells[0].outputs).toEqual([{ output_type: "stream", name: "stdout", text: ["alive\n"] }]);
    // what the cell printed before process.exit() is delivered
    expect(written.cells[1].outputs[0]).toEqual({ output_type: "stream", name: "stdout", text: ["exiting\n"] });
    expect(written.cells[1].outputs).toContainEqual({
      output_type: "error",
      ename: "DeadKernelError",
      evalue: "the kernel died (exit code 0) while running this cell",
      traceback: [],
    });
    expect(written.cells[2].outputs).toEqual([]);
    expect(written.cells[2].execution_count).toBeNull();
    expect(alive(result.kernelPid)).toBe(false);
  });

  it("interrupts a cell that exceeds --timeout and stops the notebook", async () => {
    const input = writeFixture(dir, "slow.ipynb", [
      ["code", 'console.log("fast");'],
      ["code", 'console.log("spinning");\nwhile (true) {}'],
      ["code", 'console.log("never");'],
    ]);
    const started = Date.now();
    const result = await runNotebook(input, { timeoutSeconds: 1 });
    if (result.kernelPid) kernelPids.push(result.kernelPid);
    const output = path.join(dir, "slow.out.ipynb");
    expect(result.failure).toEqual({
      kind: "timeout",
      cell: 2,
      message: `convlab run: ${input} failed at cell 2: the cell exceeded 1 second (--timeout 1) and was interrupted. Executed notebook written to ${output}.`,
    });
    expect(result.cells.map((c) => c.status)).toEqual(["ok", "timeout"]);
    expect(result.cells[1].seconds).toBeGreaterThanOrEqual(1);
    expect(result.cells[1].seconds).toBeLessThan(4);
    const written = readJson(output);
    expect(written.cells[0].outputs).toEqual([{ output_type: "stream", name: "stdout", text: ["fast\n"] }]);
    const timedOut = written.cells[1].outputs;
    expect(timedOut[timedOut.length - 1]).toEqual({
      output_type: "error",
      ename: "CellTimeoutError",
      evalue: "convlab run: the cell exceeded 1 second (--timeout 1).",
      traceback: [],
    });
    expect(streamText(timedOut)).toBe("spinning\n");
    expect(written.cells[2].outputs).toEqual([]);
    expect(alive(result.kernelPid)).toBe(false);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("kills the kernel, and what it started, when a timed-out cell ignores the interrupt", async () => {
    const pidFile = path.join(dir, "sleep.pid");
    const input = writeFixture(dir, "stuck.ipynb", [
      ["code", `require("child_process").execSync("echo $$ > ${pidFile}; exec sleep 60");`],
    ]);
    const result = await runNotebook(input, { timeoutSeconds: 1 });
    if (result.kernelPid) kernelPids.push(result.kernelPid);
    expect(result.failure?.message).toBe(
      `convlab run: ${input} failed at cell 1: the cell exceeded 1 second (--timeout 1) and did not stop within 5 s of the interrupt ` +
        `and the kernel was killed. Executed notebook written to ${path.join(dir, "stuck.out.ipynb")}.`,
    );
    const sleepPid = Number(fs.readFileSync(pidFile, "utf8"));
    expect(sleepPid).toBeGreaterThan(0);
    expect(await waitFor(() => !alive(sleepPid), 2000)).toBe(true);
    expect(alive(result.kernelPid)).toBe(false);
  });

  it("reports a kernel that cannot start, and writes nothing", async () => {
    const input = writeFixture(dir, "any.ipynb", OK_CELLS);
    const result = await runNotebook(input, {
      kernelArgv: [process.execPath, "-e", "process.stderr.write(\"Error: Cannot find module 'tslab'\\n\"); process.exit(1);"],
    });
    expect(result.failure).toEqual({
      kind: "start",
      message:
        `convlab run: cannot run ${input}: the kernel exited with code 1 before it was ready; ` +
        `its stderr said: "Error: Cannot find module 'tslab'". tslab is not installed: run \`npm install\` at the project root.`,
    });
    expect(result.written).toBe(false);
    expect(fs.existsSync(path.join(dir, "any.out.ipynb"))).toBe(false);
  });

  it("on SIGINT writes the partial notebook, shuts the kernel down and exits 130", async () => {
    writeFixture(dir, "long.ipynb", [
      ["code", 'console.log("first");'],
      ["code", 'console.log("working");\nawait new Promise((r) => setTimeout(r, 60000));'],
      ["code", 'console.log("never");'],
    ]);
    let kernelPid: number | undefined;
    let signalled = false;
    const run = await runCli(["long.ipynb"], dir, { children, onStdout: (stdout, child) => {
      if (!signalled && stdout.includes("[1/3] cell 1")) {
        signalled = true;
        kernelPid = childPids(child.pid!)[0];
        if (kernelPid) kernelPids.push(kernelPid);
        // Let cell 2 start and print before the runner is interrupted.
        setTimeout(() => child.kill("SIGINT"), 1000);
      }
    } });
    expect(run.code).toBe(130);
    expect(run.stderr).toBe("convlab run: long.ipynb interrupted (SIGINT) at cell 2. Executed notebook written to long.out.ipynb.\n");
    expect(run.stdout).toMatch(new RegExp(`  \\[2/3\\] cell 2  ${TIME}  interrupted\n$`));
    const written = readJson(path.join(dir, "long.out.ipynb"));
    expect(written.cells[0].outputs).toEqual([{ output_type: "stream", name: "stdout", text: ["first\n"] }]);
    expect(streamText(written.cells[1].outputs)).toBe("working\n");
    expect(written.cells[1].outputs[written.cells[1].outputs.length - 1]).toEqual({
      output_type: "error",
      ename: "Interrupted",
      evalue: "convlab run received SIGINT while this cell ran.",
      traceback: [],
    });
    expect(written.cells[2].outputs).toEqual([]);
    expect(kernelPid).toEqual(expect.any(Number));
    expect(alive(kernelPid)).toBe(false);
  });
});
