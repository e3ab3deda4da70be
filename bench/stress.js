/**
 * Re-runs each lesson notebook several times in ONE kernel and reports what
 * stays behind: tf.js tensors, RSS and heap after every run. A notebook that
 * leaks tensors or memory shows growth from run 1 to run N.
 *
 *   node bench/stress.js [--runs 3] [--full] [notebooks...]
 *
 * Default notebooks: notebooks/[0-9][0-9]-*.ipynb. The kernel runs in
 * notebooks/ with the reduced parameters of test/reduced-params.json
 * (as CONVLAB_<KEY> variables) unless --full. It is started with
 * --expose-gc so the probe measures after a full garbage collection.
 * A failing cell stops that notebook (the next one still runs).
 */
"use strict";
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const NOTEBOOKS = path.join(ROOT, "notebooks");
const { KernelClient, defaultCliPath, stripAnsi } = require(path.join(ROOT, "packages/kernel/dist/client.js"));
const { paramEnvName } = require(path.join(ROOT, "packages/kernel/dist/params.js"));
const { readNotebook, cellSource } = require(path.join(ROOT, "packages/kernel/dist/notebook_file.js"));

// Measured after every run; declares nothing, so it can run again in the same kernel.
const PROBE = [
  'import * as stressProbeTf from "@tensorflow/tfjs";',
  "(globalThis as any).gc?.();",
  "console.log(JSON.stringify({ tensors: stressProbeTf.memory().numTensors, variables: Object.keys(stressProbeTf.engine().registeredVariables).length, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed }));",
].join("\n");

function parseArgs(argv) {
  const options = { runs: 3, full: false, notebooks: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--full") options.full = true;
    else if (arg === "--runs" || arg.startsWith("--runs=")) {
      const value = arg.includes("=") ? arg.slice(7) : argv[++i];
      options.runs = Number(value);
      if (!Number.isInteger(options.runs) || options.runs < 1) {
        throw new Error(`stress: invalid --runs ${JSON.stringify(value)}. Expected a whole number >= 1, e.g. --runs 3.`);
      }
    } else if (arg.startsWith("-")) {
      throw new Error(`stress: unknown option ${JSON.stringify(arg)}. Expected --runs N, --full or notebook paths.`);
    } else options.notebooks.push(path.resolve(arg));
  }
  if (options.notebooks.length === 0) {
    options.notebooks = fs
      .readdirSync(NOTEBOOKS)
      .filter((name) => /^\d\d-.*\.ipynb$/.test(name))
      .sort()
      .map((name) => path.join(NOTEBOOKS, name));
  }
  return options;
}

/** CONVLAB_<KEY> variables for the reduced parameters of `name` (none with --full). */
function paramsEnv(name, full) {
  if (full) return {};
  const reduced = JSON.parse(fs.readFileSync(path.join(ROOT, "test/reduced-params.json"), "utf8"))[name] ?? {};
  return Object.fromEntries(Object.entries(reduced).map(([key, value]) => [paramEnvName(key), String(value)]));
}

function codeCells(file) {
  return readNotebook(file).cells.filter((cell) => cell.cell_type === "code").map(cellSource);
}

/** "TypeError: x is not defined" from a failed execute, or the kernel's death. */
function describeFailure(reply, outputs) {
  const error = outputs.find((o) => o.output_type === "error");
  const name = error?.ename ?? reply.content.ename ?? "Error";
  const value = stripAnsi(String(error?.evalue ?? reply.content.evalue ?? "")).split("\n")[0];
  return `${name}: ${value}`;
}

function streamText(outputs) {
  return outputs
    .filter((o) => o.output_type === "stream" && o.name === "stdout")
    .map((o) => o.text)
    .join("");
}

const mb = (bytes) => Math.round(bytes / 2 ** 20);
const signed = (n) => (n > 0 ? `+${n}` : String(n));

