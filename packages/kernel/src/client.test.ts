/**
 * The notebook runner's Jupyter client: output conversion (pure), then the
 * client against the real kernel spawned from dist/cli.js (build it first:
 * `npm run build -w @convlab/kernel`) and against fake kernels that fail to start.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  KernelClient,
  KernelDiedError,
  KernelStartError,
  OutputCollector,
  TimeoutError,
  defaultCliPath,
} from "./client";
import type { NbOutput } from "./notebook_file";
import { alive, waitFor } from "./testing/notebook_fixtures";
import { Message, newMessage } from "./wire";

const PACKAGE_DIR = path.resolve(__dirname, "..");

function msg(type: string, content: Record<string, unknown>): Message {
  return newMessage(type, content) as Message;
}

describe("OutputCollector", () => {
  it("merges consecutive streams of the same name only", () => {
    const collector = new OutputCollector();
    for (const [name, text] of [["stdout", "a\n"], ["stdout", "b"], ["stderr", "c\n"], ["stdout", "d\n"]]) {
      collector.add(msg("stream", { name, text }));
    }
    expect(collector.outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "a\nb" },
      { output_type: "stream", name: "stderr", text: "c\n" },
      { output_type: "stream", name: "stdout", text: "d\n" },
    ]);
  });

  it("keeps execute_result with its count, errors, and ignores status and execute_input", () => {
    const collector = new OutputCollector();
    collector.add(msg("status", { execution_state: "busy" }));
    collector.add(msg("execute_input", { code: "1", execution_count: 4 }));
    collector.add(msg("execute_result", { execution_count: 4, data: { "text/plain": "1" }, metadata: {} }));
    collector.add(msg("error", { ename: "RangeError", evalue: "too big", traceback: ["RangeError: too big", "    at Cell In[4], line 1"] }));
    collector.add(msg("status", { execution_state: "idle" }));
    expect(collector.outputs).toEqual([
      { output_type: "execute_result", execution_count: 4, data: { "text/plain": "1" }, metadata: {} },
      { output_type: "error", ename: "RangeError", evalue: "too big", traceback: ["RangeError: too big", "    at Cell In[4], line 1"] },
    ]);
  });

  it("applies update_display_data to every output with the display id, also one of an earlier cell", () => {
    const displays = new Map();
    const first = new OutputCollector(displays);
    first.add(msg("display_data", { data: { "text/plain": "0%" }, metadata: {}, transient: { display_id: "bar" } }));
    first.add(msg("display_data", { data: { "text/plain": "other" }, metadata: {}, transient: { display_id: "other" } }));
    const second = new OutputCollector(displays);
    second.add(msg("display_data", { data: { "text/plain": "0%" }, metadata: {}, transient: { display_id: "bar" } }));
    second.add(msg("update_display_data", { data: { "text/plain": "100%" }, metadata: { done: true }, transient: { display_id: "bar" } }));
    second.add(msg("update_display_data", { data: { "text/plain": "ignored" }, metadata: {}, transient: { display_id: "unknown" } }));
    expect(first.outputs).toEqual([
      { output_type: "display_data", data: { "text/plain": "100%" }, metadata: { done: true } },
      { output_type: "display_data", data: { "text/plain": "other" }, metadata: {} },
    ]);
    expect(second.outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "100%" }, metadata: { done: true } }]);
  });

  it("clears at once, or with wait just before the next output", () => {
    const collector = new OutputCollector();
    collector.add(msg("stream", { name: "stdout", text: "1\n" }));
    collector.add(msg("clear_output", { wait: false }));
    expect(collector.outputs).toEqual([]);
    collector.add(msg("stream", { name: "stdout", text: "2\n" }));
    collector.add(msg("clear_output", { wait: true }));
    expect(collector.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "2\n" }]);
    collector.add(msg("stream", { name: "stdout", text: "3\n" }));
    expect(collector.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "3\n" }]);
  });

  it("fills the array it is given, in place", () => {
    const target: NbOutput[] = [];
    const collector = new OutputCollector(new Map(), target);
    collector.add(msg("stream", { name: "stdout", text: "x" }));
    expect(collector.outputs).toBe(target);
    expect(target).toEqual([{ output_type: "stream", name: "stdout", text: "x" }]);
  });
});

/** The connection file a running kernel was started with (its last argument). */
function connectionFileOf(pid: number): string {
  const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  return args[args.length - 1];
}

