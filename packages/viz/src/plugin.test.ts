import * as tf from "@tensorflow/tfjs";
import type { MimeBundle, Renderer } from "@convlab/kernel";
import { confusionMatrix } from "./confusion_matrix";
import { Figure } from "./figure";
import { summary, summaryTable } from "@convlab/layers";
import { figureRenderer, modelRenderer, plugin } from "./plugin";
import { toPng } from "./to_png";
import { summaryHtml } from "./summary_html";
import { decode } from "./testing/png";

function activate(): Renderer[] {
  const added: Renderer[] = [];
  void plugin.activate({ renderers: { add: (r) => added.push(r) }, display: () => undefined, newDisplay: () => ({ update: () => undefined }) });
  return added;
}

function figure(): Figure {
  const x = tf.ones([2, 3]);
  const fig = new Figure(toPng(x, { scale: 2 }), { title: "ones" });
  x.dispose();
  return fig;
}

describe("plugin", () => {
  let model: tf.Sequential;
  beforeAll(() => {
    model = tf.sequential({ name: "tiny", layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
  });
  afterAll(() => model.dispose());

  it("is a plain object with a package-scoped id and adds uniquely named renderers", () => {
    expect(plugin.id).toBe("@convlab/viz:plugin");
    expect(typeof plugin.description).toBe("string");
    const renderers = activate();
    expect(renderers.map((r) => r.id)).toEqual(["@convlab/viz:figure", "@convlab/viz:model"]);
    expect(renderers).toEqual([figureRenderer, modelRenderer]);
  });

  it("every renderer ignores values it does not own, plain tensors included, without throwing", () => {
    const tensor = tf.zeros([2, 2]);
    const others: unknown[] = [tensor, "text", 3, null, undefined, {}, [1, 2], new Uint8Array(4), new Map(), { "image/png": new Uint8Array(4) }, { width: 2, height: 2, png: new Uint8Array(4) }, Symbol("x")];
    for (const renderer of activate()) for (const value of others) expect(renderer.render(value)).toBeUndefined();
    expect(figureRenderer.render(model)).toBeUndefined();
    expect(modelRenderer.render(figure())).toBeUndefined();
    tensor.dispose();
  });

  it("renders figures, confusion matrices included, as image/png with a text form", async () => {
    const fig = figure();
    const bundle = figureRenderer.render(fig) as MimeBundle;
    expect(Object.keys(bundle).sort()).toEqual(["image/png", "text/plain"]);
    expect(bundle["text/plain"]).toBe("<Figure 6x4: ones>");
    const img = await decode(bundle["image/png"] as Uint8Array);
    expect([img.width, img.height]).toEqual([6, 4]);
    const cm = confusionMatrix([0, 1], [0, 1]);
    const cmBundle = figureRenderer.render(cm) as MimeBundle;
    expect(cmBundle["text/plain"]).toMatch(/^<ConfusionMatrix \d+x\d+: 2 classes, accuracy 1\.0000, n=2>$/);
    expect((await decode(cmBundle["image/png"] as Uint8Array)).width).toBe(cm.width);
  });

  it("renders a model as the HTML summary table and the Keras text of @convlab/layers", () => {
    const bundle = modelRenderer.render(model) as MimeBundle;
    expect(Object.keys(bundle).sort()).toEqual(["text/html", "text/plain"]);
    expect(bundle["text/html"]).toBe(summaryHtml(summaryTable(model)));
    expect(bundle["text/plain"]).toBe(summary(model, { print: false }));
    expect(bundle["text/html"]).toContain("<b>Total params:</b> 8");
  });

  it("shows a model that is not built yet as one line of text", () => {
    const empty = tf.sequential({ name: "empty" });
    expect((modelRenderer.render(empty) as MimeBundle)["text/plain"]).toMatch(/^<Sequential "empty": .+>$/);
  });
});
