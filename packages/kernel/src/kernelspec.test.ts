import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { installKernelSpec, kernelsDirFor } from "./kernelspec";

describe("installKernelSpec", () => {
  it("writes kernel.json once and changes nothing the second time", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-spec-"));
    const first = installKernelSpec(dir);
    const spec = JSON.parse(fs.readFileSync(path.join(dir, "convlab", "kernel.json"), "utf8"));
    expect(first).toEqual({ dir: path.join(dir, "convlab"), changed: true });
    expect(spec).toMatchObject({ display_name: "TypeScript (convlab)", language: "typescript", interrupt_mode: "signal" });
    expect(spec.argv.slice(2)).toEqual(["kernel", "{connection_file}"]);
    expect(installKernelSpec(dir).changed).toBe(false);
  });
});

describe("kernelsDirFor", () => {
  it("maps each flag to Jupyter's folder", () => {
    expect(kernelsDirFor(["--prefix", "/opt/x"])).toBe("/opt/x/share/jupyter/kernels");
    expect(kernelsDirFor(["--jupyter-path", "/p"])).toBe("/p/kernels");
    expect(kernelsDirFor(["--user"])).toMatch(/jupyter\/kernels$/);
  });
  it("rejects unknown options and missing values in one line", () => {
    expect(() => kernelsDirFor(["--usr"])).toThrow('convlab install: unknown option "--usr". Expected one of --user, --sys-prefix, --prefix DIR, --jupyter-path DIR.');
    expect(() => kernelsDirFor(["--prefix"])).toThrow("convlab install: unexpected arguments");
  });
});
