/**
 * One measurement in a fresh process: `node bench/tfjs_model.js <first|deep> <train|infer> <seconds>`
 * with CONVLAB_BACKEND set. Prints one JSON line: {backend, model, mode, samplesPerSec, samples, seconds}.
 */
"use strict";
const tf = require("@tensorflow/tfjs");
const engine = require("@convlab/engine");
const { MODELS } = require("./models");

async function main() {
  const [modelName = "first", mode = "train", secondsArg = "10"] = process.argv.slice(2);
  const seconds = Number(secondsArg);
  const choice = await engine.ready({ quiet: true });
  const model = MODELS[modelName](tf);
  model.compile({ optimizer: tf.train.rmsprop(0.001), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const batch = mode === "train" ? 64 : 1000;
  const n = mode === "train" ? batch * 16 : batch;
  const x = tf.randomUniform([n, 28, 28, 1]);
  const y = tf.oneHot(tf.randomUniform([n], 0, 10, "int32"), 10).toFloat();
  const step = async () => {
    if (mode === "train") await model.fit(x, y, { batchSize: batch, epochs: 1, shuffle: false, verbose: 0 });
    else {
      const p = model.predict(x, { batchSize: batch });
      await p.data();
      p.dispose();
    }
    return n;
  };
  await step(); // warm-up: primitives, allocations
  let samples = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    samples += await step();
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  process.stdout.write(JSON.stringify({ system: choice.backend, model: modelName, mode, samplesPerSec: samples / elapsed, samples, seconds: elapsed }) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
