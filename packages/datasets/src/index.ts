/**
 * @convlab/datasets: MNIST and Fashion-MNIST as Keras's `load_data()`
 * returns them, from local files (`$CONVLAB_DATA`, Keras's cache, Debian's
 * `dataset-fashion-mnist`) or downloaded, as {@link Uint8Tensor}s.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { loadDataset } from "@convlab/datasets";
 * const { train: [trainImages, trainLabels], classNames } = await loadDataset("mnist", { fallback: "fashion_mnist" });
 * const x = trainImages.reshape([-1, 28, 28, 1]).toTensor("float32", { scale: 1 / 255 }); // [60000,28,28,1]
 * const y = tf.oneHot(trainLabels.toTensor("int32"), classNames.length);                  // to_categorical
 * ```
 *
 * Keras equivalent: `keras.datasets.mnist.load_data()` and `keras.datasets.fashion_mnist.load_data()`.
 *
 * Also convlab's one downloader, {@link downloadFile} (Keras's `keras.utils.get_file`: md5 or
 * sha256 checked, atomic, through the environment's proxies, with a {@link progressPrinter}
 * line), which `@convlab/transfer` uses for Keras's ImageNet weights.
 *
 * @packageDocumentation
 */
export { Uint8Tensor, TO_TENSOR_DTYPES } from "./uint8_tensor";
export type { ToTensorArgs, ToTensorDtype } from "./uint8_tensor";
export { mnist, MNIST_CLASS_NAMES } from "./mnist";
export type { DatasetModule } from "./mnist";
export { fashionMnist, FASHION_MNIST_CLASS_NAMES } from "./fashion_mnist";
export { loadDataset } from "./load_dataset";
export type { Dataset, LoadDatasetArgs } from "./load_dataset";
export { DATASET_NAMES, DatasetNotFoundError, KERAS_BASE_URL, KERAS_SHA256 } from "./load_data";
export type { DatasetName, DatasetSplits, LoadDataArgs } from "./load_data";
export { downloadFile, DownloadError, progressPrinter, hashAlgorithm, hashFile } from "./download";
export type { DownloadRequest, DownloadProgress, DownloadStage, ProgressCallback, ProgressPrinterArgs, ProgressStream, HashAlgorithm } from "./download";
export { readIdxFile, parseIdx } from "./idx";
export { readNpzFile, parseNpy } from "./npz";
export { loadImage, decodeImage, COLOR_MODES } from "./image_file";
export type { LoadImageArgs, ColorMode } from "./image_file";
export { exportImageFolder, EXPORT_SPLITS } from "./export_image_folder";
export type { ExportImageFolderArgs, ExportImageFolderResult, ExportSplit, ImageLabels, LabelledImages } from "./export_image_folder";
export { syntheticScenes, SCENE_SHAPES, SCENE_BACKGROUNDS, DEFAULT_SCENE_CLASSES } from "./synthetic_scenes";
export type { SyntheticScenes, SyntheticScenesArgs, SceneTensors, SceneShape, SceneBackground } from "./synthetic_scenes";
export { readVocXml, readCocoJson, readYoloTxt, VOC_CLASS_NAMES } from "./annotations";
export type { ReadVocXmlArgs, VocAnnotation, VocObject, CocoDataset, CocoImage, CocoCategory, ReadYoloTxtArgs, YoloAnnotation } from "./annotations";
export { vocPalette, VOC_SEGMENTATION_CLASSES, VOC_VOID } from "./palette";
export type { Palette } from "./palette";
export { loadSegmentationFolder } from "./segmentation_folder";
export type { LoadSegmentationFolderArgs, SegmentationFolder } from "./segmentation_folder";
