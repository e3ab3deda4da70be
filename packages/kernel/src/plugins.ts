/**
 * Plugins: discovery of installed topic packages, activation, and the
 * renderer registry the kernel asks to turn values into rich output.
 *
 * A package is a plugin when its package.json says `"convlab": { "plugin": true }`
 * and its main entry exports `plugin` ({@link ConvlabPlugin}).
 */
import * as fs from "fs";
import { createRequire } from "module";
import * as path from "path";
import { display, DisplayHandle, MimeBundle, newDisplay, Renderer } from "./display";
import { moduleFolders } from "./module_paths";

/** What `activate` receives. */
export interface PluginContext {
  /** Renderers tried in order for a cell's value and for `display(value)`. */
  renderers: { add(renderer: Renderer): void };
  /** Shows a value now (same as `display`). */
  display(value: unknown): void;
  /** An output updated in place (same as `newDisplay`). */
  newDisplay(): DisplayHandle;
}

/**
 * A convlab plugin, exported as `plugin` beside a package's plain API.
 *
 * @example
 * export const plugin: ConvlabPlugin = {
 *   id: "@convlab/viz:plugin",
 *   description: "Renders tensors and images.",
 *   activate(ctx) { ctx.renderers.add({ id: "@convlab/viz:tensor", render: renderTensor }); },
 * };
 * JupyterLab counterpart: a `JupyterFrontEndPlugin` object.
 */
export interface ConvlabPlugin {
  /** `<package>:plugin`. */
  id: string;
  description?: string;
  activate(ctx: PluginContext): void | Promise<void>;
}

/** Outcome of one plugin at kernel start. */
export interface PluginStatus {
  /** The package that declared the plugin. */
  packageName: string;
  /** The plugin id, when it could be read. */
  id?: string;
  packageDir: string;
  ok: boolean;
  /** Why it failed, one line. */
  error?: string;
}

/** A found package that declares a plugin. */
export interface PluginPackage {
  name: string;
  dir: string;
}

/**
 * Packages declaring a convlab plugin in every `node_modules` from `from`
 * up to the root, then in the kernel's installation (see ./module_paths);
 * the nearest copy of a name wins, as cells resolve it.
 */
export function discoverPlugins(from: string, installDir?: string): PluginPackage[] {
  const found = new Map<string, PluginPackage>();
  for (const modules of moduleFolders(from, installDir)) {
    for (const pkgDir of packageDirs(modules)) {
      const manifest = readManifest(pkgDir);
      if (manifest?.convlab?.plugin && typeof manifest.name === "string" && !found.has(manifest.name)) {
        found.set(manifest.name, { name: manifest.name, dir: pkgDir });
      }
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function packageDirs(modules: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(modules, { withFileTypes: true });
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const full = path.join(modules, entry.name);
    if (entry.name.startsWith("@")) {
      try {
        for (const scoped of fs.readdirSync(full)) dirs.push(path.join(full, scoped));
      } catch {
        // unreadable scope folder: nothing to discover there
      }
    } else {
      dirs.push(full);
    }
  }
  return dirs;
}

function readManifest(dir: string): { name?: unknown; convlab?: { plugin?: unknown } } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  } catch {
    return undefined;
  }
}

/** The renderers of all active plugins, tried in registration order. */
export class RendererRegistry {
  private readonly renderers: Renderer[] = [];

  add(renderer: Renderer): void {
    if (!renderer || typeof renderer.id !== "string" || typeof renderer.render !== "function") {
      throw new Error("renderers.add: expected { id: string, render(value) }.");
    }
    if (this.renderers.some((r) => r.id === renderer.id)) {
      throw new Error(`renderers.add: a renderer with id "${renderer.id}" is already registered.`);
    }
    this.renderers.push(renderer);
  }

  /** The first bundle a renderer returns for `value`; a throwing renderer is reported and skipped. */
  render(value: unknown, onError: (renderer: Renderer, error: unknown) => void): MimeBundle | undefined {
    for (const renderer of this.renderers) {
      try {
        const bundle = renderer.render(value);
        if (bundle) return bundle;
      } catch (error) {
        onError(renderer, error);
      }
    }
    return undefined;
  }

  get ids(): string[] {
    return this.renderers.map((r) => r.id);
  }
}

/**
 * Loads and activates every discovered plugin. A plugin that fails to load
 * or activate is reported in the returned statuses and skipped; the others
 * still activate. Packages are loaded with `require` from `cwd`, so plugins
 * and notebook cells share one instance of each package.
 */
export async function activatePlugins(cwd: string, registry: RendererRegistry): Promise<PluginStatus[]> {
  const load = createRequire(path.join(path.resolve(cwd), "__convlab__.js"));
  const statuses: PluginStatus[] = [];
  for (const pkg of discoverPlugins(cwd)) {
    const status: PluginStatus = { packageName: pkg.name, packageDir: pkg.dir, ok: false };
    statuses.push(status);
    try {
      const mod = load(pkg.dir);
      const plugin = mod?.plugin as ConvlabPlugin | undefined;
      if (!plugin || typeof plugin.id !== "string" || typeof plugin.activate !== "function") {
        throw new Error(`its main module exports no \`plugin\` with an id and activate(ctx). Export \`plugin: ConvlabPlugin\` from ${pkg.name}'s index, or remove "convlab.plugin" from its package.json`);
      }
      status.id = plugin.id;
      const ctx: PluginContext = {
        renderers: { add: (renderer) => registry.add(renderer) },
        display,
        newDisplay,
      };
      await plugin.activate(ctx);
      status.ok = true;
    } catch (error) {
      status.error = oneLine(error);
    }
  }
  return statuses;
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0];
}

/** The line a person reads about a failed plugin. */
export function describeFailure(status: PluginStatus): string {
  return `convlab: plugin ${status.id ? `"${status.id}"` : `of ${status.packageName}`} failed to activate: ${status.error}. Its renderers are not available; the kernel runs without them (package folder: ${status.packageDir}).`;
}
