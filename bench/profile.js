/**
 * Where a training step of the lesson-1 model (or MODEL=deep) spends its time, kernel by kernel
 * (tf.profile over 10 steps after 5 warm-up steps), and the mean step time.
 *   CONVLAB_BACKEND=native node bench/profile.js
 */
const tf = require("@tensorflow/tfjs");
const engine = require("@convlab/engine");
const { MODELS } = require("./models");
const buildModel = MODELS[process.env.MODEL || "first"]; // MODEL=deep for the deeper model
(async () => {
  await engine.ready({quiet:true});
  const model = buildModel(tf);
  model.compile({ optimizer: tf.train.rmsprop(0.001), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const x = tf.randomUniform([64, 28, 28, 1]); const y = tf.oneHot(tf.randomUniform([64], 0, 10, "int32"), 10).toFloat();
  for (let i=0;i<5;i++) await model.trainOnBatch(x, y);
  const times = {}, counts = {};
  const info = await tf.profile(async () => { for (let i=0;i<10;i++) await model.trainOnBatch(x, y); });
  for (const k of info.kernels) { times[k.name] = (times[k.name] || 0) + k.kernelTimeMs/10; counts[k.name]=(counts[k.name]||0)+1/10; }
  console.log(Object.entries(times).sort((a,b)=>b[1]-a[1]).slice(0,18).map(([k,v])=>`${k} ${v.toFixed(2)}ms x${counts[k]}`).join("\n"));
  let t0 = Date.now(); for (let i=0;i<20;i++) await model.trainOnBatch(x,y); console.log("ms/batch", (Date.now()-t0)/20);
})();
