/**
 * The lesson-1 model trained as the course trains it (Keras's RMSprop from @convlab/layers,
 * categorical cross-entropy, 5 epochs, batch 64) on Debian's Fashion-MNIST
 * (`apt-get install dataset-fashion-mnist`), then evaluated on the test set.
 * Prints the backend, the wall time of fit and the test accuracy.
 *   node bench/fashion_mnist.js [epochs]
 */
"use strict";
const fs = require("fs");
const zlib = require("zlib");
const tf = require("@tensorflow/tfjs");
const engine = require("@convlab/engine");
const layers = require("@convlab/layers");
const { firstModel } = require("./models");

const DIR = "/usr/share/datasets/fashion-mnist";

/** An IDX file's payload after its header (magic, dims). */
function idx(name) {
  const bytes = zlib.gunzipSync(fs.readFileSync(`${DIR}/${name}`));
  const dims = bytes[3];
  const header = 4 + 4 * dims;
  return new Uint8Array(bytes.buffer, bytes.byteOffset + header, bytes.length - header);
}

function load(prefix) {
  const images = idx(`${prefix}-images-idx3-ubyte.gz`);
  const labels = idx(`${prefix}-labels-idx1-ubyte.gz`);
  const n = labels.length;
  const x = tf.tidy(() => tf.tensor4d(images, [n, 28, 28, 1], "int32").toFloat().div(255));
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 10).toFloat());
  return { x, y, n };
}

async function main() {
  const epochs = Number(process.argv[2] ?? 5);
  const choice = await engine.ready();
  const train = load("train");
  const test = load("t10k");
  const model = firstModel(tf);
  layers.compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  const start = Date.now();
  await model.fit(train.x, train.y, {
    epochs,
    batchSize: 64,
    shuffle: true,
    callbacks: { onEpochEnd: (epoch, logs) => console.log(`epoch ${epoch + 1}/${epochs}: loss ${logs.loss.toFixed(4)} acc ${logs.acc.toFixed(4)} (${((Date.now() - start) / 1000).toFixed(1)} s)`) },
  });
  const fitSeconds = (Date.now() - start) / 1000;
  const [loss, acc] = model.evaluate(test.x, test.y, { batchSize: 1000 });
  console.log(JSON.stringify({ backend: choice.backend, epochs, fitSeconds, samplesPerSec: (train.n * epochs) / fitSeconds, testLoss: (await loss.data())[0], testAccuracy: (await acc.data())[0] }));
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
