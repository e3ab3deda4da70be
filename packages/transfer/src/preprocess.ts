/**
 * Keras's `preprocess_input` for the application models, and TF2's image resize.
 *
 * Each application family expects its pixels scaled as it was trained (Keras's
 * `keras/applications/imagenet_utils.py` and the `preprocess_input` of each model file):
 *
 * | mode    | formula (x: RGB in 0–255, channels last)                      | models                                                   |
 * |---------|----------------------------------------------------------------|----------------------------------------------------------|
 * | `caffe` | RGB → BGR, then minus the ImageNet means [103.939, 116.779, 123.68] (B, G, R) | VGG16/19, ResNet50/101/152 (v1)          |
 * | `tf`    | x / 127.5 − 1 (into [−1, 1])                                    | ResNet…V2, InceptionV3, InceptionResNetV2, Xception, MobileNet, MobileNetV2, NASNet |
 * | `torch` | x / 255, then (x − [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225] (R, G, B) | DenseNet121/169/201              |
 * | `none`  | unchanged: the model rescales inside (its first layers)         | MobileNetV3Small/Large, EfficientNetB0–B7                |
 */
import * as tf from "@tensorflow/tfjs";
import { closest, expectTargetSize, fail, show } from "@convlab/engine";
import { APPLICATION_NAMES } from "./applications/common";
import type { ApplicationName } from "./applications/common";

/** How a family of models wants its input pixels: see {@link preprocessInput}. */
export type PreprocessMode = "caffe" | "tf" | "torch" | "none";

const MODES: readonly PreprocessMode[] = ["caffe", "tf", "torch", "none"];

/**
 * The preprocessing each Keras application expects, by builder name, as Keras's
 * `keras.applications.<family>.preprocess_input` does it (checked against Keras 3's sources).
 *
 * @example
 * PREPROCESS_MODES.VGG16; // "caffe"
 * PREPROCESS_MODES.EfficientNetB0; // "none"
 */
export const PREPROCESS_MODES: Readonly<Record<ApplicationName, PreprocessMode>> = Object.freeze({
  VGG16: "caffe",
  VGG19: "caffe",
  ResNet50: "caffe",
  ResNet101: "caffe",
  ResNet152: "caffe",
  ResNet50V2: "tf",
  ResNet101V2: "tf",
  ResNet152V2: "tf",
  InceptionV3: "tf",
  InceptionResNetV2: "tf",
  Xception: "tf",
  MobileNet: "tf",
  MobileNetV2: "tf",
  MobileNetV3Small: "none",
  MobileNetV3Large: "none",
  DenseNet121: "torch",
  DenseNet169: "torch",
  DenseNet201: "torch",
  NASNetMobile: "tf",
  NASNetLarge: "tf",
  EfficientNetB0: "none",
  EfficientNetB1: "none",
  EfficientNetB2: "none",
  EfficientNetB3: "none",
  EfficientNetB4: "none",
  EfficientNetB5: "none",
  EfficientNetB6: "none",
  EfficientNetB7: "none",
});

/** ImageNet channel means in BGR order, 0–255 scale (Keras's caffe mode). */
const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];
/** ImageNet channel means and standard deviations in RGB order, 0–1 scale (Keras's torch mode). */
const TORCH_MEAN = [0.485, 0.456, 0.406];
const TORCH_STD = [0.229, 0.224, 0.225];

function resolveMode(mode: unknown): PreprocessMode {
  if (typeof mode === "string") {
    if ((MODES as readonly string[]).includes(mode)) return mode as PreprocessMode;
    if ((APPLICATION_NAMES as readonly string[]).includes(mode)) return PREPROCESS_MODES[mode as ApplicationName];
  }
  const hint = typeof mode === "string" ? closest(mode, [...MODES, ...APPLICATION_NAMES]) : undefined;
  throw fail(
    `preprocessInput: invalid mode. Expected "caffe", "tf", "torch", "none" or an application name such as "VGG16", "ResNet50", "MobileNetV2". Received: mode=${show(mode)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`,
  );
}

/** Checks `x` is a rank-3/4 tensor; `channels` (when given) is the required last dimension. */
function checkImages(unit: string, x: unknown, channels?: number): tf.Tensor3D | tf.Tensor4D {
  const expected = channels
    ? `a tensor of RGB images, shape [height, width, ${channels}] or [batch, height, width, ${channels}] (channels last), values in 0–255`
    : "a tensor of images, shape [height, width, channels] or [batch, height, width, channels]";
  if (!(x instanceof tf.Tensor)) throw fail(`${unit}: invalid x. Expected ${expected}. Received: x=${show(x)}.`);
  if (x.rank !== 3 && x.rank !== 4) {
    throw fail(`${unit}: invalid x. Expected ${expected}. Received: x=${show(x)}.`);
  }
  if (channels !== undefined && x.shape[x.rank - 1] !== channels) {
    const c = x.shape[x.rank - 1];
    const channelsFirst = x.shape[x.rank - 3] === channels;
    const hint = channelsFirst
      ? ` It looks channels-first: transpose it, e.g. x.transpose(${x.rank === 4 ? "[0, 2, 3, 1]" : "[1, 2, 0]"}).`
      : c === 1
        ? ` For grayscale images repeat the channel: tf.tile(x, ${x.rank === 4 ? "[1, 1, 1, 3]" : "[1, 1, 3]"}).`
        : "";
    throw fail(`${unit}: invalid x. Expected ${expected}. Received: x=${show(x)}.${hint}`);
  }
  return x as tf.Tensor3D | tf.Tensor4D;
}

