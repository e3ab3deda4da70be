/**
 * The course's two benchmark models, built the same way in TensorFlow.js
 * (here) and PyTorch (torch_model.py): the lesson-1 model and the deeper
 * model of "Hiperparámetros: Resumen".
 */
"use strict";

/** conv32 3x3, pool, conv64, pool, conv64, dense64, dense10 (93,322 parameters). */
function firstModel(tf) {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1] }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 64, activation: "relu" }),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
}

/** conv64 7x7 same, BN, pool, 2x conv128, pool, 2x conv256, pool, dense128, dropout, dense64, dropout, dense10. */
function deepModel(tf) {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 64, kernelSize: 7, activation: "relu", padding: "same", inputShape: [28, 28, 1] }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 128, kernelSize: 3, activation: "relu", padding: "same" }),
      tf.layers.conv2d({ filters: 128, kernelSize: 3, activation: "relu", padding: "same" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 256, kernelSize: 3, activation: "relu", padding: "same" }),
      tf.layers.conv2d({ filters: 256, kernelSize: 3, activation: "relu", padding: "same" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: "relu" }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 64, activation: "relu" }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
}

module.exports = { firstModel, deepModel, MODELS: { first: firstModel, deep: deepModel } };
