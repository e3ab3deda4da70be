#!/usr/bin/env node
/**
 * Install script of @convlab/engine: builds the native oneDNN kernels
 * (build/Release/convlab_native.node) with node-gyp.
 *
 * It never makes `npm install` / `npm ci` fail. When something is missing (g++, oneDNN's
 * headers or library, node-gyp, Node's headers) or the build fails, it prints one line with
 * the reason, writes that line to build/native-status.txt (loadNativeAddon() reports it,
 * since npm hides the output of install scripts that succeed) and exits 0: training then
 * falls back to WebAssembly.
 *
 * Environment:
 *   CONVLAB_SKIP_NATIVE=1   do not build
 *   CONVLAB_OPENBLAS=1      also link OpenBLAS for matmul (off: oneDNN's matmul measured faster)
 *   CXX                     the C++ compiler node-gyp uses (default g++)
 */
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawnSync } = require("child_process");

const PACKAGE_DIR = path.resolve(__dirname, "..");
const BUILD_DIR = path.join(PACKAGE_DIR, "build");
const ADDON = path.join(BUILD_DIR, "Release", "convlab_native.node");
const STATUS_FILE = path.join(BUILD_DIR, "native-status.txt");
const LOG_FILE = path.join(BUILD_DIR, "native-build.log");
const FALLBACK =
  "Training falls back to WebAssembly. To build them: apt-get install g++ libdnnl-dev, then npm rebuild @convlab/engine.";

/** Prints the one-line outcome, records it for loadNativeAddon(), and ends with status 0. */
function finish(line) {
  try {
    fs.mkdirSync(BUILD_DIR, { recursive: true });
    fs.writeFileSync(STATUS_FILE, line + "\n");
  } catch {
    // The status file is a convenience; the line printed below is the outcome.
  }
  console.log(line);
  process.exit(0);
}

function notBuilt(reason) {
  finish(`convlab engine: native kernels not built (${reason}). ${FALLBACK}`);
}

/** Directories g++ searches by default (plus CPATH-style variables it honours). */
function includeDirs() {
  const fromEnv = [process.env.CPATH, process.env.CPLUS_INCLUDE_PATH]
    .filter(Boolean)
    .flatMap((v) => v.split(path.delimiter))
    .filter(Boolean);
  return [...fromEnv, "/usr/local/include", "/usr/include"];
}

/** Directories the linker searches by default, including Debian's multiarch ones. */
function libraryDirs() {
  const fromEnv = (process.env.LIBRARY_PATH || "").split(path.delimiter).filter(Boolean);
  const dirs = [...fromEnv, "/usr/local/lib", "/usr/lib64", "/usr/lib", "/lib"];
  for (const root of ["/usr/lib", "/lib"]) {
    try {
      for (const name of fs.readdirSync(root)) {
        if (/-linux-gnu/.test(name)) dirs.push(path.join(root, name));
      }
    } catch {
      // no such directory on this system
    }
  }
  return dirs;
}

