/**
 * Faults and load through the real kernel (build it first: `npm run build -w @convlab/kernel`):
 * a kernel killed with SIGKILL in the middle of a cell, two `convlab run`
 * processes at once, and 50 cells of 1,000 display updates each.
 *
 * Times are printed, never asserted.
 */
import type { ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KernelClient, defaultCliPath } from "./client";
import type { Message } from "./wire";
import { CellSpec, CliRun, alive, childPids, nbformatCheck, readJson, runCli, streamText, waitFor, writeFixture } from "./testing/notebook_fixtures";

const CLI = defaultCliPath();
const TIME = String.raw`\d+\.\d\d s`;

const children: ChildProcess[] = [];
/** Processes to SIGKILL (with their process group) after each test, if still alive. */
const leftovers: number[] = [];

/** Live (non-zombie) processes whose process group is `pgid`, from /proc. The kernel leads its own group. */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid pgrp ...: comm may contain spaces, so parse after the last ")".
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") members.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const pid of leftovers.splice(0)) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // gone already
      }
    }
  }
});

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build -w @convlab/kernel\` first.`);
});

describe("a kernel killed with SIGKILL in the middle of a cell", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-faults-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const LOOPS = {
    // Awaits between steps, like tf.js training with callbacks: the event loop keeps turning.
    async: "const end = Date.now() + 60_000;\nwhile (Date.now() < end) await new Promise((r) => setTimeout(r, 50));",
    // Never yields: the kernel's JavaScript thread is busy when it is killed.
    sync: "const end = Date.now() + 60_000;\nwhile (Date.now() < end) {}",
  };

  /**
   * Runs a notebook whose cell 2 prints "training", writes the file `started`
   * and loops for 60 s; SIGKILLs the kernel (its pid is printed by cell 1,
   * read from the partial notebook written after cell 1) once `started` exists.
   */
  async function killDuringCell2(loop: string, firstCell = "") {
    const cells: CellSpec[] = [
      ["markdown", "# killed"],
      ["code", `${firstCell}console.log(\`pid=\${process.pid}\`);\nconsole.log("ready");`],
      ["code", `console.log("training");\nrequire("fs").writeFileSync("started", "");\n${loop}`],
      ["code", 'console.log("never");'],
    ];
    writeFixture(dir, "nb.ipynb", cells);
    const output = path.join(dir, "nb.out.ipynb");
    const marker = path.join(dir, "started");
    let kernelPid: number | undefined;
    let killedAt = 0;
    let partialAfterCell1: any;
    let watching = false;
    const run = runCli(["nb.ipynb"], dir, { children, onStdout: (stdout) => {
      if (watching || !stdout.includes("[1/3] cell 1")) return;
      watching = true;
      void (async () => {
        // The runner logs the cell, then writes the notebook: wait for cell 1's outputs on disk.
        const pidOnDisk = () => {
          try {
            const nb = readJson(output);
            const match = /pid=(\d+)/.exec(streamText(nb.cells[1].outputs));
            if (match) partialAfterCell1 = nb;
            return match ? Number(match[1]) : undefined;
          } catch {
            return undefined; // not written yet, or being renamed into place
          }
        };
        if (!(await waitFor(() => pidOnDisk() !== undefined, 30_000))) return;
        kernelPid = pidOnDisk()!;
        leftovers.push(kernelPid);
        if (!(await waitFor(() => fs.existsSync(marker), 30_000))) return;
        // Let the loop run a little before the kill.
        await new Promise((r) => setTimeout(r, 300));
        killedAt = Date.now();
        process.kill(kernelPid, "SIGKILL");
      })();
    } });
    const result = await run;
    return { result, kernelPid, killedAt, partialAfterCell1, output };
  }

  it.each(Object.keys(LOOPS) as Array<keyof typeof LOOPS>)(
    "%s loop: the runner exits 1 naming cell 2, and the partial notebook keeps what ran",
    async (variant) => {
      const { result, kernelPid, killedAt, partialAfterCell1, output } = await killDuringCell2(LOOPS[variant]);
      expect(kernelPid).toEqual(expect.any(Number));
      expect(killedAt).toBeGreaterThan(0);
      console.log(`[faults] ${variant} loop: SIGKILL of kernel ${kernelPid} -> runner exit in ${result.exitedAt - killedAt} ms`);

      // The partial notebook written after cell 1, before cell 2 ended (the pid was read from it).
      expect(streamText(partialAfterCell1.cells[1].outputs)).toBe(`pid=${kernelPid}\nready\n`);
      expect(partialAfterCell1.cells[2].outputs).toEqual([]);

      expect(result.code).toBe(1);
      expect(result.signal).toBeNull();
      expect(result.stderr).toBe(
        "convlab run: nb.ipynb failed at cell 2: the kernel died (signal SIGKILL) while running it. Executed notebook written to nb.out.ipynb.\n",
      );
      const lines = result.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe("nb.ipynb: 3 code cells");
      expect(lines[1]).toMatch(new RegExp(`^  \\[1/3\\] cell 1  ${TIME}  ok$`));
      expect(lines[2]).toMatch(new RegExp(`^  \\[2/3\\] cell 2  ${TIME}  died$`));

      const check = nbformatCheck(output);
      if (check !== "no-nbformat") expect(check).toBe("valid");
      const written = readJson(output);
      expect(written.cells[0].outputs).toBeUndefined();
      expect(written.cells[1].execution_count).toBe(1);
      expect(written.cells[1].outputs).toEqual([{ output_type: "stream", name: "stdout", text: [`pid=${kernelPid}\n`, "ready\n"] }]);
      const died = written.cells[2].outputs;
      expect(died[died.length - 1]).toEqual({
        output_type: "error",
        ename: "DeadKernelError",
        evalue: "the kernel died (signal SIGKILL) while running this cell",
        traceback: [],
      });
      const printed = streamText(died);
      console.log(`[faults] ${variant} loop: cell 2 output before the kill in the saved notebook: ${JSON.stringify(printed)}`);
      // The kernel sends what is queued before a cell starts, so the cell's first line leaves at once,
      // even when the loop after it never yields.
      expect(printed).toBe("training\n");
      expect(died).toHaveLength(2);
      expect(written.cells[2].execution_count).toBe(2);
      expect(written.cells[3].outputs).toEqual([]);
      expect(written.cells[3].execution_count).toBeNull();

      expect(alive(kernelPid)).toBe(false);
      expect(await waitFor(() => groupMembers(kernelPid!).length === 0, 2_000)).toBe(true);
      expect(fs.readdirSync(dir).sort()).toEqual(["nb.ipynb", "nb.out.ipynb", "started"]);
    },
  );

  it("leaves no process the killed kernel had started (same process group)", async () => {
    const pidFile = path.join(dir, "sleep.pid");
    const { result, kernelPid } = await killDuringCell2(
      LOOPS.async,
      `const sleeper = require("child_process").spawn("sleep", ["120"], { stdio: "ignore" });\nrequire("fs").writeFileSync(${JSON.stringify(pidFile)}, String(sleeper.pid));\n`,
    );
    expect(result.code).toBe(1);
    const sleepPid = Number(fs.readFileSync(pidFile, "utf8"));
    leftovers.push(sleepPid);
    expect(sleepPid).toBeGreaterThan(0);
    expect(alive(kernelPid)).toBe(false);
    expect(await waitFor(() => !alive(sleepPid), 2_000)).toBe(true);
    expect(groupMembers(kernelPid!)).toEqual([]);
  });
});

