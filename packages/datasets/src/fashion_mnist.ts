/**
 * Fashion-MNIST (Zalando): `fashionMnist.loadData()`, the counterpart of
 * `keras.datasets.fashion_mnist.load_data()`.
 */
import { LoadDataArgs, loadSplits } from "./load_data";
import type { DatasetModule } from "./mnist";

/** Fashion-MNIST's class names as Keras's documentation lists them, index = label. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

/**
 * Fashion-MNIST: 60,000 training and 10,000 test grayscale 28x28 images of
 * 10 kinds of clothing, a drop-in replacement for MNIST (same shapes, labels
 * 0-9 named by {@link FASHION_MNIST_CLASS_NAMES}). Besides the places MNIST is
 * looked for, Debian's `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist/`) is read.
 *
 * @example
 * ```ts
 * import { fashionMnist } from "@convlab/datasets";
 * const [[xTrain, yTrain], [xTest, yTest]] = await fashionMnist.loadData();
 * fashionMnist.classNames[yTrain.get(0)];   // "Ankle boot"
 * ```
 *
 * Keras equivalent: `keras.datasets.fashion_mnist.load_data()`, with the
 * arrays as {@link Uint8Tensor}s.
 */
export const fashionMnist: DatasetModule = Object.freeze({
  loadData: (options?: LoadDataArgs) => loadSplits("fashion_mnist", options),
  classNames: FASHION_MNIST_CLASS_NAMES,
});
