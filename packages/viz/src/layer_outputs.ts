/**
 * layerOutputs: what each layer of a model produces for one input, to show
 * feature maps layer by layer.
 */
import * as tf from "@tensorflow/tfjs";
import { expectOneOf, fail, show } from "@convlab/engine";

/** The activation of one layer for one input. */
export interface LayerOutput {
  /** The layer's name, e.g. "conv2d_Conv2D1". */
  name: string;
  /** The layer's class, e.g. "Conv2D". */
  className: string;
  /** Its output for the input, with a batch of 1: [1, H, W, C] for convolution and pooling layers. Dispose it when done. */
  activation: tf.Tensor;
}

/**
 * Runs one input through `model` and returns the outputs of the named layers.
 *
 * Builds a model over the same inputs whose outputs are those layers' outputs (weights are
 * shared, nothing is copied) and predicts once. The returned activations are the caller's to
 * dispose (`tf.dispose(outs.map((o) => o.activation))`); nothing else is left allocated. The
 * helper model is not disposed on purpose: `LayersModel.dispose()` would release the shared
 * layers and break `model`.
 *
 * @param model a built model with one input.
 * @param input one example, shaped like the model's input without ([28,28,1]) or with a batch of 1 ([1,28,28,1]).
 * @param layerNames which layers, in the order wanted; default every layer with a 4-D output
 *   (convolutions, pooling, batch normalization…), in model order.
 * @throws ConvlabError for a model not built or with several inputs, an input of another
 *   shape or with a batch larger than 1, an unknown layer name (suggesting the closest), a
 *   model without 4-D layers when no names are given.
 * @example
 * for (const out of layerOutputs(model, xTest.slice(0, 1))) display(featureMaps(out));
 *
 * Keras counterpart: `keras.Model(inputs=model.inputs, outputs=[l.output for l in layers]).predict(x)`
 * (the "visualizing intermediate activations" recipe).
 */
export function layerOutputs(model: tf.LayersModel, input: tf.Tensor, layerNames?: readonly string[]): LayerOutput[] {
  const unit = "layerOutputs";
  if (!(model instanceof tf.LayersModel)) {
    throw fail(`${unit}: invalid model. Expected a tf.LayersModel (tf.sequential() or tf.model()). Received: model=${show(model)}.`);
  }
  let inputs: tf.SymbolicTensor[] | undefined;
  try {
    inputs = model.inputs;
  } catch {
    inputs = undefined;
  }
  if (!inputs || inputs.length === 0) {
    throw fail(`${unit}: invalid model. Expected a built model: give its first layer an inputShape. Received: model ${JSON.stringify(model.name)} with no inputs yet.`);
  }
  if (inputs.length !== 1) {
    throw fail(`${unit}: invalid model. Expected a model with one input. Received: model ${JSON.stringify(model.name)} with ${inputs.length} inputs.`);
  }
  const expected = inputs[0].shape.slice(1);
  if (!(input instanceof tf.Tensor)) {
    throw fail(`${unit}: invalid input. Expected a tensor of shape [${expected.map((d) => d ?? "any").join(",")}] or with a batch of 1. Received: input=${show(input)}.`);
  }
  const batched = input.rank === expected.length + 1;
  const dims = batched ? input.shape.slice(1) : input.shape;
  if (
    (!batched && input.rank !== expected.length) ||
    (batched && input.shape[0] !== 1) ||
    dims.some((d, i) => expected[i] !== null && expected[i] !== d)
  ) {
    const hint = batched && input.shape[0] !== 1 ? " Pass one example, e.g. x.slice(0, 1)." : "";
    throw fail(`${unit}: invalid input. Expected one example of shape [${expected.map((d) => d ?? "any").join(",")}] or [1,${expected.map((d) => d ?? "any").join(",")}].${hint} Received: input=${show(input)}.`);
  }
  const layers = pickLayers(unit, model, layerNames);
  const sub = tf.model({ inputs, outputs: layers.map((l) => l.output as tf.SymbolicTensor) });
  const activations = tf.tidy(() => {
    const x0 = input.dtype === "float32" ? input : input.toFloat();
    const x = batched ? x0 : x0.expandDims(0);
    const y = sub.predict(x);
    return Array.isArray(y) ? y : [y];
  });
  return layers.map((layer, i) => ({ name: layer.name, className: layer.getClassName(), activation: activations[i] }));
}

function pickLayers(unit: string, model: tf.LayersModel, layerNames: readonly string[] | undefined): tf.layers.Layer[] {
  const all = model.layers.filter((l) => l.getClassName() !== "InputLayer");
  if (layerNames !== undefined) {
    if (!Array.isArray(layerNames) || layerNames.length === 0) {
      throw fail(`${unit}: invalid layerNames. Expected a non-empty array of layer names such as ["${all[0]?.name ?? "conv2d_1"}"]. Received: layerNames=${show(layerNames)}.`);
    }
    const names = all.map((l) => l.name);
    return layerNames.map((name) => all[names.indexOf(expectOneOf(unit, "layerName", name, names))]);
  }
  const imageLike = all.filter((l) => {
    try {
      return (l.output as tf.SymbolicTensor).shape.length === 4;
    } catch {
      return false; // a layer used several times has no single output
    }
  });
  if (imageLike.length === 0) {
    throw fail(`${unit}: invalid model. Expected layers with 4-D outputs (Conv2D, pooling…) or layerNames. Received: model ${JSON.stringify(model.name)} with layers ${all.map((l) => JSON.stringify(l.name)).join(", ")}.`);
  }
  return imageLike;
}
