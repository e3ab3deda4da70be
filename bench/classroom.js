/**
 * `npm run bench -- classroom`: what one machine sustains when a class trains
 * at once. Runs lesson 1 (`notebooks/01-cnn-mnist.ipynb`, its own defaults
 * unless --param) in N kernels at the same time, each through `convlab run`,
 * for every N given, and reports per N: each run's wall time and training time
 * (the lesson prints "training took … s"), the test accuracy, lessons per hour,
 * the peak memory of one kernel and of all, and the lowest MemAvailable.
 * A benchmark, not a test: run it on an otherwise idle machine.
 *
 *   node bench/classroom.js [--kernels 1,2,4] [--param KEY=VALUE ...] [--notebook PATH]
 */
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const CLI = path.join(ROOT, "packages", "kernel", "dist", "cli.js");

function parseArgs(argv) {
  const options = { kernels: [1, 2, 4], params: [], notebook: path.join(ROOT, "notebooks", "01-cnn-mnist.ipynb") };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === "--kernels") options.kernels = value.split(",").map(Number);
    else if (argv[i] === "--param") options.params.push("--param", value);
    else if (argv[i] === "--notebook") options.notebook = path.resolve(value);
    else throw new Error(`classroom: unknown option ${JSON.stringify(argv[i])}. Expected --kernels 1,2,4, --param KEY=VALUE or --notebook PATH.`);
    i++;
  }
  return options;
}

/** Resident memory in bytes of `pid` and all its descendants, from /proc. */
function treeRss(pid) {
  const children = new Map();
  const rss = new Map();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const status = fs.readFileSync(`/proc/${entry}/status`, "utf8");
      const kb = Number((status.match(/VmRSS:\s+(\d+)/) || [0, 0])[1]);
      rss.set(Number(entry), kb * 1024);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop();
    total += rss.get(p) || 0;
    stack.push(...(children.get(p) || []));
  }
  return total;
}

function memAvailable() {
  const match = fs.readFileSync("/proc/meminfo", "utf8").match(/MemAvailable:\s+(\d+)/);
  return Number(match[1]) * 1024;
}

/** Runs N copies at once; resolves with each run's figures and the memory peaks. */
function classroom(n, options) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `convlab-classroom-${n}-`));
  const started = Date.now();
  const runs = [];
  for (let i = 0; i < n; i++) {
    const out = path.join(dir, `student-${i + 1}`);
    const child = spawn(process.execPath, [CLI, "run", options.notebook, "--out", out, ...options.params], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    runs.push({ child, out, peakRss: 0, done: new Promise((resolve) => child.on("close", (code) => resolve({ code, seconds: (Date.now() - started) / 1000, stderr }))) });
  }
  let peakTotal = 0;
  let minAvailable = memAvailable();
  const sampler = setInterval(() => {
    let total = 0;
    for (const run of runs) {
      const rss = treeRss(run.child.pid);
      run.peakRss = Math.max(run.peakRss, rss);
      total += rss;
    }
    peakTotal = Math.max(peakTotal, total);
    minAvailable = Math.min(minAvailable, memAvailable());
  }, 500);
  return Promise.all(runs.map((run) => run.done)).then((ends) => {
    clearInterval(sampler);
    const results = runs.map((run, i) => {
      const text = fs.existsSync(run.out) ? fs.readFileSync(path.join(run.out, path.basename(options.notebook)), "utf8") : "";
      const training = text.match(/training took ([\d.]+) s/);
      const accuracy = text.match(/test accuracy: ([\d.]+)/);
      if (ends[i].code !== 0) console.error(`classroom: run ${i + 1} of ${n} failed (exit ${ends[i].code}): ${ends[i].stderr.trim()}`);
      return { ...ends[i], training: training ? Number(training[1]) : NaN, accuracy: accuracy ? Number(accuracy[1]) : NaN, peakRss: run.peakRss };
    });
    fs.rmSync(dir, { recursive: true, force: true });
    return { n, results, peakTotal, minAvailable, wall: (Date.now() - started) / 1000 };
  });
}

const mb = (bytes) => Math.round(bytes / 2 ** 20).toLocaleString("en-US");
const range = (values, digits = 1) => {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return "n/a";
  const lo = Math.min(...finite).toFixed(digits);
  const hi = Math.max(...finite).toFixed(digits);
  return lo === hi ? lo : `${lo}–${hi}`;
};

async function main(argv) {
  const options = parseArgs(argv);
  console.log(`classroom: ${path.relative(ROOT, options.notebook)} ${options.params.join(" ")} on ${os.cpus().length} cores, ${mb(os.totalmem())} MB`);
  const rows = [];
  for (const n of options.kernels) {
    const load = os.loadavg()[0].toFixed(2);
    const { results, peakTotal, minAvailable, wall } = await classroom(n, options);
    const ok = results.filter((r) => r.code === 0).length;
    const row = [
      n,
      `${ok}/${n}`,
      range(results.map((r) => r.seconds)),
      range(results.map((r) => r.training)),
      range(results.map((r) => r.accuracy), 4),
      ((3600 * ok) / wall).toFixed(1),
      mb(Math.max(...results.map((r) => r.peakRss))),
      mb(peakTotal),
      mb(minAvailable),
      load,
    ];
    console.log(`  ${n} at once: ${row.slice(1).join(" | ")}`);
    rows.push(row);
  }
  console.log("");
  console.log("| kernels | finished | run s | training s | test accuracy | lessons/hour | peak MB per kernel | peak MB all | min MemAvailable MB | load before |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}

module.exports = { main };
if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
