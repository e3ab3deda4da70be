/**
 * `npm run bench -- applications`: inference time of Keras application models (batch 1, default
 * input size, random weights) on convlab's engine, beside torchvision's model of the same
 * architecture (Debian's python3-torchvision, 1 and all threads as convlab) in the same run, and the
 * ratio. Medians of `--rounds` timed predictions after one warm-up. Run it on an idle machine.
 *
 *   node bench/run.js applications [--models MobileNetV2,EfficientNetB0,...] [--rounds 5]
 */
"use strict";
const { spawnSync } = require("child_process");
const os = require("os");

const PYTHON = "/usr/bin/python3";
/** Keras name -> torchvision constructor (same architecture). */
const TORCHVISION = {
  VGG16: "vgg16", ResNet50: "resnet50", InceptionV3: "inception_v3", MobileNetV2: "mobilenet_v2",
  MobileNetV3Small: "mobilenet_v3_small", MobileNetV3Large: "mobilenet_v3_large", DenseNet121: "densenet121",
  EfficientNetB0: "efficientnet_b0",
};

async function ours(name, rounds) {
  const tf = require("@tensorflow/tfjs");
  const { ready } = require("@convlab/engine");
  const { APPLICATIONS } = require("@convlab/transfer");
  await ready({ quiet: true });
  const model = await APPLICATIONS[name]({ weights: null });
  const x = tf.zeros([1, ...model.inputs[0].shape.slice(1)]);
  const once = async () => {
    const start = performance.now();
    const y = model.predict(x);
    await y.data();
    y.dispose();
    return performance.now() - start;
  };
  await once();
  const times = [];
  for (let i = 0; i < rounds; i++) times.push(await once());
  return median(times);
}

const TORCH = `
import sys, time, torch, torchvision
torch.set_num_threads(int(sys.argv[3]))
name, rounds = sys.argv[1], int(sys.argv[2])
kwargs = {"aux_logits": False, "init_weights": False} if name == "inception_v3" else {}
model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
size = 299 if name == "inception_v3" else 224
x = torch.zeros(1, 3, size, size)
times = []
with torch.no_grad():
    model(x)
    for _ in range(rounds):
        start = time.perf_counter(); model(x); times.append((time.perf_counter() - start) * 1000)
times.sort()
print(times[len(times) // 2])
`;

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(system, name, rounds, threads) {
  const r =
    system === "torchvision"
      ? spawnSync(PYTHON, ["-c", TORCH, TORCHVISION[name], String(rounds), String(threads)], { encoding: "utf8" })
      : spawnSync(process.execPath, [__filename, "--child", name, String(rounds)], { encoding: "utf8", env: { ...process.env, CONVLAB_NUM_THREADS: String(threads) } });
  if (r.status !== 0) return NaN;
  return Number(r.stdout.trim().split("\n").pop());
}

function main(args) {
  const opt = (key, fallback) => {
    const i = args.indexOf(`--${key}`);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const names = opt("models", "MobileNetV2,MobileNetV3Small,EfficientNetB0,ResNet50,VGG16").split(",");
  const rounds = Number(opt("rounds", 5));
  const cores = os.cpus().length;
  const torch = spawnSync(PYTHON, ["-c", "import torchvision"], { encoding: "utf8" }).status === 0;
  if (!torch) console.log("torchvision not found: apt-get install python3-torchvision (Debian) to compare against it.");
  console.log(`inference, batch 1, default input size, ms per image (median of ${rounds}; ${cores} cores)`);
  console.log("model              convlab 1 thr  convlab all  torchvision 1 thr  torchvision all  ratio 1 thr  ratio all");
  const f = (v) => (Number.isFinite(v) ? v.toFixed(1) : "-").padStart(11);
  for (const name of names) {
    const one = measure("convlab", name, rounds, 1);
    const all = measure("convlab", name, rounds, cores);
    const tv = torch && TORCHVISION[name];
    const tOne = tv ? measure("torchvision", name, rounds, 1) : NaN;
    const tAll = tv ? measure("torchvision", name, rounds, cores) : NaN;
    // Ratio as speed: above 1 means convlab is faster.
    const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) ? (b / a).toFixed(2) : "-").padStart(9);
    console.log(`${name.padEnd(17)} ${f(one)}  ${f(all)}  ${f(tOne)}        ${f(tAll)}      ${ratio(one, tOne)}    ${ratio(all, tAll)}`);
  }
}

if (process.argv[2] === "--child") {
  ours(process.argv[3], Number(process.argv[4])).then((ms) => console.log(String(ms)));
} else {
  module.exports = { main };
  if (require.main === module) main(process.argv.slice(2));
}
