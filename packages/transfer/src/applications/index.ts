/**
 * Every Keras application builder, and the table of them by name (Keras's
 * `keras.applications` module), for code that goes through all of them: the model-zoo lesson,
 * the parameter-count tests.
 */
import type * as tf from "@tensorflow/tfjs";
import type { ApplicationArgs, ApplicationName } from "./common";
import { DenseNet121, DenseNet169, DenseNet201 } from "./densenet";
import { EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4, EfficientNetB5, EfficientNetB6, EfficientNetB7 } from "./efficientnet";
import { InceptionResNetV2 } from "./inception_resnet_v2";
import { InceptionV3 } from "./inception_v3";
import { MobileNet } from "./mobilenet";
import { MobileNetV2 } from "./mobilenet_v2";
import { MobileNetV3Large, MobileNetV3Small } from "./mobilenet_v3";
import { NASNetLarge, NASNetMobile } from "./nasnet";
import { ResNet101, ResNet101V2, ResNet152, ResNet152V2, ResNet50, ResNet50V2 } from "./resnet";
import { VGG16, VGG19 } from "./vgg";
import { Xception } from "./xception";

export { DenseNet121, DenseNet169, DenseNet201 } from "./densenet";
export { EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4, EfficientNetB5, EfficientNetB6, EfficientNetB7 } from "./efficientnet";
export type { EfficientNetArgs } from "./efficientnet";
export { InceptionResNetV2 } from "./inception_resnet_v2";
export { InceptionV3 } from "./inception_v3";
export { MobileNet } from "./mobilenet";
export type { MobileNetArgs } from "./mobilenet";
export { MobileNetV2 } from "./mobilenet_v2";
export type { MobileNetV2Args } from "./mobilenet_v2";
export { MobileNetV3Large, MobileNetV3Small } from "./mobilenet_v3";
export type { MobileNetV3Args } from "./mobilenet_v3";
export { NASNetLarge, NASNetMobile } from "./nasnet";
export { ResNet101, ResNet101V2, ResNet152, ResNet152V2, ResNet50, ResNet50V2 } from "./resnet";
export { MiniVGG, VGG16, VGG19 } from "./vgg";
export { Xception } from "./xception";

/** A builder of {@link APPLICATIONS}: Keras's options in, the model out. */
export type ApplicationBuilder = (args?: ApplicationArgs) => Promise<tf.LayersModel>;

/**
 * Every builder by its Keras name, in Keras's order:
 * `await APPLICATIONS.ResNet50({ weights: null })`.
 * Keras equivalent: `getattr(keras.applications, name)`.
 */
export const APPLICATIONS: Readonly<Record<ApplicationName, ApplicationBuilder>> = Object.freeze({
  VGG16, VGG19,
  ResNet50, ResNet101, ResNet152, ResNet50V2, ResNet101V2, ResNet152V2,
  InceptionV3, InceptionResNetV2, Xception,
  MobileNet, MobileNetV2, MobileNetV3Small, MobileNetV3Large,
  DenseNet121, DenseNet169, DenseNet201,
  NASNetMobile, NASNetLarge,
  EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4, EfficientNetB5, EfficientNetB6, EfficientNetB7,
});
