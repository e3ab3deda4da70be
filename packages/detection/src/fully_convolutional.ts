/**
 * Turns a trained classifier into a fully convolutional network (FCN): every Dense layer
 * becomes a convolution carrying the same weights, so the network takes images of any size
 * and answers with a map of class scores, one per window of the original input size.
 *
 * The rule (Long, Shelhamer and Darrell, "Fully Convolutional Networks", 2015):
 * - the first Dense after `Flatten`, fed a feature map of `h × w × c`, becomes a `Conv2D` with
 *   an `h × w` kernel, stride 1 and `valid` padding; its `[h·w·c, units]` kernel is the same
 *   numbers reshaped to `[h, w, c, units]`, because Flatten reads the map row by row, channel
 *   fastest (channels-last);
 * - a Dense after `GlobalAveragePooling2D` / `GlobalMaxPooling2D` becomes a 1 × 1 `Conv2D` and the
 *   global pooling is dropped, so each position of the map gets the head's answer for its own
 *   feature vector (a class activation map);
 * - every later Dense becomes a 1 × 1 `Conv2D`; a softmax acts on the channel axis.
 *
 * A Flatten classifier's FCN gives, on the original input size, `[batch, 1, 1, classes]` with the
 * original's scores; on a larger image `[batch, H', W', classes]`, each position the original
 * classifier applied to one window (windows step by the base's total stride).
 */
import * as tf from "@tensorflow/tfjs";
import { expectOptions, fail, show } from "@convlab/engine";

/** Options of {@link toFullyConvolutional}. */
export interface ToFullyConvolutionalArgs {
  /** Name of the new model. Default `<name>_fcn`. */
  name?: string;
}

const UNIT = "toFullyConvolutional";
const KEYS = ["name"] as const;

/** Layers that act on each position alone or on a window: kept as they are (fresh copies). */
const SPATIAL = new Set([
  "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose", "MaxPooling2D", "AveragePooling2D", "BatchNormalization",
  "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
  "ZeroPadding2D", "Rescaling", "UpSampling2D", "LayerNormalization",
]);

/** The linear chain of layers of a classifier, nested models (a base inside a Sequential) unrolled. */
function chain(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) out.push(...chain(layer));
    else if (layer.getClassName() !== "InputLayer") out.push(layer);
  }
  return out;
}

/** A new layer of the same class and configuration (fresh weights, same name). */
function copyOf(layer: tf.layers.Layer): tf.layers.Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
  if (!entry) throw fail(`${UNIT}: unsupported layer. Expected layers registered with tfjs. Received: layer "${layer.name}" of class ${layer.getClassName()}.`);
  const [cls, fromConfig] = entry;
  const config = { ...layer.getConfig() } as tf.serialization.ConfigDict;
  delete config.batchInputShape;
  delete config.inputShape;
  return fromConfig(cls, config) as unknown as tf.layers.Layer;
}

function checkLinear(model: tf.LayersModel): void {
  const visit = (m: tf.LayersModel): void => {
    if (m.inputs.length !== 1 || m.outputs.length !== 1) {
      throw fail(`${UNIT}: invalid model. Expected one input and one output. Received: model "${m.name}" with ${m.inputs.length} inputs and ${m.outputs.length} outputs.`);
    }
    for (const layer of m.layers) {
      if (layer instanceof tf.LayersModel) visit(layer);
      else if (layer.inboundNodes.length > 0 && layer.inboundNodes[0].inboundLayers.length > 1) {
        throw fail(`${UNIT}: invalid model. Expected a chain of layers (each fed by the one before), as a classifier built with tf.sequential() or a base plus a head. Received: layer "${layer.name}" (${layer.getClassName()}) with ${layer.inboundNodes[0].inboundLayers.length} inputs.`);
      }
    }
  };
  visit(model);
}