const started: KernelClient[] = [];
async function startKernel(): Promise<KernelClient> {
  const kernel = await KernelClient.start({ cwd: PACKAGE_DIR });
  started.push(kernel);
  return kernel;
}

afterAll(async () => {
  await Promise.all(started.map((kernel) => kernel.kill()));
});

describe("KernelClient with the convlab kernel", () => {
  let kernel: KernelClient;
  beforeAll(async () => {
    if (!fs.existsSync(defaultCliPath())) throw new Error(`${defaultCliPath()} is missing: run \`npm run build -w @convlab/kernel\` first.`);
    kernel = await startKernel();
  });
  afterAll(async () => {
    const pid = kernel?.pid;
    await kernel?.shutdown();
    expect(alive(pid)).toBe(false);
  });

  it("is ready with the kernel's info", () => {
    expect(kernel.kernelInfo.language_info.name).toBe("typescript");
    expect(kernel.kernelInfo.status).toBe("ok");
    expect(alive(kernel.pid)).toBe(true);
  });

  it("collects every output of a cell once the reply and the idle status are in", async () => {
    const types: string[] = [];
    const { reply, outputs } = await kernel.execute('console.log("a");\nconsole.error("b");\nconsole.log("c");\n6 * 7', {
      onIopub: (m) => types.push(m.header.msg_type === "status" ? `status:${m.content.execution_state}` : m.header.msg_type),
    });
    const count = reply.content.execution_count;
    expect(reply.content.status).toBe("ok");
    expect(count).toEqual(expect.any(Number));
    expect(outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "a\n" },
      { output_type: "stream", name: "stderr", text: "b\n" },
      { output_type: "stream", name: "stdout", text: "c\n" },
      { output_type: "execute_result", execution_count: count, data: { "text/plain": "42" }, metadata: {} },
    ]);
    expect(types[0]).toBe("status:busy");
    expect(types[types.length - 1]).toBe("status:idle");
    expect(types).toContain("execute_input");
  });

  it("updates a display of an earlier cell in place", async () => {
    const first = await kernel.execute(
      'import { newDisplay, mimeBundle } from "@convlab/kernel";\nconst bar = newDisplay();\nbar.update(mimeBundle({ "text/plain": "0%" }));',
    );
    expect(first.reply.content.status).toBe("ok");
    expect(first.outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "0%" }, metadata: {} }]);
    const second = await kernel.execute('bar.update(mimeBundle({ "text/plain": "100%" }));');
    expect(second.outputs).toEqual([]);
    expect(first.outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "100%" }, metadata: {} }]);
  });

  it("resolves a failing cell with status error and the error output", async () => {
    const { reply, outputs } = await kernel.execute('const z = 1;\nthrow new RangeError("too big");');
    expect(reply.content.status).toBe("error");
    expect(outputs).toHaveLength(1);
    expect(outputs[0]).toMatchObject({ output_type: "error", ename: "RangeError", evalue: "too big" });
    expect((outputs[0] as { traceback: string[] }).traceback.join("\n")).toContain(`Cell In[${reply.content.execution_count}], line 2`);
  });

  it("rejects with TimeoutError; after interrupt() the request finishes and the kernel still works", async () => {
    let error: unknown;
    const t0 = Date.now();
    try {
      await kernel.execute('console.log("spin");\nwhile (true) {}', { timeoutMs: 800 });
    } catch (e) {
      error = e;
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(790);
    expect(error).toBeInstanceOf(TimeoutError);
    const timeout = error as TimeoutError;
    expect(timeout.message).toBe(
      "KernelClient: the request did not finish within 0.80 s. Expected it to end in time; interrupt the kernel or raise the timeout.",
    );
    kernel.interrupt();
    expect(await timeout.finished).toBe(true);
    expect(timeout.outputs[timeout.outputs.length - 1]).toMatchObject({ output_type: "error", ename: "KeyboardInterrupt" });
    const after = await kernel.execute("1 + 1");
    expect(after.outputs).toEqual([{ output_type: "execute_result", execution_count: after.reply.content.execution_count, data: { "text/plain": "2" }, metadata: {} }]);
  });
});

