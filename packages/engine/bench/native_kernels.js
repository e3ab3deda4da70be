#!/usr/bin/env node
/**
 * Micro-benchmark of the native addon's kernels on the course's shapes (batch 64).
 *
 *   node packages/engine/bench/native_kernels.js [--threads N] [--only conv|matmul|pool|step]
 *
 * CONVLAB_MATMUL=openblas selects OpenBLAS for matmul when the addon was built with
 * CONVLAB_OPENBLAS=1; CONVLAB_NATIVE_PATH points at another build; OMP_WAIT_POLICY or
 * GOMP_SPINCOUNT replace the loader's GOMP_SPINCOUNT=2000 (e.g. OMP_WAIT_POLICY=passive).
 * Prints one line per kernel: the median time of repeated calls after warm-up, and GFLOP/s
 * (GB/s for pooling); `step` times the kernels of one training step of the course's model.
 */
"use strict";
const path = require("path");

const file =
  process.env.CONVLAB_NATIVE_PATH || path.join(__dirname, "..", "build", "Release", "convlab_native.node");
// As loadNativeAddon() does (see src/native_addon.ts): libgomp reads it once, at load.
if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
  process.env.GOMP_SPINCOUNT = "2000";
}
const addon = require(file);

const argv = process.argv.slice(2);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
if (option("--threads")) addon.setNumThreads(Number(option("--threads")));
const only = option("--only");

