/**
 * Backend choice in fresh processes (tfjs keeps one engine per process), as a
 * notebook gets it: `import "@convlab/engine"; await ready()`.
 */
import { spawnSync } from "child_process";
import * as path from "path";

const PACKAGE = path.resolve(__dirname, "..");

function choose(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const script = `require(${JSON.stringify(PACKAGE)}).ready().then(
    (c) => console.log(JSON.stringify({ backend: c.backend, line: c.line, tf: require("@tensorflow/tfjs").getBackend() })),
    (e) => { console.error(e.message); process.exit(3); })`;
  const run = spawnSync(process.execPath, ["-e", script], { cwd: PACKAGE, env: { ...process.env, CONVLAB_BACKEND: "", ...env }, encoding: "utf8" });
  return { status: run.status, stdout: run.stdout.trim().split("\n").pop() ?? "", stderr: run.stderr.trim() };
}

describe("ready()", () => {
  it("picks native when the addon is built, and says so in one line", () => {
    const run = choose({});
    const choice = JSON.parse(run.stdout);
    expect(choice.backend).toBe("native");
    expect(choice.tf).toBe("native");
    expect(choice.line).toMatch(/^convlab engine: backend native \(oneDNN \d+\.\d+\.\d+, \w+, \d+ threads\); not used: tensorflow: @tensorflow\/tfjs-node is not installed$/);
  });

  it("falls back to wasm when the native kernels are missing, saying why", () => {
    const run = choose({ CONVLAB_NATIVE_PATH: "/nonexistent/convlab_native.node" });
    const choice = JSON.parse(run.stdout);
    expect(choice.backend).toBe("wasm");
    expect(choice.tf).toBe("wasm");
    expect(choice.line).toContain("convlab engine: backend wasm (");
    expect(choice.line).toContain("native: ");
  });

  it("uses a forced backend, and rejects one that is unavailable or unknown in one line", () => {
    expect(JSON.parse(choose({ CONVLAB_BACKEND: "cpu" }).stdout)).toMatchObject({ backend: "cpu", tf: "cpu", line: "convlab engine: backend cpu (plain JavaScript: slow for training) (forced by CONVLAB_BACKEND)" });
    const tfnode = choose({ CONVLAB_BACKEND: "tensorflow" });
    expect(tfnode.status).toBe(3);
    expect(tfnode.stderr).toBe(
      "engine: CONVLAB_BACKEND=tensorflow is not available: @tensorflow/tfjs-node is not installed. To get it: npm install @tensorflow/tfjs-node (it downloads libtensorflow at install time, which needs internet); or unset CONVLAB_BACKEND to use the best available.",
    );
    const native = choose({ CONVLAB_BACKEND: "native", CONVLAB_NATIVE_PATH: "/nonexistent/convlab_native.node" });
    expect(native.status).toBe(3);
    expect(native.stderr).toMatch(/^engine: CONVLAB_BACKEND=native is not available: .*\. To get it: apt-get install g\+\+ libdnnl-dev, then npm rebuild @convlab\/engine; or unset CONVLAB_BACKEND to use the best available\.$/);
    const unknown = choose({ CONVLAB_BACKEND: "gpu" });
    expect(unknown.stderr).toBe('engine: invalid CONVLAB_BACKEND. Expected one of tensorflow, native, wasm, cpu. Received: CONVLAB_BACKEND="gpu".');
  });
});
