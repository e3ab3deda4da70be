/**
 * `loadDataset(name, { fallback })`: the notebooks' one call for a dataset,
 * with its class names, and a visible switch to another dataset when the
 * first is not available (MNIST is not packaged by Debian; Fashion-MNIST is).
 */
import { expectKnownKeys, expectOneOf, fail, show } from "@convlab/engine";
import { FASHION_MNIST_CLASS_NAMES } from "./fashion_mnist";
import { DATASET_NAMES, DatasetName, DatasetNotFoundError, DISPLAY_NAMES, InternalArgs, LoadDataArgs, loadSplits, OPTION_KEYS } from "./load_data";
import { MNIST_CLASS_NAMES } from "./mnist";
import type { Uint8Tensor } from "./uint8_tensor";

/** Options of {@link loadDataset}: those of `loadData()` plus `fallback`. */
export interface LoadDatasetArgs extends LoadDataArgs {
  /** The dataset to use, after one printed line, when `name` is not found anywhere and cannot be downloaded. */
  fallback?: DatasetName;
}

/** A loaded dataset with its names. */
export interface Dataset {
  /** The dataset actually loaded (the fallback's name when it was used). */
  name: DatasetName;
  /** Label names, index = label. */
  classNames: readonly string[];
  /** `[images Uint8Tensor[n,28,28], labels Uint8Tensor[n]]`. */
  train: [Uint8Tensor, Uint8Tensor];
  /** `[images, labels]` of the test split. */
  test: [Uint8Tensor, Uint8Tensor];
}

const CLASS_NAMES: Record<DatasetName, readonly string[]> = { mnist: MNIST_CLASS_NAMES, fashion_mnist: FASHION_MNIST_CLASS_NAMES };

/**
 * Loads `name` ("mnist" or "fashion_mnist") as `mnist.loadData()` /
 * `fashionMnist.loadData()` do, and returns it with its class names. When it
 * cannot be had (not found locally, download off or failed) and `fallback`
 * is given, prints one line and loads the fallback instead:
 * `datasets: MNIST not found (looked in …); using Fashion-MNIST instead.`
 *
 * @param name `"mnist"` or `"fashion_mnist"`.
 * @param options `fallback`, and the options of `loadData()`.
 * @throws ConvlabError on an unknown name (suggesting the nearest), when
 *   neither dataset can be had, or when a file is broken (a broken file never
 *   triggers the fallback: it is reported).
 *
 * @example
 * ```ts
 * const data = await loadDataset("mnist", { fallback: "fashion_mnist" });
 * const [trainImages, trainLabels] = data.train;
 * data.classNames[trainLabels.get(0)];
 * ```
 *
 * Keras equivalent: none in one call; `keras.datasets.mnist.load_data()` plus
 * a hand-written class-name list.
 */
export function loadDataset(name: DatasetName, options: LoadDatasetArgs = {}): Promise<Dataset> {
  return loadDatasetWith(name, options, {});
}

/** {@link loadDataset} with the internal options of the tests. */
export async function loadDatasetWith(name: DatasetName, options: LoadDatasetArgs, internal: InternalArgs): Promise<Dataset> {
  expectOneOf("loadDataset", "name", name, DATASET_NAMES);
  if (options === null || typeof options !== "object") {
    throw fail(`loadDataset: invalid options. Expected an object. Received: ${show(options)}.`);
  }
  expectKnownKeys("loadDataset", options, [...OPTION_KEYS, "fallback"]);
  const { fallback, ...loadOptions } = options;
  if (fallback !== undefined) expectOneOf("loadDataset", "fallback", fallback, DATASET_NAMES);
  try {
    return await build(name, loadOptions, internal);
  } catch (error) {
    if (!(error instanceof DatasetNotFoundError) || fallback === undefined || fallback === name) throw error;
    console.log(`datasets: ${DISPLAY_NAMES[name]} not found (looked in ${error.searched}); using ${DISPLAY_NAMES[fallback]} instead.`);
    return build(fallback, loadOptions, internal);
  }
}

async function build(name: DatasetName, options: LoadDataArgs, internal: InternalArgs): Promise<Dataset> {
  const [train, test] = await loadSplits(name, options, internal, "loadDataset");
  return { name, classNames: CLASS_NAMES[name], train, test };
}
