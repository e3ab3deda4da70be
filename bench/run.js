/**
 * `npm run bench`: training and inference samples/s of the course's two
 * benchmark models on each convlab backend and on PyTorch (Debian's
 * python3-torch, tuned as an expert would), measured alternately in fresh
 * processes, medians of the rounds, and the ratios. A benchmark, not a test:
 * run it on an otherwise idle machine.
 *
 *   node bench/run.js [--rounds 3] [--seconds 10] [--backends native,wasm] [--models first,deep] [--no-torch]
 *   node bench/run.js augment [--rounds 3] [--seconds 5]     (bench/augment.js)
 *   node bench/run.js applications [--models MobileNetV2,…]  (bench/applications.js)
 *   node bench/run.js classroom [--kernels 1,2,4]              (bench/classroom.js)
 */
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const args = process.argv.slice(2);
if (args[0] === "augment") {
  // npm run bench -- augment: ImageDataGenerator against torchvision (bench/augment.js).
  require("./augment").main(args.slice(1));
  process.exit(0);
}
if (args[0] === "applications") {
  // npm run bench -- applications: Keras application models against torchvision (bench/applications.js).
  require("./applications").main(args.slice(1));
  return;
}
if (args[0] === "classroom") {
  // npm run bench -- classroom: lesson 1 trained in 1, 2 and 4 kernels at once (bench/classroom.js).
  require("./classroom").main(args.slice(1));
  return;
}
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const rounds = Number(opt("rounds", 3));
const seconds = Number(opt("seconds", 10));
const backends = opt("backends", "native,wasm").split(",");
const models = opt("models", "first,deep").split(",");
const withTorch = !args.includes("--no-torch");
const PYTHON = "/usr/bin/python3";

// Tuned PyTorch: OpenBLAS's own threads fight OpenMP's; glibc's malloc returns memory too eagerly.
const TORCH_ENV = {
  OPENBLAS_NUM_THREADS: "1",
  MALLOC_MMAP_THRESHOLD_: "33554432",
  MALLOC_TRIM_THRESHOLD_: "268435456",
  MALLOC_TOP_PAD_: "67108864",
};

function measure(system, model, mode) {
  const run =
    system === "pytorch"
      ? spawnSync(PYTHON, [path.join(__dirname, "torch_model.py"), model, mode, String(seconds)], { env: { ...process.env, ...TORCH_ENV }, encoding: "utf8" })
      : spawnSync(process.execPath, [path.join(__dirname, "tfjs_model.js"), model, mode, String(seconds)], { env: { ...process.env, CONVLAB_BACKEND: system }, encoding: "utf8" });
  const line = (run.stdout || "").trim().split("\n").pop();
  try {
    return JSON.parse(line).samplesPerSec;
  } catch {
    return { error: ((run.stderr || "") + (run.stdout || "")).trim().split("\n").slice(-1)[0] || `exit ${run.status}` };
  }
}

function torchAvailable() {
  return spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" }).status === 0;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function main() {
  const systems = [...backends];
  if (withTorch) {
    if (torchAvailable()) systems.push("pytorch");
    else console.log("PyTorch not found: apt-get install python3-torch libopenblas0-pthread (Debian) to compare against it.");
  }
  console.log(`convlab bench: ${os.cpus().length} cores, ${rounds} rounds of ${seconds} s, models ${models.join(", ")}, systems ${systems.join(", ")}`);
  const results = {};
  for (const model of models) {
    for (const mode of ["train", "infer"]) {
      const key = `${model}/${mode}`;
      results[key] = {};
      for (let round = 0; round < rounds; round++) {
        for (const system of systems) {
          const value = measure(system, model, mode);
          if (typeof value === "number") (results[key][system] ??= []).push(value);
          else {
            results[key][system] = value;
            console.log(`  ${key} ${system}: ${value.error}`);
          }
        }
      }
    }
  }
  console.log("");
  console.log("model/mode        system     samples/s (median)   ÷ PyTorch");
  for (const [key, bySystem] of Object.entries(results)) {
    const torch = Array.isArray(bySystem.pytorch) ? median(bySystem.pytorch) : undefined;
    for (const [system, values] of Object.entries(bySystem)) {
      if (!Array.isArray(values)) continue;
      const m = median(values);
      const ratio = torch && system !== "pytorch" ? (m / torch).toFixed(2) : "";
      console.log(`${key.padEnd(17)} ${system.padEnd(10)} ${m.toFixed(0).padStart(10)}  [${values.map((v) => v.toFixed(0)).join(", ")}]  ${ratio}`);
    }
  }
  fs.mkdirSync(path.join(__dirname, "..", ".convlab"), { recursive: true });
  fs.writeFileSync(path.join(__dirname, "..", ".convlab", "bench.json"), JSON.stringify({ date: new Date().toISOString(), rounds, seconds, results }, null, 1));
}

main();
