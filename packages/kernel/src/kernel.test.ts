/**
 * The kernel over the real Jupyter protocol (zeromq), spawned from dist/cli.js
 * like Jupyter spawns it. Each behaviour here is one tslab gets wrong.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { defaultCliPath, KernelClient } from "./client";
import type { NbOutput } from "./notebook_file";
import { alive, waitFor } from "./testing/notebook_fixtures";
import { GREETING_RENDERER, npmInstall, npmPack, writePluginPackage } from "./testing/plugin_fixtures";
import type { Message } from "./wire";

const PACKAGE_DIR = path.resolve(__dirname, "..");

function text(outputs: NbOutput[], name = "stdout"): string {
  return outputs
    .filter((o): o is Extract<NbOutput, { output_type: "stream" }> => o.output_type === "stream" && o.name === name)
    .map((o) => (Array.isArray(o.text) ? o.text.join("") : o.text))
    .join("");
}

function result(outputs: NbOutput[]): Record<string, unknown> | undefined {
  const out = outputs.find((o) => o.output_type === "execute_result") as { data: Record<string, unknown> } | undefined;
  if (!out) return undefined;
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(out.data)) data[k] = Array.isArray(v) ? v.join("") : v;
  return data;
}


describe("kernel protocol", () => {
  let kernel: KernelClient;

  beforeAll(async () => {
    kernel = await KernelClient.start({ cwd: PACKAGE_DIR });
  });
  afterAll(async () => {
    await kernel?.shutdown();
  });

  it("delivers every line of a 10,000-line synchronous burst, in order", async () => {
    const { outputs } = await kernel.execute('for (let i = 0; i < 10000; i++) console.log("line " + i);');
    const lines = text(outputs).trimEnd().split("\n");
    expect(lines).toHaveLength(10000);
    expect(lines[0]).toBe("line 0");
    expect(lines[9999]).toBe("line 9999");
    expect(lines.every((line, i) => line === `line ${i}`)).toBe(true);
  });

  it("sends execute_input, execution counts and an execute_result for the last value", async () => {
    const seen: Message[] = [];
    const { reply, outputs } = await kernel.execute("const half: number = 21;\nhalf * 2", { onIopub: (m) => seen.push(m) });
    const input = seen.find((m) => m.header.msg_type === "execute_input");
    expect(input?.content).toEqual({ code: "const half: number = 21;\nhalf * 2", execution_count: reply.content.execution_count });
    expect(reply.content.status).toBe("ok");
    expect(result(outputs)).toEqual({ "text/plain": "42" });
    const next = await kernel.execute("half + 1");
    expect(next.reply.content.execution_count).toBe(reply.content.execution_count + 1);
  });

  it("reads a name of an earlier cell in a shorthand property ({ steps }), which tslab alone misses", async () => {
    await kernel.execute("const steps = 7;");
    const { reply, outputs } = await kernel.execute("JSON.stringify({ steps })");
    expect(reply.content.status).toBe("ok");
    expect(result(outputs)).toEqual({ "text/plain": "'{\"steps\":7}'" });
  });

  it("runs a nested top-level await, which tslab alone runs in a plain function (a SyntaxError)", async () => {
    const { reply, outputs } = await kernel.execute("const source = { async iterator() { return { async next() { return 42; } }; } };\nconst first = await (await source.iterator()).next();\nfirst + 1");
    expect(reply.content.status).toBe("ok");
    expect(result(outputs)).toEqual({ "text/plain": "43" });
  });

  it("reports a failing cell with ename, evalue and a traceback in cell lines; cells sent right after it run", async () => {
    const failing = kernel.execute('function check(x: number) {\n  if (x > 1) {\n    throw new RangeError("too big: " + x);\n  }\n}\ncheck(1);\ncheck(5);');
    const following = kernel.execute("6 * 7");
    const [bad, good] = await Promise.all([failing, following]);
    const count = bad.reply.content.execution_count;
    expect(bad.reply.content).toMatchObject({ status: "error", ename: "RangeError", evalue: "too big: 5" });
    const traceback: string[] = bad.reply.content.traceback;
    expect(traceback[0]).toBe("RangeError: too big: 5");
    expect(traceback).toContain(`    at Cell In[${count}], line 3 (in check)`);
    expect(traceback).toContain(`    at Cell In[${count}], line 7`);
    expect(traceback.join("\n")).not.toMatch(/executor|node:vm/);
    const error = bad.outputs.find((o) => o.output_type === "error");
    expect(error).toMatchObject({ ename: "RangeError", evalue: "too big: 5" });
    expect(good.reply.content.status).toBe("ok");
    expect(result(good.outputs)).toEqual({ "text/plain": "42" });
  });

  it("maps a type error to the cell's line and column", async () => {
    const { reply } = await kernel.execute('const ok = 1;\n  const label: string = 5;');
    expect(reply.content.ename).toBe("TSError");
    expect(reply.content.evalue).toBe(`error TS2322: Type 'number' is not assignable to type 'string'. (Cell In[${reply.content.execution_count}], line 2, column 9)`);
  });

  it("interrupts a running fit within 2 s; no batch runs after it and the model trains again", async () => {
    await kernel.execute(`
import * as tf from "@tensorflow/tfjs";
const model = tf.sequential({ layers: [tf.layers.dense({ units: 32, inputShape: [50], activation: "relu" }), tf.layers.dense({ units: 1 })] });
model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
const xs = tf.randomNormal([4096, 50]);
const ys = tf.randomNormal([4096, 1]);
let batches = 0;`);
    let interruptedAt = 0;
    const fit = kernel.execute(
      'await model.fit(xs, ys, { epochs: 10000, batchSize: 32, callbacks: { onBatchEnd: async () => { if (++batches === 3) console.log("training"); } } });',
      {
        onIopub: (m) => {
          if (m.header.msg_type === "stream" && String(m.content.text).includes("training") && !interruptedAt) {
            interruptedAt = Date.now();
            kernel.interrupt();
          }
        },
      },
    );
    const { reply } = await fit;
    const stoppedAfter = Date.now() - interruptedAt;
    expect(interruptedAt).toBeGreaterThan(0);
    expect(reply.content).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
    expect(stoppedAfter).toBeLessThan(2000);
    const after = await kernel.execute("const seen = batches;\nawait new Promise((r) => setTimeout(r, 500));\nbatches - seen");
    expect(result(after.outputs)).toEqual({ "text/plain": "0" });
    const again = await kernel.execute('const h = await model.fit(xs.slice(0, 64), ys.slice(0, 64), { epochs: 1, batchSize: 32 });\nh.epoch.length');
    expect(again.reply.content.status).toBe("ok");
    expect(result(again.outputs)).toEqual({ "text/plain": "1" });
  });

  it("interrupts an await loop so that it stops for good", async () => {
    const loop = kernel.execute(
      'let ticks = 0;\nfor (;;) { await new Promise((r) => setTimeout(r, 5)); if (++ticks === 10) console.log("looping"); }',
      { onIopub: (m) => m.header.msg_type === "stream" && kernel.interrupt() },
    );
    expect((await loop).reply.content.ename).toBe("KeyboardInterrupt");
    const after = await kernel.execute("const t0 = ticks;\nawait new Promise((r) => setTimeout(r, 300));\nticks - t0");
    expect(result(after.outputs)).toEqual({ "text/plain": "0" });
  });

  it("interrupts a synchronous loop and keeps what the cell assigned before it", async () => {
    // Nothing leaves a process stuck in a busy loop, not even execute_input: interrupt blind.
    const spin = kernel.execute('const before = "kept";\nwhile (true) {}');
    setTimeout(() => kernel.interrupt(), 1500);
    expect((await spin).reply.content.ename).toBe("KeyboardInterrupt");
    const next = await kernel.execute("before");
    expect(result(next.outputs)).toEqual({ "text/plain": "'kept'" });
  });
});

describe("kernel lifetime", () => {
  it("exits on shutdown_request even with a timer pending", async () => {
    const kernel = await KernelClient.start({ cwd: PACKAGE_DIR });
    await kernel.execute("setInterval(() => {}, 1000);");
    const started = Date.now();
    await kernel.shutdown(20_000);
    expect(kernel.exited).toBe(true);
    // exited by itself, not killed at the end of the 20 s grace period
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("exits by itself when the process that started it dies", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-orphan-"));
    const ports = await Promise.all([0, 1, 2, 3, 4].map(() => freePort()));
    const connection = path.join(dir, "connection.json");
    const log = path.join(dir, "kernel.log");
    fs.writeFileSync(
      connection,
      JSON.stringify({ transport: "tcp", ip: "127.0.0.1", key: "k", signature_scheme: "hmac-sha256", shell_port: ports[0], iopub_port: ports[1], stdin_port: ports[2], control_port: ports[3], hb_port: ports[4] }),
    );
    // A parent that starts the kernel (stderr to a log), prints its pid and waits forever.
    const script = `const fs = require("fs"); const err = fs.openSync(${JSON.stringify(log)}, "w");
const k = require("child_process").spawn(process.execPath, [${JSON.stringify(defaultCliPath())}, "kernel", ${JSON.stringify(connection)}], { stdio: ["ignore", "ignore", err] });
process.stdout.write(k.pid + "\\n"); setInterval(() => {}, 1000);`;
    const env = { ...process.env };
    delete env.JPY_PARENT_PID;
    const parent = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"], env });
    let kernelPid = 0;
    try {
      kernelPid = await new Promise<number>((resolve) => parent.stdout!.once("data", (d) => resolve(Number(String(d).trim()))));
      // give it time to start properly: the kernel must be up before its parent goes
      await new Promise((r) => setTimeout(r, 1500));
      expect({ alive: alive(kernelPid), log: fs.readFileSync(log, "utf8") }).toEqual({ alive: true, log: "" });
      parent.kill("SIGKILL");
      expect(await waitFor(() => !alive(kernelPid), 10_000)).toBe(true);
      expect(fs.readFileSync(log, "utf8")).toContain("the process that started this kernel is gone; exiting");
    } finally {
      parent.kill("SIGKILL");
      if (kernelPid && alive(kernelPid)) process.kill(kernelPid, "SIGKILL");
    }
  });
});

describe("plugins", () => {
  let folder: string;

  beforeAll(() => {
    // A notebook folder where the plugins are installed from packed tarballs, as a user would.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-plugins-"));
    folder = path.join(root, "notebooks");
    fs.mkdirSync(folder);
    const good = npmPack(writePluginPackage(path.join(root, "src", "greeting"), "convlab-test-greeting", GREETING_RENDERER), root);
    const broken = npmPack(writePluginPackage(path.join(root, "src", "broken"), "convlab-test-broken", '    throw new Error("no renderer today");'), root);
    npmInstall(folder, [good, broken]);
    // the kernel package itself, as `npm install @convlab/kernel` would place it (for display's types)
    fs.mkdirSync(path.join(folder, "node_modules", "@convlab"), { recursive: true });
    fs.symlinkSync(PACKAGE_DIR, path.join(folder, "node_modules", "@convlab", "kernel"));
  });

  it("discovers an installed plugin, reports a broken one and keeps running", async () => {
    const kernel = await KernelClient.start({ cwd: folder });
    try {
      // The banner names the plugins that activated (the broken one is not among them).
      expect(kernel.kernelInfo.banner).toMatch(/; plugins: (.+, )?convlab-test-greeting:plugin(, .+)?$/);
      expect(kernel.kernelInfo.banner).not.toContain("convlab-test-broken");
      const first = await kernel.execute('({ kind: "greeting", name: "Ada" })');
      expect(first.reply.content.status).toBe("ok");
      expect(result(first.outputs)).toEqual({ "text/html": "<b>Hello, Ada</b>", "text/plain": "Hello, Ada" });
      expect(text(first.outputs, "stderr")).toContain('convlab: plugin "convlab-test-broken:plugin" failed to activate: no renderer today.');
      const mid = await kernel.execute('import { display } from "@convlab/kernel";\ndisplay({ kind: "greeting", name: "Bob" });\n"after"');
      const shown = mid.outputs.find((o) => o.output_type === "display_data") as { data: Record<string, unknown> } | undefined;
      expect(shown?.data["text/html"]).toBe("<b>Hello, Bob</b>");
      expect(result(mid.outputs)).toEqual({ "text/plain": "'after'" });
      const plain = await kernel.execute("({ kind: 'other' })");
      expect(result(plain.outputs)).toEqual({ "text/plain": "{ kind: 'other' }" });
    } finally {
      await kernel.shutdown();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