describe("KernelClient lifetime", () => {
  it("shutdown() ends the process, removes the connection file and is idempotent", async () => {
    const kernel = await startKernel();
    const pid = kernel.pid!;
    const connectionFile = connectionFileOf(pid);
    expect(fs.existsSync(connectionFile)).toBe(true);
    await kernel.shutdown();
    expect(alive(pid)).toBe(false);
    expect(kernel.exited).toBe(true);
    expect(fs.existsSync(path.dirname(connectionFile))).toBe(false);
    await kernel.shutdown();
    await expect(kernel.execute("1")).rejects.toThrow(
      "KernelClient: the kernel was shut down. Expected a running kernel; start a new one with KernelClient.start().",
    );
  });

  it("rejects with KernelDiedError (exit code and outputs) when a cell calls process.exit", async () => {
    const kernel = await startKernel();
    await kernel.execute('console.log("alive");');
    let error: unknown;
    try {
      await kernel.execute('console.log("bye");\nsetTimeout(() => process.exit(3), 300);\nawait new Promise((r) => setTimeout(r, 5000));');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KernelDiedError);
    const died = error as KernelDiedError;
    expect(died.exitCode).toBe(3);
    expect(died.signal).toBeNull();
    expect(died.reason).toBe("the kernel died (exit code 3)");
    expect(died.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "bye\n" }]);
    expect(died.message).toBe(
      "KernelClient: the kernel died (exit code 3) while a request was running. Expected the kernel to stay up; look for process.exit() or a crash in the code it ran.",
    );
    expect(kernel.exited).toBe(true);
    await expect(kernel.execute("1")).rejects.toBeInstanceOf(KernelDiedError);
    await kernel.shutdown();
    expect(alive(kernel.pid)).toBe(false);
  });

  it("names the signal when the kernel is killed while a cell runs", async () => {
    const kernel = await startKernel();
    const running = kernel.execute("await new Promise((r) => setTimeout(r, 60000));");
    await new Promise((r) => setTimeout(r, 300));
    process.kill(kernel.pid!, "SIGKILL");
    await expect(running).rejects.toMatchObject({ name: "KernelDiedError", exitCode: null, signal: "SIGKILL", reason: "the kernel died (signal SIGKILL)" });
    await kernel.shutdown();
  });

  it("kills its kernels when the process that started them exits without shutting them down", async () => {
    // The script's own exit listener runs after the client's hook: while the
    // script is still alive (so the kernel's parent watch cannot be the cause),
    // the kernel must already be dead (a zombie of the script, or gone).
    const script = `
      const fs = require("fs");
      const { KernelClient } = require(${JSON.stringify(path.join(PACKAGE_DIR, "dist", "client.js"))});
      KernelClient.start({ cwd: ${JSON.stringify(PACKAGE_DIR)} }).then((k) => {
        process.on("exit", () => {
          const state = () => { try { const s = fs.readFileSync("/proc/" + k.pid + "/stat", "utf8"); return s.slice(s.lastIndexOf(")") + 2)[0]; } catch { return "gone"; } };
          const deadline = Date.now() + 1000;
          while (state() !== "Z" && state() !== "gone" && Date.now() < deadline) {}
          console.log(JSON.stringify({ pid: k.pid, state: state() }));
        });
        process.exit(0);
      });`;
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
      let text = "";
      child.stdout.on("data", (chunk) => (text += chunk));
      child.on("error", reject);
      child.on("close", () => resolve(text));
    });
    const { pid, state } = JSON.parse(output.trim());
    expect(pid).toBeGreaterThan(0);
    expect(["Z", "gone"]).toContain(state);
    expect(alive(pid)).toBe(false);
  });
});

