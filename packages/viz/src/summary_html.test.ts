import { escapeHtml, summaryHtml, SummaryTable, thousands } from "./summary_html";
import { errorOf } from "./testing/png";

const TABLE: SummaryTable = {
  modelName: "sequential_1",
  columns: ["Layer (type)", "Output Shape", "Param #"],
  rows: [
    ["conv2d_1 (Conv2D)", "(None, 26, 26, 32)", "320"],
    ["max_pooling2d_1 (MaxPooling2D)", "(None, 13, 13, 32)", "0"],
    ["dense_1 (Dense)", "(None, 10)", "650"],
  ],
  totalParams: 93322,
  trainableParams: 93322,
  nonTrainableParams: 0,
};

describe("summaryHtml", () => {
  it("renders a table: caption, header, one row per layer, totals with thousands separators", () => {
    const html = summaryHtml(TABLE);
    expect(html).toContain('<caption style="text-align:left;font-weight:bold;padding:4px 0">Model: "sequential_1"</caption>');
    expect(html.match(/<th /g)).toHaveLength(3);
    expect(html.match(/<tr>/g)).toHaveLength(4);
    expect(html).toContain(">conv2d_1 (Conv2D)</td>");
    expect(html).toMatch(/text-align:right;[^"]*">320<\/td>/); // the Param # column is right-aligned
    expect(html).toContain("<b>Total params:</b> 93,322");
    expect(html).toContain("<b>Trainable params:</b> 93,322");
    expect(html).toContain("<b>Non-trainable params:</b> 0");
  });

  it("escapes text and keeps line breaks of multi-line cells", () => {
    const html = summaryHtml({ ...TABLE, modelName: "<b>x</b>", rows: [["a & b", "in\nout", "1"]] });
    expect(html).toContain('Model: "&lt;b&gt;x&lt;/b&gt;"');
    expect(html).toContain(">a &amp; b</td>");
    expect(html).toContain(">in<br>out</td>");
    expect(escapeHtml(`'"`)).toBe("&#39;&quot;");
    expect([thousands(0), thousands(999), thousands(1000), thousands(55744), thousands(1234567)]).toEqual(["0", "999", "1,000", "55,744", "1,234,567"]);
  });

  it("says what is wrong in one line", () => {
    expect(errorOf(() => summaryHtml({ ...TABLE, rows: [["a", "b"]] }))).toBe('summaryHtml: invalid rows. Expected 3 cells per row, one per column. Received: rows[0]=["a","b"].');
    expect(errorOf(() => summaryHtml({ ...TABLE, totalParams: "93322" as never }))).toBe('summaryHtml: invalid totalParams. Expected a number of parameters. Received: totalParams="93322".');
    expect(errorOf(() => summaryHtml(null as never))).toBe(
      "summaryHtml: invalid table. Expected { modelName, columns, rows, totalParams, trainableParams, nonTrainableParams } from summaryTable(model). Received: table=null.",
    );
  });
});