/**
 * Converts a trained image classifier into a fully convolutional network with the same weights.
 *
 * Input: a model `[batch, h, w, c] → [batch, classes]` made of a chain of layers (a
 * `tf.sequential()`, or a base model followed by a head, nested models allowed): convolutions,
 * pooling, normalisation and activations, then `Flatten` or global pooling, then Dense layers
 * (Dropout allowed between them). Output: a model on `[batch, null, null, c]` whose output is
 * `[batch, H', W', classes]`: `H' = W' = 1` on the original size with `Flatten`; with global
 * pooling, the map of the feature map's size.
 *
 * Every weight is copied: the original model is not changed and the two share no layer.
 *
 * @throws ConvlabError for a model that is not a chain, that has no Dense layer, or that holds a
 *   layer mixing positions other than Flatten/global pooling (e.g. Reshape), naming the layer.
 * @example
 * ```ts
 * const fcn = toFullyConvolutional(classifier);         // Dense → Conv2D, weights carried over
 * const scores = fcn.predict(bigImages) as tf.Tensor4D; // [batch, H', W', classes]: a class heat map
 * ```
 * Keras equivalent: none built in; the FCN recipe done by hand (a `Conv2D(units, (h, w),
 * padding="valid")` per Dense, `set_weights([kernel.reshape(h, w, c, units), bias])`).
 */
export function toFullyConvolutional(model: tf.LayersModel, args: ToFullyConvolutionalArgs = {}): tf.LayersModel {
  if (!(model instanceof tf.LayersModel)) {
    throw fail(`${UNIT}: invalid model. Expected a tf.LayersModel (tf.sequential() or tf.model()). Received: model=${show(model)}.`);
  }
  const options = expectOptions(UNIT, args, KEYS, '{ name: "fcn" }');
  checkLinear(model);
  const inputShape = model.inputs[0].shape;
  if (inputShape.length !== 4) {
    throw fail(`${UNIT}: invalid model. Expected an image input [batch, height, width, channels]. Received: input shape ${show(inputShape)}.`);
  }
  const layers = chain(model);
  if (!layers.some((l) => l.getClassName() === "Dense")) {
    throw fail(`${UNIT}: invalid model. Expected a classifier with at least one Dense layer to convert. Received: model "${model.name}" without Dense layers.`);
  }

  const input = tf.input({ shape: [null, null, inputShape[3]] as unknown as number[], name: `${model.name}_fcn_input` });
  let x: tf.SymbolicTensor = input;
  const transfers: Array<[tf.layers.Layer, tf.Tensor[]]> = [];
  const made: tf.Tensor[] = [];
  // The window the next Dense reads: [h, w, c] after Flatten, [1, 1, c] after global pooling or a Dense.
  let window: number[] | undefined;
  for (const layer of layers) {
    const kind = layer.getClassName();
    const inShape = (layer.input as tf.SymbolicTensor).shape;
    if (kind === "Flatten") {
      window = inShape.slice(1) as number[];
    } else if (kind === "GlobalAveragePooling2D" || kind === "GlobalMaxPooling2D") {
      window = [1, 1, inShape[3] as number];
    } else if (kind === "Dense") {
      const [h, w, c] = window ?? [1, 1, inShape[inShape.length - 1] as number];
      const config = layer.getConfig();
      const units = config.units as number;
      const softmax = config.activation === "softmax";
      const conv = tf.layers.conv2d({
        filters: units,
        kernelSize: [h, w],
        padding: "valid",
        activation: (softmax ? "linear" : config.activation) as never,
        useBias: config.useBias as boolean,
        name: `${layer.name}_conv`,
      });
      x = conv.apply(x) as tf.SymbolicTensor;
      if (softmax) x = tf.layers.softmax({ axis: -1, name: `${layer.name}_softmax` }).apply(x) as tf.SymbolicTensor;
      const [kernel, ...bias] = layer.getWeights();
      const reshaped = kernel.reshape([h, w, c, units]);
      made.push(reshaped);
      transfers.push([conv, [reshaped, ...bias]]);
      window = undefined;
    } else if (kind === "Dropout" || SPATIAL.has(kind)) {
      if (window && window[0] * window[1] > 1 && kind !== "Dropout") {
        throw fail(`${UNIT}: unsupported layer order. Expected Dense right after Flatten (Dropout allowed between). Received: layer "${layer.name}" of class ${kind} after Flatten.`);
      }
      const fresh = copyOf(layer);
      x = fresh.apply(x) as tf.SymbolicTensor;
      transfers.push([fresh, layer.getWeights()]);
    } else {
      throw fail(`${UNIT}: unsupported layer. Expected convolutions, pooling, normalisation, activations, Dropout, Flatten, global pooling and Dense. Received: layer "${layer.name}" of class ${kind}.`);
    }
  }
  const fcn = tf.model({ inputs: input, outputs: x, name: options.name ?? `${model.name}_fcn` });
  for (const [layer, weights] of transfers) layer.setWeights(weights);
  tf.dispose(made); // the variables keep their own reference to the data
  return fcn;
}
