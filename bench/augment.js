/**
 * `npm run bench -- augment`: images/s of ImageDataGenerator on 150x150x3 images with the
 * course's augmentation (rotation 40, shifts 0.2, shear 0.2, zoom 0.2, horizontal flip), beside
 * torchvision's RandomAffine + RandomHorizontalFlip (Debian's python3-torchvision) on the same
 * image in the same run, and their ratio. Bilinear (Keras's default, interpolationOrder 1)
 * against torchvision's BILINEAR; nearest (interpolationOrder 0) against torchvision's default
 * NEAREST. convlab's figure counts whole float32 batch tensors (rescaled, as training receives
 * them); torchvision's is PIL images out, without ToTensor (its fastest path). Each system runs
 * in its own process, alternately, rounds times; medians are reported. Run it on an idle machine.
 *
 *   node bench/run.js augment [--rounds 3] [--seconds 5]
 */
"use strict";
const { spawnSync } = require("child_process");
const path = require("path");

const PYTHON = "/usr/bin/python3";
const IMAGE = path.join(__dirname, "..", "notebooks", "data", "chelsea.png");

function ours(order, seconds) {
  // Runs in a child: one engine per process, thread count from the environment.
  const tf = require("@tensorflow/tfjs");
  require("@convlab/engine");
  const { ImageDataGenerator } = require("@convlab/augmentation");
  const { decodeImage } = require("@convlab/datasets");
  const fs = require("fs");
  const cat = decodeImage(fs.readFileSync(IMAGE), { targetSize: [150, 150] });
  const n = 64;
  const data = new Uint8Array(n * cat.data.length);
  for (let i = 0; i < n; i++) data.set(cat.data, i * cat.data.length);
  const datagen = new ImageDataGenerator({
    rescale: 1 / 255, rotationRange: 40, widthShiftRange: 0.2, heightShiftRange: 0.2, shearRange: 0.2, zoomRange: 0.2,
    horizontalFlip: true, fillMode: "nearest", interpolationOrder: order,
  });
  const it = datagen.flow({ data, shape: [n, 150, 150, 3] }, undefined, { batchSize: 32, seed: 1 });
  for (let i = 0; i < 4; i++) tf.dispose(it.next());
  let images = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    const batch = it.next();
    images += batch.shape[0];
    batch.dispose();
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return images / elapsed;
}

const TORCH = `
import sys, time
import torch
from PIL import Image
from torchvision import transforms as T
torch.set_num_threads(1)
mode = {"bilinear": T.InterpolationMode.BILINEAR, "nearest": T.InterpolationMode.NEAREST}[sys.argv[1]]
seconds = float(sys.argv[2])
img = Image.open(sys.argv[3]).convert("RGB").resize((150, 150))
tr = T.Compose([T.RandomAffine(40, translate=(0.2, 0.2), scale=(0.8, 1.2), shear=0.2, interpolation=mode), T.RandomHorizontalFlip()])
for _ in range(50): tr(img)
n, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    tr(img); n += 1
print(n / (time.perf_counter() - start))
`;

function measure(system, order, seconds, threads) {
  const env = { ...process.env, CONVLAB_NUM_THREADS: String(threads) };
  const r =
    system === "torchvision"
      ? spawnSync(PYTHON, ["-c", TORCH, order === 1 ? "bilinear" : "nearest", String(seconds), IMAGE], { encoding: "utf8" })
      : spawnSync(process.execPath, [__filename, "--child", String(order), String(seconds)], { encoding: "utf8", env });
  if (r.status !== 0) throw new Error(`${system} failed: ${(r.stderr || r.stdout).trim().split("\n").pop()}`);
  return Number(r.stdout.trim().split("\n").pop());
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(args) {
  const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const rounds = opt("rounds", 3);
  const seconds = opt("seconds", 5);
  const torch = spawnSync(PYTHON, ["-c", "import torchvision"], { encoding: "utf8" }).status === 0;
  if (!torch) console.log("torchvision not found: apt-get install python3-torchvision (Debian) to compare against it.");
  const cores = require("os").cpus().length;
  console.log(`augmentation of 150x150x3 images, images/s (median of ${rounds} rounds of ${seconds} s; ${cores} cores)`);
  console.log("interpolation  convlab 1 thread  convlab " + `${cores} threads`.padEnd(9) + "  torchvision  ratio (1 thread)  ratio (all)");
  for (const order of [1, 0]) {
    const results = { one: [], all: [], torch: [] };
    for (let r = 0; r < rounds; r++) {
      results.one.push(measure("convlab", order, seconds, 1));
      results.all.push(measure("convlab", order, seconds, cores));
      if (torch) results.torch.push(measure("torchvision", order, seconds));
    }
    const one = median(results.one);
    const all = median(results.all);
    const tv = torch ? median(results.torch) : NaN;
    const f = (v) => (Number.isFinite(v) ? v.toFixed(0) : "-").padStart(8);
    const ratio = (v) => (Number.isFinite(tv) ? (v / tv).toFixed(2) : "-").padStart(8);
    console.log(`${(order === 1 ? "bilinear" : "nearest").padEnd(13)}  ${f(one)}          ${f(all)}           ${f(tv)}     ${ratio(one)}         ${ratio(all)}`);
  }
}

if (process.argv[2] === "--child") {
  console.log(String(ours(Number(process.argv[3]), Number(process.argv[4]))));
} else {
  module.exports = { main };
  if (require.main === module) main(process.argv.slice(2));
}
