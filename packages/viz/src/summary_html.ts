/**
 * summaryHtml: a model summary table (from `summaryTable(model)` of
 * @convlab/layers) as an HTML table for the notebook.
 */
import { fail, show } from "@convlab/engine";
import type { SummaryTable } from "@convlab/layers";

export type { SummaryTable };

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** 93322 → "93,322", as Keras prints parameter counts. */
export function thousands(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Inline styles (they survive notebook viewers that drop <style> blocks). */
function cellStyle(header: boolean, right: boolean): string {
  return `padding:2px 12px;font-family:monospace;white-space:pre;text-align:${right ? "right" : "left"};border-bottom:${header ? "2px solid #999" : "1px solid #ddd"}`;
}

/**
 * The HTML of a model summary: a table with the model name as caption, one row per layer,
 * numeric columns ("Param #") right-aligned, then the total, trainable and non-trainable
 * parameter counts with thousands separators. Text is escaped; a newline in a cell becomes
 * a line break (Keras's "Connected to" lists).
 *
 * @throws ConvlabError when `table` lacks a field or a row's length differs from the columns'.
 * @example
 * display(mimeBundle({ "text/html": summaryHtml(summaryTable(model)) }))
 *
 * Keras counterpart: `model.summary()` (Keras 3 prints a rich table in notebooks).
 */
export function summaryHtml(table: SummaryTable): string {
  const unit = "summaryHtml";
  const t = table as Partial<SummaryTable> | null;
  if (!t || typeof t !== "object" || typeof t.modelName !== "string" || !Array.isArray(t.columns) || !Array.isArray(t.rows)) {
    throw fail(`${unit}: invalid table. Expected { modelName, columns, rows, totalParams, trainableParams, nonTrainableParams } from summaryTable(model). Received: table=${show(t === null || typeof t !== "object" ? t : Object.keys(t))}.`);
  }
  for (const key of ["totalParams", "trainableParams", "nonTrainableParams"] as const) {
    if (typeof t[key] !== "number" || !Number.isFinite(t[key])) {
      throw fail(`${unit}: invalid ${key}. Expected a number of parameters. Received: ${key}=${show(t[key])}.`);
    }
  }
  const bad = t.rows.findIndex((r) => !Array.isArray(r) || r.length !== t.columns!.length);
  if (bad >= 0) {
    throw fail(`${unit}: invalid rows. Expected ${t.columns.length} cells per row, one per column. Received: rows[${bad}]=${show(t.rows[bad])}.`);
  }
  const numeric = t.columns.map((c) => /param/i.test(c));
  const cell = (tag: "th" | "td", text: string, right: boolean) =>
    `<${tag} style="${cellStyle(tag === "th", right)}">${escapeHtml(String(text)).replace(/\n/g, "<br>")}</${tag}>`;
  const head = `<tr>${t.columns.map((c, i) => cell("th", c, numeric[i])).join("")}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((c, i) => cell("td", c, numeric[i])).join("")}</tr>`).join("\n");
  const totals = [
    ["Total params", t.totalParams],
    ["Trainable params", t.trainableParams],
    ["Non-trainable params", t.nonTrainableParams],
  ]
    .map(([name, n]) => `<b>${name}:</b> ${thousands(n as number)}`)
    .join("<br>\n");
  return [
    `<div class="convlab-summary">`,
    `<table style="border-collapse:collapse">`,
    `<caption style="text-align:left;font-weight:bold;padding:4px 0">Model: "${escapeHtml(t.modelName)}"</caption>`,
    `<thead>${head}</thead>`,
    `<tbody>\n${body}\n</tbody>`,
    `</table>`,
    `<p style="font-family:monospace">${totals}</p>`,
    `</div>`,
  ].join("\n");
}
