/**
 * @convlab/detection: finding objects in images, for the lessons on localization, fully
 * convolutional networks and object detection.
 */
import type { ConvlabPlugin } from "@convlab/kernel";

export { BOX_FORMATS, convertBoxes, clipBoxes, validateBoxes, isRelativeFormat } from "./boxes";
export type { BoxFormat, BoxArray, ConvertBoxesArgs, ClipBoxesArgs, ValidateBoxesArgs, ValidatedBoxes, OnInvalidBox } from "./boxes";
export { iou, elementwiseIou } from "./iou";
export type { IouArgs } from "./iou";
export { nonMaxSuppression } from "./nms";
export type { NonMaxSuppressionArgs, SuppressedBoxes } from "./nms";
export { anchorGrid, encodeBoxes, decodeBoxes, matchAnchors, MATCH_NEGATIVE, MATCH_IGNORE } from "./anchors";
export type { AnchorGridArgs, BoxCodingArgs, MatchAnchorsArgs } from "./anchors";
export { averagePrecision, cocoMeanAveragePrecision, averagePrecisionTable, COCO_IOU_THRESHOLDS, COCO_RECALL_THRESHOLDS } from "./mean_average_precision";
export type { GroundTruth, Interpolation, AveragePrecisionArgs, AveragePrecisionResult, ClassAveragePrecision, CocoMeanAveragePrecisionArgs, CocoMeanAveragePrecisionResult, CocoClassAveragePrecision } from "./mean_average_precision";
export { detectionBackbone } from "./backbone";
export type { DetectionBackboneArgs } from "./backbone";
export { trainDetector } from "./detector";
export { GridDetector, gridDetector, DEFAULT_GRID_ANCHORS } from "./grid_detector";
export type { GridDetectorArgs, GridAssignment, GridTargets } from "./grid_detector";
export { SsdDetector, ssdDetector, DEFAULT_SSD_SCALES, DEFAULT_SSD_ASPECT_RATIOS, SSD_VARIANCE, SSD_STRIDES } from "./ssd_detector";
export type { SsdDetectorArgs, SsdTargets } from "./ssd_detector";
export { TwoStageDetector, twoStageDetector, DEFAULT_TWO_STAGE_ANCHOR_SIZES } from "./two_stage_detector";
export type { TwoStageDetectorArgs, RpnTargets, RoiTargets, Proposals } from "./two_stage_detector";
export { roiAlign } from "./roi_align";
export type { RoiAlignArgs } from "./roi_align";
export type { Detector, DetectorLoss, Detections, DetectionData, DetectArgs, ImageTargets, TrainDetectorArgs } from "./detector";
export { toFullyConvolutional } from "./fully_convolutional";
export type { ToFullyConvolutionalArgs } from "./fully_convolutional";

/** The kernel plugin of @convlab/detection (no renderer: boxes render through @convlab/viz images). */
export const plugin: ConvlabPlugin = {
  id: "@convlab/detection:plugin",
  description: "Box formats, IoU, NMS, anchors, classification + localization, fully convolutional networks, YOLO-, SSD- and two-stage detectors, mAP.",
  activate() {},
};
