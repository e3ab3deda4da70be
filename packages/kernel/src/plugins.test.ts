import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { activatePlugins, discoverPlugins, RendererRegistry } from "./plugins";
import { writePluginPackage, GREETING_RENDERER } from "./testing/plugin_fixtures";

function tree(): { root: string; inner: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-discover-"));
  const inner = path.join(root, "course", "notebooks");
  fs.mkdirSync(inner, { recursive: true });
  writePluginPackage(path.join(root, "node_modules", "@acme", "viz"), "@acme/viz", GREETING_RENDERER);
  writePluginPackage(path.join(root, "node_modules", "shadowed"), "shadowed", "");
  writePluginPackage(path.join(inner, "node_modules", "shadowed"), "shadowed", "");
  fs.mkdirSync(path.join(root, "node_modules", "not-a-plugin"), { recursive: true });
  fs.writeFileSync(path.join(root, "node_modules", "not-a-plugin", "package.json"), '{"name":"not-a-plugin"}');
  return { root, inner };
}

describe("discoverPlugins", () => {
  it("finds declared plugins in every node_modules upward, nearest copy first, sorted by name", () => {
    const { root, inner } = tree();
    const found = discoverPlugins(inner).filter((p) => p.dir.startsWith(root));
    expect(found.map((p) => [p.name, path.relative(root, p.dir)])).toEqual([
      ["@acme/viz", path.join("node_modules", "@acme", "viz")],
      ["shadowed", path.join("course", "notebooks", "node_modules", "shadowed")],
    ]);
  });
});

describe("activatePlugins", () => {
  it("activates working plugins and reports the others in one line each", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-activate-"));
    writePluginPackage(path.join(root, "node_modules", "good"), "good", GREETING_RENDERER);
    writePluginPackage(path.join(root, "node_modules", "bad"), "bad", '    throw new Error("boom\\nsecond line");');
    fs.mkdirSync(path.join(root, "node_modules", "empty"));
    fs.writeFileSync(path.join(root, "node_modules", "empty", "package.json"), '{"name":"empty","main":"index.js","convlab":{"plugin":true}}');
    fs.writeFileSync(path.join(root, "node_modules", "empty", "index.js"), "exports.other = 1;");
    const registry = new RendererRegistry();
    const statuses = (await activatePlugins(root, registry)).filter((s) => s.packageDir.startsWith(root));
    expect(statuses.map((s) => [s.packageName, s.ok, s.error])).toEqual([
      ["bad", false, "boom"],
      ["empty", false, expect.stringContaining("its main module exports no `plugin` with an id and activate(ctx)")],
      ["good", true, undefined],
    ]);
    expect(registry.render({ kind: "greeting", name: "Ada" }, () => {})).toEqual({ "text/html": "<b>Hello, Ada</b>", "text/plain": "Hello, Ada" });
  });
});

describe("RendererRegistry", () => {
  it("rejects duplicate ids and skips a throwing renderer, reporting it", () => {
    const registry = new RendererRegistry();
    registry.add({ id: "a:throws", render: () => { throw new Error("bad"); } });
    registry.add({ id: "a:num", render: (v) => (typeof v === "number" ? { "text/plain": `#${v}` } : undefined) });
    expect(() => registry.add({ id: "a:num", render: () => undefined })).toThrow('renderers.add: a renderer with id "a:num" is already registered.');
    const failures: string[] = [];
    expect(registry.render(3, (r) => failures.push(r.id))).toEqual({ "text/plain": "#3" });
    expect(registry.render("x", () => {})).toBeUndefined();
    expect(failures).toEqual(["a:throws"]);
  });
});