describe("KernelClient.start failures", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-client-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function startError(argv: string[], startupTimeoutMs?: number, env?: Record<string, string>): Promise<KernelStartError> {
    try {
      const kernel = await KernelClient.start({ cwd: dir, argv, startupTimeoutMs, env });
      started.push(kernel);
    } catch (error) {
      return error as KernelStartError;
    }
    throw new Error("expected the start to fail");
  }

  it("names a missing tslab from the kernel's stderr", async () => {
    const error = await startError([
      process.execPath,
      "-e",
      "console.error(\"Error: Cannot find module 'tslab'\\nRequire stack:\\n- /x/kernel.js\\n\\nNode.js v20\"); process.exit(1);",
    ]);
    expect(error).toBeInstanceOf(KernelStartError);
    expect(error.message).toBe(
      `KernelClient: the kernel exited with code 1 before it was ready; its stderr said: "Error: Cannot find module 'tslab'". ` +
        "tslab is not installed: run `npm install` at the project root.",
    );
  });

  it("quotes the last stderr lines of another early exit", async () => {
    const error = await startError([process.execPath, "-e", 'console.error("first\\nsecond\\nthird\\nfourth"); process.exit(3);']);
    expect(error.message).toBe(
      'KernelClient: the kernel exited with code 3 before it was ready; its stderr said: "second | third | fourth". ' +
        "Check that the kernel starts by hand: node packages/kernel/dist/cli.js kernel <connection_file>.",
    );
  });

  it("says so when the kernel exits silently", async () => {
    const error = await startError([process.execPath, "-e", "process.exit(0)"]);
    expect(error.message).toBe(
      "KernelClient: the kernel exited with code 0 before it was ready without writing to stderr. " +
        "Check that the kernel starts by hand: node packages/kernel/dist/cli.js kernel <connection_file>.",
    );
  });

  it("retries on new ports when a port was taken, three attempts in all", async () => {
    const attempts = path.join(dir, "attempts");
    const error = await startError([
      process.execPath,
      "-e",
      "const fs = require('fs'); fs.appendFileSync(process.argv[1], JSON.parse(fs.readFileSync(process.argv[2], 'utf8')).shell_port + '\\n');" +
        " console.error('Address already in use'); process.exit(1);",
      attempts,
      "{connection_file}",
    ]);
    expect(error.message).toBe(
      'KernelClient: the kernel exited with code 1 before it was ready; its stderr said: "Address already in use". ' +
        "A port of the connection file was taken by another process; run again.",
    );
    expect(error.portTaken).toBe(true);
    const ports = fs.readFileSync(attempts, "utf8").trim().split("\n");
    expect(ports).toHaveLength(3);
  });

  it("names a command that does not exist", async () => {
    const error = await startError(["/nonexistent/node", "kernel", "{connection_file}"]);
    expect(error.message).toBe(
      'KernelClient: cannot start the kernel: "/nonexistent/node" was not found (spawn ENOENT). Expected Node.js >= 20; install it or check the kernel command.',
    );
  });

  it("gives up after the startup timeout and leaves no process behind", async () => {
    const pidFile = path.join(dir, "pid");
    const t0 = Date.now();
    const error = await startError(
      [process.execPath, "-e", "require('fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000);", pidFile],
      1000,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(error.message).toBe(
      "KernelClient: the kernel was not ready within 1 s (no kernel_info_reply on shell). " +
        "Expected a Jupyter kernel on the connection file; raise the startup timeout if the machine is busy.",
    );
    const pid = Number(fs.readFileSync(pidFile, "utf8"));
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  });

  it("passes the connection file and the environment to the kernel command", async () => {
    const out = path.join(dir, "seen.json");
    const error = await startError(
      [
        process.execPath,
        "-e",
        "const fs = require('fs'); const info = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));" +
          "fs.writeFileSync(process.argv[2], JSON.stringify({ transport: info.transport, ip: info.ip, scheme: info.signature_scheme," +
          " keyLength: info.key.length, ports: new Set([info.shell_port, info.iopub_port, info.stdin_port, info.control_port, info.hb_port]).size," +
          " cwd: process.cwd(), extra: process.env.CONVLAB_EXTRA, parent: process.env.JPY_PARENT_PID }));",
        "{connection_file}",
        out,
      ],
      5000,
      { CONVLAB_EXTRA: "yes" },
    );
    expect(error).toBeInstanceOf(KernelStartError);
    expect(JSON.parse(fs.readFileSync(out, "utf8"))).toEqual({
      transport: "tcp",
      ip: "127.0.0.1",
      scheme: "hmac-sha256",
      keyLength: 64,
      ports: 5,
      cwd: fs.realpathSync(dir),
      extra: "yes",
      parent: String(process.pid),
    });
  });

  it("refuses a working folder that does not exist", async () => {
    const missing = path.join(dir, "nope");
    await expect(KernelClient.start({ cwd: missing })).rejects.toThrow(
      `KernelClient: the working folder ${missing} does not exist. Expected an existing folder as cwd.`,
    );
  });
});