function findIn(dirs, relative) {
  for (const dir of dirs) {
    const candidate = path.join(dir, relative);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

function onPath(program) {
  if (program.includes("/")) return fs.existsSync(program) ? program : undefined;
  return findIn((process.env.PATH || "").split(path.delimiter).filter(Boolean), program);
}

/** node-gyp as npm provides it to install scripts, else the copies npm and the repo ship. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(require.resolve("node-gyp/bin/node-gyp.js", { paths: [PACKAGE_DIR] }));
  } catch {
    // not installed beside the package
  }
  if (process.env.npm_execpath) {
    // npm_execpath is .../npm/bin/npm-cli.js
    candidates.push(
      path.resolve(path.dirname(process.env.npm_execpath), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    );
  }
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  candidates.push(path.join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  return candidates.find((file) => fs.existsSync(file));
}

/**
 * Node's headers: npm's `nodedir` setting when present (node-gyp reads it from the
 * environment), else the ones installed beside this node binary (Debian's nodejs ships
 * them in /usr/include/node); without either node-gyp would try to download them.
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  if (fs.existsSync(path.join(prefix, "include", "node", "common.gypi"))) return [`--nodedir=${prefix}`];
  return [];
}

/** The most telling line of a failed build: the first compiler/linker error, else the last gyp error. */
function firstError(output) {
  const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
  const compiler = lines.find((l) => /(fatal error|error):/.test(l) && !/^gyp (ERR|info)/.test(l));
  const linker = lines.find((l) => /cannot find -l|undefined reference/.test(l));
  const gyp = lines.filter((l) => /^gyp ERR!/.test(l) && !/(cwd|node -v|node-gyp -v|command|System|not ok)/.test(l));
  const line = compiler || linker || gyp[0] || lines[lines.length - 1] || "no output";
  return line.length > 240 ? line.slice(0, 237) + "..." : line;
}

function main() {
  if (process.env.CONVLAB_SKIP_NATIVE === "1") {
    finish(
      "convlab engine: native kernels skipped (CONVLAB_SKIP_NATIVE=1). Training falls back to WebAssembly.",
    );
  }
  if (process.platform !== "linux") notBuilt(`unsupported platform ${process.platform}; only Linux is supported`);

  const header = findIn(includeDirs(), path.join("oneapi", "dnnl", "dnnl.hpp"));
  if (!header) notBuilt("oneDNN headers not found: /usr/include/oneapi/dnnl/dnnl.hpp");
  if (!findIn(libraryDirs(), "libdnnl.so")) notBuilt("oneDNN library not found: libdnnl.so");
  const cxx = process.env.CXX || "g++";
  if (!onPath(cxx)) notBuilt(`C++ compiler not found: ${cxx}`);
  try {
    require.resolve("node-addon-api", { paths: [PACKAGE_DIR] });
  } catch {
    notBuilt("node-addon-api is not installed");
  }
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) notBuilt("node-gyp not found");

  const env = { ...process.env };
  if (process.env.CONVLAB_OPENBLAS === "1" && !findIn(includeDirs(), "cblas.h")
      && !findIn(includeDirs().map((d) => path.join(d, "x86_64-linux-gnu")), "cblas.h")) {
    env.CONVLAB_OPENBLAS = "0";
  }
  const args = [nodeGyp, "rebuild", "--release", `--jobs=${Math.max(1, os.cpus().length)}`, ...nodedirArgs()];
  const build = spawnSync(process.execPath, args, {
    cwd: PACKAGE_DIR,
    env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 20 * 60 * 1000,
  });
  const output = `${build.stdout || ""}\n${build.stderr || ""}`;
  try {
    fs.mkdirSync(BUILD_DIR, { recursive: true });
    fs.writeFileSync(LOG_FILE, `$ node ${args.join(" ")}\n${output}`);
  } catch {
    // best effort
  }
  const logHint = `full log: ${path.relative(process.cwd(), LOG_FILE) || LOG_FILE}`;
  if (build.error) notBuilt(`node-gyp did not run: ${build.error.message}; ${logHint}`);
  if (build.status !== 0 || !fs.existsSync(ADDON)) notBuilt(`build failed: ${firstError(output)}; ${logHint}`);

  // Load it in a child process: a library missing at run time must not take this script down.
  const check = spawnSync(
    process.execPath,
    ["-e", `process.stdout.write(JSON.stringify(require(${JSON.stringify(ADDON)}).info()))`],
    { encoding: "utf8", timeout: 60 * 1000 },
  );
  if (check.status !== 0) {
    const reason = (check.stderr || "").split("\n").find((l) => /Error/.test(l)) || `exit status ${check.status}`;
    notBuilt(`built but failed to load: ${reason.trim()}`);
  }
  let info = {};
  try {
    info = JSON.parse(check.stdout);
  } catch {
    // keep the generic message
  }
  const where = path.relative(process.env.INIT_CWD || process.cwd(), ADDON) || ADDON;
  finish(
    `convlab engine: native kernels built (oneDNN ${info.onednn}, ${info.isa}, ${info.threads} threads): ${where}`,
  );
}

try {
  main();
} catch (error) {
  notBuilt(`unexpected error: ${String((error && error.message) || error).split("\n")[0]}`);
}
