#!/usr/bin/env node
/**
 * Measures the wasm fallback on the course's first model (not a test).
 *
 *   node packages/engine/bench/wasm.js [--threads=1,2] [--samples=640] [--epochs=3] [--rounds=2]
 *
 * For each thread count, a fresh Node process (threads are fixed once the
 * wasm backend starts) sets up wasm with setupWasm, warms up one epoch, then
 * reports training samples/s (batch 64, RMSprop, categoricalCrossentropy,
 * random 28×28×1 inputs) per epoch, and inference samples/s of
 * `predict(1000 samples, { batchSize: 1000 })`. Figures are medians; the
 * machine's load is printed because other processes skew them.
 *
 * Runs convlab's TypeScript sources directly (transpiled on load with the
 * workspace's `typescript`), so no build is needed.
 */
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith("--"))
    .map((a) => {
      const [k, v] = a.slice(2).split("=");
      return [k, v === undefined ? "true" : v];
    }),
);

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function courseModel(tf) {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1] }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 64, activation: "relu" }));
  m.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  m.compile({ optimizer: tf.train.rmsprop(0.001), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return m;
}

async function child() {
  const ts = require(require.resolve("typescript", { paths: [__dirname] }));
  // A require hook for the sources (not `node -r`: worker threads would inherit it).
  require.extensions[".ts"] = (module, filename) => {
    const out = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: filename,
    });
    module._compile(out.outputText, filename);
  };
  const tf = require(require.resolve("@tensorflow/tfjs", { paths: [__dirname] }));
  tf.env().set("IS_TEST", true); // silences the "install tfjs-node" banner
  const { setupWasm } = require(path.join(__dirname, "..", "src", "wasm", "setup.ts"));
  const threads = Number(args.threads);
  const samples = Number(args.samples ?? 640);
  const epochs = Number(args.epochs ?? 3);
  const setup = await setupWasm(tf, { threads });

  const model = courseModel(tf);
  const xs = tf.randomUniform([samples, 28, 28, 1]);
  const ys = tf.oneHot(tf.randomUniform([samples], 0, 10, "int32"), 10).toFloat();
  await model.fit(xs, ys, { batchSize: 64, epochs: 1 });
  const perEpoch = [];
  let last = 0;
  await model.fit(xs, ys, {
    batchSize: 64,
    epochs,
    callbacks: {
      onEpochBegin: async () => {
        last = performance.now();
      },
      onEpochEnd: async () => {
        perEpoch.push((samples * 1000) / (performance.now() - last));
      },
    },
  });

  const xi = tf.randomUniform([1000, 28, 28, 1]);
  const infer = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const p = model.predict(xi, { batchSize: 1000 });
    await p.data();
    p.dispose();
    if (i >= 2) infer.push(1000000 / (performance.now() - t));
  }
  process.stdout.write(
    JSON.stringify({
      threads: setup.threads,
      threadsReason: setup.threadsReason,
      simd: setup.simd,
      train: median(perEpoch),
      trainEpochs: perEpoch.map(Math.round),
      infer: median(infer),
    }) + "\n",
  );
  process.exit(0);
}

function parent() {
  const threadList = (args.threads ?? "1,2").split(",").map(Number);
  const rounds = Number(args.rounds ?? 2);
  console.log(`node ${process.version}, ${os.cpus().length} logical cores (${os.cpus()[0].model.trim()}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`course model, batch 64, ${args.samples ?? 640} random samples, ${args.epochs ?? 3} timed epochs after 1 warm-up; inference: predict 1000 at batchSize 1000`);
  const results = new Map(threadList.map((t) => [t, []]));
  for (let r = 0; r < rounds; r++) {
    for (const t of threadList) {
      const extra = ["samples", "epochs"].filter((k) => args[k] !== undefined).map((k) => `--${k}=${args[k]}`);
      const run = spawnSync(process.execPath, [__filename, "--child", `--threads=${t}`, ...extra], { encoding: "utf8", timeout: 600000 });
      if (run.status !== 0) {
        console.error(`threads=${t}: run failed\n${run.stderr}`);
        process.exitCode = 1;
        continue;
      }
      const res = JSON.parse(run.stdout.trim().split("\n").pop());
      results.get(t).push(res);
      console.log(
        `  round ${r + 1} threads=${res.threads}${res.threadsReason ? ` (${res.threadsReason})` : ""}: train ${res.train.toFixed(0)} samples/s (epochs ${res.trainEpochs.join(", ")}), inference ${res.infer.toFixed(0)} samples/s`,
      );
    }
  }
  console.log("medians over rounds:");
  for (const [t, list] of results) {
    if (list.length === 0) continue;
    console.log(`  threads=${t}: train ${median(list.map((r) => r.train)).toFixed(0)} samples/s, inference ${median(list.map((r) => r.infer)).toFixed(0)} samples/s`);
  }
  console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
}

if (args.child) {
  child().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  parent();
}