function random(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** Median milliseconds per call of `fn`, after warm-up, over at least `minMs` of calls. */
function time(fn, minMs = 400) {
  for (let i = 0; i < 3; i++) fn();
  const samples = [];
  const start = process.hrtime.bigint();
  while (samples.length < 5 || Number(process.hrtime.bigint() - start) / 1e6 < minMs) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (samples.length >= 2000) break;
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function report(name, ms, work, unit) {
  const rate = work / (ms * 1e6);
  console.log(`${name.padEnd(52)} ${ms.toFixed(3).padStart(9)} ms ${rate.toFixed(1).padStart(8)} ${unit}`);
}

const info = addon.info();
console.log(
  `oneDNN ${info.onednn}, isa ${info.isa}, threads ${info.threads}, matmul ${info.matmul}, ` +
    `OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? ""} GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT ?? ""}, ` +
    `node ${process.version}`,
);

if (!only || only === "conv") {
  // [N, H, W, C] -> CO with a 3x3 filter, valid padding, stride 1: the course's three convs.
  const convs = [
    [64, 28, 28, 1, 32],
    [64, 13, 13, 32, 64],
    [64, 5, 5, 64, 64],
  ];
  for (const [N, H, W, C, CO] of convs) {
    const OH = H - 2, OW = W - 2;
    const xs = [N, H, W, C], ws = [3, 3, C, CO], ys = [N, OH, OW, CO];
    const x = random(N * H * W * C), w = random(9 * C * CO), dy = random(N * OH * OW * CO);
    const y = new Float32Array(dy.length), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
    const bias = random(CO);
    const flops = 2 * N * OH * OW * CO * 9 * C;
    const s = [1, 1], p = [0, 0, 0, 0], d = [1, 1];
    const label = `${H}x${W}x${C}->${CO} 3x3 b${N}`;
    report(`conv2d ${label}`, time(() => addon.conv2d(x, xs, w, ws, y, ys, s, p, d, null, 0)), flops, "GFLOP/s");
    report(`conv2d+bias+relu ${label}`, time(() => addon.conv2d(x, xs, w, ws, y, ys, s, p, d, bias, 1)), flops, "GFLOP/s");
    report(`conv2dBackwardData ${label}`, time(() => addon.conv2dBackwardData(dy, ys, w, ws, dx, xs, s, p, d)), flops, "GFLOP/s");
    report(`conv2dBackwardWeights ${label}`, time(() => addon.conv2dBackwardWeights(x, xs, dy, ys, dw, ws, s, p, d)), flops, "GFLOP/s");
  }
}

if (!only || only === "matmul") {
  // [batchA, batchB, m, n, k, transposeA, transposeB, what]
  const products = [
    [1, 1, 64, 64, 576, false, false, "dense1 forward [64,576]x[576,64]"],
    [1, 1, 64, 576, 64, false, true, "dense1 dX = dY W^T"],
    [1, 1, 576, 64, 64, true, false, "dense1 dW = X^T dY"],
    [1, 1, 64, 10, 64, false, false, "dense2 forward [64,64]x[64,10]"],
    [1, 1, 64, 64, 10, false, true, "dense2 dX = dY W^T"],
    [1, 1, 64, 10, 64, true, false, "dense2 dW = X^T dY"],
    [1, 1, 1000, 64, 576, false, false, "inference [1000,576]x[576,64]"],
    [1, 1, 1000, 10, 64, false, false, "inference [1000,64]x[64,10]"],
    [1, 1, 512, 512, 512, false, false, "square 512"],
    [8, 8, 64, 64, 64, false, false, "batched 8x[64,64]x[64,64]"],
  ];
  for (const [batchA, batchB, m, n, k, ta, tb, what] of products) {
    const a = random(batchA * m * k), b = random(batchB * k * n);
    const out = new Float32Array(Math.max(batchA, batchB) * m * n);
    const flops = 2 * Math.max(batchA, batchB) * m * n * k;
    report(`matmul ${what}`, time(() => addon.matmul(a, b, out, batchA, batchB, m, n, k, ta, tb, null, 0)), flops, "GFLOP/s");
  }
  const a = random(64 * 576), b = random(576 * 64), bias = random(64), out = new Float32Array(64 * 64);
  report(
    "matmul dense1 forward + bias + relu",
    time(() => addon.matmul(a, b, out, 1, 1, 64, 64, 576, false, false, bias, 1)),
    2 * 64 * 64 * 576,
    "GFLOP/s",
  );
}

if (!only || only === "pool") {
  // 2x2 max pooling after the course's first two convs; bytes = input + output (+ dy, dx).
  const pools = [
    [64, 26, 26, 32],
    [64, 11, 11, 64],
  ];
  for (const [N, H, W, C] of pools) {
    const OH = Math.floor(H / 2), OW = Math.floor(W / 2);
    const xs = [N, H, W, C], ys = [N, OH, OW, C];
    const x = random(N * H * W * C), y = new Float32Array(N * OH * OW * C), dy = random(y.length);
    const dx = new Float32Array(x.length);
    const label = `${H}x${W}x${C} 2x2/2 b${N}`;
    const fwdBytes = 4 * (x.length + y.length), bwdBytes = 4 * (2 * x.length + 2 * y.length);
    const k = [2, 2], p = [0, 0, 0, 0];
    report(`maxPool ${label}`, time(() => addon.maxPool(x, xs, y, ys, k, k, p)), fwdBytes, "GB/s");
    report(`maxPoolBackward ${label}`, time(() => addon.maxPoolBackward(dy, ys, x, xs, dx, k, k, p)), bwdBytes, "GB/s");
    report(`avgPool ${label}`, time(() => addon.avgPool(x, xs, y, ys, k, k, p)), fwdBytes, "GB/s");
    report(`avgPoolBackward ${label}`, time(() => addon.avgPoolBackward(dy, ys, dx, xs, k, k, p)), 4 * (x.length + y.length), "GB/s");
  }
}

if (!only || only === "step") {
  // The kernels of one training step of the course's first model (batch 64): three convs
  // with bias+relu, two 2x2 max pools, two Dense layers, and their gradients (no input
  // gradient for the first conv, which tfjs does not compute). JS/tfjs overhead excluded.
  const N = 64;
  const s = [1, 1], p = [0, 0, 0, 0], d = [1, 1], k2 = [2, 2];
  const convs = [[28, 1, 32], [13, 32, 64], [5, 64, 64]].map(([H, C, CO]) => {
    const xs = [N, H, H, C], ws = [3, 3, C, CO], ys = [N, H - 2, H - 2, CO];
    return { xs, ws, ys, x: random(N * H * H * C), w: random(9 * C * CO), b: random(CO),
      y: new Float32Array(N * (H - 2) ** 2 * CO), dy: random(N * (H - 2) ** 2 * CO),
      dx: new Float32Array(N * H * H * C), dw: new Float32Array(9 * C * CO) };
  });
  const pools = [[26, 32], [11, 64]].map(([H, C]) => {
    const O = H >> 1;
    return { xs: [N, H, H, C], ys: [N, O, O, C], x: random(N * H * H * C), y: new Float32Array(N * O * O * C),
      dy: random(N * O * O * C), dx: new Float32Array(N * H * H * C) };
  });
  const dense = [[64, 576], [10, 64]].map(([units, k]) => ({ units, k, x: random(N * k), w: random(k * units),
    b: random(units), y: new Float32Array(N * units), dy: random(N * units), dx: new Float32Array(N * k),
    dw: new Float32Array(k * units) }));
  const step = () => {
    for (const c of convs) addon.conv2d(c.x, c.xs, c.w, c.ws, c.y, c.ys, s, p, d, c.b, 1);
    for (const q of pools) addon.maxPool(q.x, q.xs, q.y, q.ys, k2, k2, p);
    for (const l of dense) addon.matmul(l.x, l.w, l.y, 1, 1, N, l.units, l.k, false, false, l.b, 1);
    for (const l of dense) {
      addon.matmul(l.dy, l.w, l.dx, 1, 1, N, l.k, l.units, false, true, null, 0);
      addon.matmul(l.x, l.dy, l.dw, 1, 1, l.k, l.units, N, true, false, null, 0);
    }
    for (const q of pools) addon.maxPoolBackward(q.dy, q.ys, q.x, q.xs, q.dx, k2, k2, p);
    convs.forEach((c, i) => {
      addon.conv2dBackwardWeights(c.x, c.xs, c.dy, c.ys, c.dw, c.ws, s, p, d);
      if (i > 0) addon.conv2dBackwardData(c.dy, c.ys, c.w, c.ws, c.dx, c.xs, s, p, d);
    });
  };
  const samples = [];
  for (let i = 0; i < 5; i++) step();
  const start = Date.now();
  while (Date.now() - start < 3000) {
    const t0 = process.hrtime.bigint();
    step();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  samples.sort((a, b) => a - b);
  console.log(
    `training step kernels, batch 64: mean ${mean.toFixed(2)} ms, median ${samples[samples.length >> 1].toFixed(2)} ms ` +
      `-> ${Math.round((64 / mean) * 1000)} samples/s (kernels only, ${samples.length} steps)`,
  );
}