/** Runs one notebook `runs` times in one kernel; returns the probe of each completed run and why it stopped, if it did. */
async function stressNotebook(file, options) {
  const name = path.basename(file);
  const cells = codeCells(file);
  const probes = [];
  const kernel = await KernelClient.start({
    cwd: NOTEBOOKS,
    env: paramsEnv(name, options.full),
    argv: [process.execPath, "--expose-gc", defaultCliPath(), "kernel", "{connection_file}"],
  });
  try {
    for (let run = 1; run <= options.runs; run++) {
      const started = Date.now();
      for (let i = 0; i < cells.length; i++) {
        if (cells[i].trim() === "") continue;
        let result;
        try {
          result = await kernel.execute(cells[i]);
        } catch (error) {
          const stop = `${name} run ${run}: cell ${i + 1} stopped the notebook: ${error.message}`;
          console.log(stop);
          return { probes, stop };
        }
        if (result.reply.content.status !== "ok") {
          const stop = `${name} run ${run}: cell ${i + 1} failed: ${describeFailure(result.reply, result.outputs)}`;
          console.log(stop);
          return { probes, stop };
        }
      }
      const seconds = (Date.now() - started) / 1000;
      const { reply, outputs } = await kernel.execute(PROBE);
      if (reply.content.status !== "ok") {
        const stop = `${name} run ${run}: the probe failed: ${describeFailure(reply, outputs)}`;
        console.log(stop);
        return { probes, stop };
      }
      const probe = { run, seconds, ...JSON.parse(streamText(outputs).trim().split("\n").pop()) };
      probes.push(probe);
      console.log(
        `${name}  run ${run}  ${seconds.toFixed(1)} s  tensors ${probe.tensors} (${probe.variables} variables)  RSS ${mb(probe.rss)} MB  heap ${mb(probe.heapUsed)} MB`,
      );
    }
    return { probes };
  } finally {
    await kernel.shutdown();
  }
}

function table(results, runs) {
  const lines = [
    `| notebook | seconds (run 1…${runs}) | tensors (run 1…${runs}) | Δ tensors | variables (run 1…${runs}) | RSS MB (run 1…${runs}) | Δ RSS MB | heap MB (run 1…${runs}) | Δ heap MB |`,
    "|---|---|---|---:|---|---|---:|---|---:|",
  ];
  for (const { name, probes, stop } of results) {
    const first = probes[0];
    const last = probes[probes.length - 1];
    const col = (f) => probes.map(f).join(" / ") || "–";
    const delta = (f) => (probes.length > 1 ? signed(f(last) - f(first)) : "–");
    lines.push(
      `| ${name}${stop ? " (stopped)" : ""} | ${col((p) => p.seconds.toFixed(1))} | ${col((p) => p.tensors)} | ${delta((p) => p.tensors)} | ${col((p) => p.variables)} | ` +
        `${col((p) => mb(p.rss))} | ${delta((p) => mb(p.rss))} | ${col((p) => mb(p.heapUsed))} | ${delta((p) => mb(p.heapUsed))} |`,
    );
  }
  return lines.join("\n");
}

async function main(argv) {
  const options = parseArgs(argv);
  console.log(`${options.notebooks.length} notebook(s), ${options.runs} run(s) each in one kernel, ${options.full ? "full" : "reduced"} parameters`);
  const results = [];
  for (const file of options.notebooks) {
    const name = path.basename(file);
    try {
      results.push({ name, ...(await stressNotebook(file, options)) });
    } catch (error) {
      const stop = `${name}: ${error.message}`;
      console.log(stop);
      results.push({ name, probes: [], stop });
    }
  }
  console.log(`\n${table(results, options.runs)}`);
  return results.some((r) => r.stop) ? 1 : 0;
}

if (require.main === module) {
  // Exiting (rather than dying on the signal) lets the client's exit hook kill the kernel.
  process.on("SIGINT", () => process.exit(130));
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error(error.message);
      process.exitCode = 2;
    },
  );
}

module.exports = { main };
