/**
 * Child process of file_io.test.ts: builds a Dense model whose weights all
 * equal a marker and saves it, so the test can kill it mid-save or run it
 * as another user. Settings come from the environment:
 * CONVLAB_SAVE_URL (file:// URL), CONVLAB_SAVE_MARKER (number),
 * CONVLAB_SAVE_INPUT and CONVLAB_SAVE_UNITS (Dense size).
 * Prints "SAVING" right before model.save and "DONE" after it, or
 * "ERROR <message>" and exits with 1.
 */
import * as tf from "@tensorflow/tfjs";
import { registerFileIO } from "../file_io";

async function main(): Promise<void> {
  const url = process.env.CONVLAB_SAVE_URL ?? "";
  const marker = Number(process.env.CONVLAB_SAVE_MARKER ?? "1");
  const input = Number(process.env.CONVLAB_SAVE_INPUT ?? "4");
  const units = Number(process.env.CONVLAB_SAVE_UNITS ?? "2");
  await tf.setBackend("cpu");
  registerFileIO(tf);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units,
        inputShape: [input],
        kernelInitializer: tf.initializers.constant({ value: marker }),
        biasInitializer: tf.initializers.constant({ value: marker }),
      }),
    ],
  });
  process.stdout.write("SAVING\n");
  try {
    await model.save(url);
  } catch (e) {
    process.stdout.write(`ERROR ${(e as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write("DONE\n");
}

void main();