describe("two convlab run processes at once", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-two-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const CELLS = 20;
  const LINES = 50;

  /** 20 cells; cell k prints `<id>-<k>-<i>` for i < 50, displays `<id>-<k>-display` and ends with `<id>-<k>-result`. */
  function identityCells(id: string): CellSpec[] {
    const cells: CellSpec[] = [["code", 'import { display } from "@convlab/kernel";']];
    for (let k = 1; k <= CELLS; k++) {
      cells.push(["markdown", `## ${id} ${k}`]);
      cells.push([
        "code",
        `for (let i = 0; i < ${LINES}; i++) console.log(\`${id}-${k}-\${i}\`);\ndisplay("${id}-${k}-display");\n"${id}-${k}-result"`,
      ]);
    }
    return cells;
  }

  function expectOwnOutputs(file: string, id: string): void {
    const check = nbformatCheck(file);
    if (check !== "no-nbformat") expect(check).toBe("valid");
    const nb = readJson(file);
    const code = nb.cells.filter((c: any) => c.cell_type === "code");
    expect(code).toHaveLength(CELLS + 1);
    expect(code[0].outputs).toEqual([]);
    for (let k = 1; k <= CELLS; k++) {
      const lines = Array.from({ length: LINES }, (_, i) => `${id}-${k}-${i}\n`);
      expect(code[k].execution_count).toBe(k + 1);
      expect(code[k].outputs).toEqual([
        { output_type: "stream", name: "stdout", text: lines },
        { output_type: "display_data", data: { "text/plain": [`${id}-${k}-display`] }, metadata: {} },
        { output_type: "execute_result", execution_count: k + 1, data: { "text/plain": [`'${id}-${k}-result'`] }, metadata: {} },
      ]);
    }
  }

  async function runBoth(extra: string[]): Promise<CliRun[]> {
    writeFixture(dir, "a.ipynb", identityCells("A"));
    writeFixture(dir, "b.ipynb", identityCells("B"));
    const kernels = new Set<number>();
    const watch = (_: string, child: ChildProcess) => {
      for (const pid of childPids(child.pid!)) if (!kernels.has(pid)) (kernels.add(pid), leftovers.push(pid));
    };
    const started = Date.now();
    const runs = await Promise.all([runCli(["a.ipynb", ...extra], dir, { children, onStdout: watch }), runCli(["b.ipynb", ...extra], dir, { children, onStdout: watch })]);
    console.log(`[faults] two runners${extra.length ? ` (${extra.join(" ")})` : ""}: both done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const [run, name] of [[runs[0], "a.ipynb"], [runs[1], "b.ipynb"]] as const) {
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const lines = run.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(CELLS + 3);
      expect(lines[0]).toBe(`${name}: ${CELLS + 1} code cells`);
      expect(lines[lines.length - 1]).toMatch(new RegExp(`^${name}: ok in ${TIME}\\. Executed notebook written to `));
    }
    for (const pid of kernels) expect(alive(pid)).toBe(false);
    return runs;
  }

  it("next to their inputs: exit 0, each notebook holds only its own outputs, all in order", async () => {
    await runBoth([]);
    expectOwnOutputs(path.join(dir, "a.out.ipynb"), "A");
    expectOwnOutputs(path.join(dir, "b.out.ipynb"), "B");
    expect(fs.readdirSync(dir).sort()).toEqual(["a.ipynb", "a.out.ipynb", "b.ipynb", "b.out.ipynb"]);
  });

  it("into the same --out DIR (created by both at once)", async () => {
    await runBoth(["--out", "out"]);
    expectOwnOutputs(path.join(dir, "out", "a.ipynb"), "A");
    expectOwnOutputs(path.join(dir, "out", "b.ipynb"), "B");
    // no temporary file of the atomic writes is left behind
    expect(fs.readdirSync(path.join(dir, "out")).sort()).toEqual(["a.ipynb", "b.ipynb"]);
  });
});

describe("many display messages through KernelClient", () => {
  let dir: string;
  let kernel: KernelClient | undefined;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-displays-"));
    kernel = await KernelClient.start({ cwd: dir });
    leftovers.push(kernel.pid!);
    const { reply } = await kernel.execute('import { display, newDisplay } from "@convlab/kernel";');
    expect(reply.content.status).toBe("ok");
  });
  afterEach(async () => {
    const pid = kernel?.pid;
    await kernel?.shutdown();
    kernel = undefined;
    expect(alive(pid)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The first index where `seen` differs from `expected` (-1 when equal), so a failure names it without a 1,000-line diff. */
  function firstDifference(seen: unknown[], expected: unknown[]): number {
    for (let i = 0; i < Math.max(seen.length, expected.length); i++) if (seen[i] !== expected[i]) return i;
    return -1;
  }

  it("50 cells x 1,000 newDisplay updates: every update arrives, in order", async () => {
    const CELLS = 50;
    const N = 1000;
    const started = Date.now();
    let messages = 0;
    for (let c = 1; c <= CELLS; c++) {
      const seen: string[] = [];
      const types: string[] = [];
      const ids = new Set<string>();
      const onIopub = (msg: Message) => {
        const type = msg.header.msg_type;
        types.push(type === "status" ? `status:${msg.content.execution_state}` : type);
        if (type === "display_data" || type === "update_display_data") {
          seen.push(msg.content.data["text/plain"]);
          ids.add(msg.content.transient?.display_id);
        }
      };
      const code = `const h${c} = newDisplay();\nfor (let i = 0; i < ${N}; i++) h${c}.update(\`${c}:\${i}\`);`;
      const { reply, outputs } = await kernel!.execute(code, { onIopub });
      messages += seen.length;
      expect(reply.content.status).toBe("ok");
      const expected = Array.from({ length: N }, (_, i) => `${c}:${i}`);
      expect({ cell: c, count: seen.length, firstDifference: firstDifference(seen, expected) }).toEqual({ cell: c, count: N, firstDifference: -1 });
      expect(ids.size).toBe(1);
      // busy, execute_input, display_data, 999 updates, idle
      expect(types.slice(0, 3)).toEqual(["status:busy", "execute_input", "display_data"]);
      expect(types.slice(3, 3 + N - 1).every((t) => t === "update_display_data")).toBe(true);
      expect(types.slice(3 + N - 1)).toEqual(["status:idle"]);
      // The saved output of an updated display keeps only its last value.
      expect(outputs).toEqual([{ output_type: "display_data", data: { "text/plain": `${c}:${N - 1}` }, metadata: {} }]);
    }
    const seconds = (Date.now() - started) / 1000;
    expect(messages).toBe(CELLS * N);
    console.log(`[faults] ${CELLS} x ${N} display updates: ${seconds.toFixed(1)} s, ${Math.round(messages / seconds)} messages/s`);
  }, 600_000);

  it("10 cells x 1,000 display() calls: every output is kept, in order", async () => {
    const CELLS = 10;
    const N = 1000;
    const started = Date.now();
    for (let c = 1; c <= CELLS; c++) {
      const seen: string[] = [];
      const onIopub = (msg: Message) => {
        if (msg.header.msg_type === "display_data") seen.push(msg.content.data["text/plain"]);
      };
      const { reply, outputs } = await kernel!.execute(`for (let i = 0; i < ${N}; i++) display(\`d${c}:\${i}\`);`, { onIopub });
      expect(reply.content.status).toBe("ok");
      const expected = Array.from({ length: N }, (_, i) => `d${c}:${i}`);
      expect({ cell: c, firstDifference: firstDifference(seen, expected) }).toEqual({ cell: c, firstDifference: -1 });
      const saved = outputs.map((o) => (o.output_type === "display_data" ? o.data["text/plain"] : o.output_type));
      expect({ cell: c, firstDifference: firstDifference(saved, expected) }).toEqual({ cell: c, firstDifference: -1 });
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`[faults] ${CELLS} x ${N} display() calls: ${seconds.toFixed(1)} s, ${Math.round((CELLS * N) / seconds)} messages/s`);
  }, 300_000);
});