/**
 * Scales RGB images as a Keras application expects them (Keras `preprocess_input`).
 *
 * Formulas by mode (per pixel, channels last): `"caffe"`: RGB → BGR, then minus the ImageNet
 * means [103.939, 116.779, 123.68] (B, G, R); `"tf"`: `x / 127.5 − 1`; `"torch"`:
 * `(x / 255 − [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]`; `"none"`: unchanged (the model
 * rescales inside). {@link PREPROCESS_MODES} says which mode each application uses.
 *
 * @param x RGB images, `[height, width, 3]` or `[batch, height, width, 3]`, values in 0–255
 *   (not 0–1: scale back first). Any dtype; int32 is cast. Not disposed.
 * @param mode An application name (`"VGG16"`, `"MobileNetV2"`, …) or a mode: `"caffe"`, `"tf"`,
 *   `"torch"`, `"none"`. Required: there is no silent default.
 * @returns A new float32 tensor of the same shape (also for `"none"`).
 * @throws ConvlabError when `x` is not a rank-3/4 tensor with 3 channels, or `mode` is unknown
 *   (with the nearest name: `"vgg16"` → `VGG16`).
 * @example
 * const model = await VGG16({ weights: "imagenet" });
 * const preds = model.predict(preprocessInput(images, "VGG16")) as tf.Tensor;
 * decodePredictions(preds, { top: 3 });
 *
 * Keras equivalent: `keras.applications.vgg16.preprocess_input(x)` (and the other families'),
 * or `keras.applications.imagenet_utils.preprocess_input(x, mode="caffe")`. Differences: the mode
 * is named here rather than implied by the module; channels last only (no `data_format`);
 * the result is a new tensor (Keras may write over a float NumPy input).
 */
export function preprocessInput<T extends tf.Tensor>(x: T, mode: ApplicationName | PreprocessMode): T {
  const images = checkImages("preprocessInput", x, 3);
  const family = resolveMode(mode);
  return tf.tidy((): tf.Tensor => {
    const xf = images.dtype === "float32" ? images : tf.cast(images, "float32");
    switch (family) {
      case "caffe":
        return tf.sub(tf.reverse(xf, -1), tf.tensor1d(CAFFE_MEAN_BGR));
      case "tf":
        return tf.sub(tf.div(xf, 127.5), 1);
      case "torch":
        return tf.div(tf.sub(tf.div(xf, 255), tf.tensor1d(TORCH_MEAN)), tf.tensor1d(TORCH_STD));
      case "none":
        return xf === images ? tf.clone(xf) : xf;
    }
  }) as T;
}

/**
 * Resizes images with TF2's `tf.image.resize` semantics: bilinear, half-pixel centres, no
 * antialiasing, float32 out. Use it to bring images to a model's input size (224×224 for most
 * applications, 299×299 for InceptionV3/Xception).
 *
 * Each output pixel (i, j) samples the input at `((i + 0.5) · inH / outH − 0.5, (j + 0.5) · inW /
 * outW − 0.5)`, clamped to the image, interpolating the 4 nearest pixels.
 *
 * @param x `[height, width, channels]` or `[batch, height, width, channels]`, any dtype. Not disposed.
 * @param size `[height, width]` of the output, positive integers.
 * @returns A new float32 tensor `[newHeight, newWidth, channels]` (or with the batch axis).
 * @throws ConvlabError when `x` is not a rank-3/4 tensor or `size` is not two positive integers.
 * @example
 * const x = preprocessInput(resizeImages(images, [224, 224]), "ResNet50");
 *
 * Keras equivalent: `keras.ops.image.resize(x, (224, 224))` / TF2 `tf.image.resize(x, (224, 224))`
 * (method bilinear, antialias off). tfjs's `tf.image.resizeBilinear` without `halfPixelCenters`
 * samples differently (TF1's `align_corners=False` grid), shifting the image by up to half a pixel.
 */
export function resizeImages<T extends tf.Tensor>(x: T, size: [number, number]): T {
  const images = checkImages("resizeImages", x);
  const [h, w] = expectTargetSize("resizeImages", size, "size");
  return tf.tidy(() => {
    const xf = images.dtype === "float32" ? images : tf.cast(images, "float32");
    return tf.image.resizeBilinear(xf, [h, w], false, true);
  }) as T;
}
