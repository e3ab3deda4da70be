/**
 * MNIST handwritten digits: `mnist.loadData()`, the counterpart of
 * `keras.datasets.mnist.load_data()`.
 */
import { DatasetSplits, LoadDataArgs, loadSplits } from "./load_data";

/** MNIST's class names: the digits `"0"` to `"9"`, index = label. */
export const MNIST_CLASS_NAMES: readonly string[] = Object.freeze(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);

/** A dataset module: `loadData()` and the names of its classes. */
export interface DatasetModule {
  /**
   * `[[xTrain, yTrain], [xTest, yTest]]`: images `Uint8Tensor[60000,28,28]`
   * and `[10000,28,28]` (pixels 0-255), labels `Uint8Tensor[60000]` and
   * `[10000]` (0-9), found locally or downloaded (see the package README for
   * the lookup order). Decoded once per process; later calls return the same
   * arrays (copy before writing into them).
   *
   * @param options `dataDir` (default `$CONVLAB_DATA`), `download` (default
   *   true), `baseUrl` (default `$CONVLAB_DATA_URL`, else Keras's URL),
   *   `onProgress` (default a line on stdout; `false` for none).
   * @throws ConvlabError when the data is nowhere and cannot be downloaded
   *   (saying where it looked and where to put which files), when a file is
   *   broken (naming it), or on an unknown or invalid option.
   */
  loadData(options?: LoadDataArgs): Promise<DatasetSplits>;
  /** The label names, index = label. */
  readonly classNames: readonly string[];
}

/**
 * MNIST: 60,000 training and 10,000 test grayscale 28x28 images of the
 * digits 0-9.
 *
 * @example
 * ```ts
 * import { mnist } from "@convlab/datasets";
 * const [[trainImages, trainLabels], [testImages, testLabels]] = await mnist.loadData();
 * trainImages.shape;                 // [60000, 28, 28]
 * trainLabels.get(0);                // 5
 * const x = trainImages.reshape([60000, 28, 28, 1]).toTensor("float32", { scale: 1 / 255 });
 * ```
 *
 * Keras equivalent: `(train_images, train_labels), (test_images, test_labels) = keras.datasets.mnist.load_data()`;
 * the arrays are {@link Uint8Tensor}s instead of NumPy `uint8` arrays. Keras's
 * `path` argument has no counterpart: use `dataDir` or `$CONVLAB_DATA`.
 */
export const mnist: DatasetModule = Object.freeze({
  loadData: (options?: LoadDataArgs) => loadSplits("mnist", options),
  classNames: MNIST_CLASS_NAMES,
});
