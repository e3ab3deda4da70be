/// <reference lib="dom" />
/**
 * The course as a student sees it: `npm start`'s Jupyter Notebook (classic 6.4 UI) driven by
 * Debian's headless Chromium through playwright-core. Lesson 01 runs with reduced parameters
 * (test/reduced-params.json, handed to the server's environment as CONVLAB_<KEY> so that the
 * kernel inherits them), and a long training is stopped with the toolbar's interrupt button.
 *
 * The server serves a temporary copy of the notebook (the page autosaves outputs into it), so
 * notebooks/ is never modified. Needs Debian's `chromium` (scripts/setup.sh); a full-page
 * screenshot goes to test/artifacts/browser-01.png.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Browser, chromium, Page } from "playwright-core";
import { CLI, ROOT, tmpDir } from "./helpers";

/** Debian's Chromium: browsers cannot be downloaded here, so playwright-core drives this one. */
const CHROMIUM = "/usr/bin/chromium";
const NOTEBOOK = "01-cnn-mnist.ipynb";
const TOKEN = "browser-test-token";
const ARTIFACTS = path.join(__dirname, "artifacts");
/** Generous limits for a busy 2-core machine; nothing is asserted about time. */
const RUN_ALL_MS = 900_000;
const STEP_MS = 180_000;

const reduced: Record<string, string | number | boolean> = JSON.parse(fs.readFileSync(path.join(__dirname, "reduced-params.json"), "utf8"))[NOTEBOOK];

let server: ChildProcess | undefined;
let serverLog = "";
let browser: Browser | undefined;
let page: Page;
let base = "";
let served = "";

/** A folder with a copy of the notebook; `node_modules` links to the repository's, so cells and plugins resolve as in notebooks/. */
function notebookCopy(): string {
  const dir = tmpDir("browser");
  fs.copyFileSync(path.join(ROOT, "notebooks", NOTEBOOK), path.join(dir, NOTEBOOK));
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

/** Starts `convlab notebook DIR --no-browser` (what `npm start` runs) and resolves its base URL. */
function startServer(dir: string): Promise<string> {
  const params = Object.fromEntries(Object.entries(reduced).map(([k, v]) => [`CONVLAB_${k.toUpperCase()}`, String(v)]));
  server = spawn(process.execPath, [CLI, "notebook", dir, "--no-browser"], {
    cwd: ROOT,
    env: { ...process.env, ...params, CONVLAB_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (d: Buffer) => (serverLog = (serverLog + d).slice(-20_000));
  server.stderr!.on("data", keep);
  return new Promise<string>((resolve, reject) => {
    server!.stdout!.on("data", (d) => {
      keep(d);
      const m = /convlab: open (http:\/\/127\.0\.0\.1:\d+)\/\?token=/.exec(serverLog);
      if (m) resolve(m[1]);
    });
    server!.on("exit", (code) => reject(new Error(`notebook server exited with ${code}:\n${serverLog}`)));
  });
}

/** Waits until the kernel is idle and no code cell is queued or running (or one failed). */
async function waitForCellsDone(timeout: number): Promise<void> {
  const done = page.waitForFunction(
    () => {
      const idle = document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
      const prompts = Array.from(document.querySelectorAll(".code_cell .input_prompt"), (p) => p.textContent ?? "");
      const failed = document.querySelector(".output_error") !== null;
      return idle && (failed || prompts.every((t) => !t.includes("*")));
    },
    undefined,
    { timeout, polling: 500 },
  );
  await done.catch(async (error) => {
    const prompts = await page.$$eval(".code_cell .input_prompt", (els) => els.map((e) => (e as HTMLElement).innerText.trim()));
    const kernel = await page.getAttribute("#kernel_indicator_icon", "class");
    throw new Error(`${error.message}\nprompts: ${prompts.join(" ")}\nkernel indicator: ${kernel}\nserver log:\n${serverLog.slice(-4000)}`);
  });
}

/** The text of every error output on the page, for failure messages. */
async function errorOutputs(): Promise<string[]> {
  return page.$$eval(".output_error", (els) => els.map((e) => (e as HTMLElement).innerText));
}

/** Inserts a code cell below the last one, holding `code`, and runs it with the toolbar's run button. */
async function runNewCell(code: string): Promise<number> {
  const index = await page.evaluate((source) => {
    const nb = (window as any).Jupyter.notebook;
    const cell = nb.insert_cell_at_bottom("code");
    cell.set_text(source);
    nb.select(nb.find_cell_index(cell));
    return nb.find_cell_index(cell);
  }, code);
  await page.click('#maintoolbar button[data-jupyter-action="jupyter-notebook:run-cell-and-select-next"]');
  return index;
}

/** The cell at `index` (its element). */
function cellAt(index: number) {
  return page.locator("#notebook-container > .cell").nth(index);
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the browser test drives Debian's Chromium. Install it: apt-get install chromium (scripts/setup.sh).`);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  served = notebookCopy();
  base = await startServer(served);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--disable-dev-shm-usage"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(STEP_MS);
  await page.goto(`${base}/notebooks/${NOTEBOOK}?token=${TOKEN}`);
  // The notebook's metadata names the convlab kernel; the page starts it and connects.
  await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.() === true, undefined, { timeout: STEP_MS });
  await page.waitForSelector("#kernel_indicator_icon.kernel_idle_icon", { timeout: STEP_MS });
}, STEP_MS + 60_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once("exit", r));
    server.kill("SIGINT");
    await exited;
  }
  if (served) {
    fs.unlinkSync(path.join(served, "node_modules"));
    fs.rmSync(served, { recursive: true, force: true });
  }
}, 60_000);

it(
  "runs 01-cnn-mnist in the notebook page with the convlab kernel: summary, training progress, pictures",
  async () => {
    expect(await page.evaluate(() => (window as any).Jupyter.notebook.kernel.name)).toBe("convlab");
    expect((await page.textContent("#kernel_indicator .kernel_indicator_name"))?.trim()).toBe("TypeScript (convlab)");

    // Cell > Run All, through the menu.
    await page.click("#celllink");
    await page.click("#run_all_cells > a");
    await page.waitForSelector(".code_cell .input_prompt:has-text('*')", { timeout: STEP_MS });
    await waitForCellsDone(RUN_ALL_MS);

    expect(await errorOutputs()).toEqual([]);
    const prompts = await page.$$eval(".code_cell .input_prompt", (els) => els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, "")));
    expect(prompts.length).toBeGreaterThan(10);
    for (const prompt of prompts) expect(prompt).toMatch(/^In\[\d+\]:$/);

    const text = await page.innerText("#notebook-container");
    // Keras's summary of the base and of the whole model.
    expect(text).toContain("Total params: 55,744");
    expect(text).toContain("Total params: 93,322");
    // The training cell's progress display, finished:
    // 29/29 [==============================] - 1s 25ms/step - loss: … - accuracy: … - val_loss: … - val_accuracy: …
    const training = await page.locator(".code_cell", { hasText: "await fit(model" }).locator(".output_area").allInnerTexts();
    expect(training.join("\n")).toMatch(/(\d+)\/\1 \[=+\] - .*loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4}/);
    expect(text).toContain("test accuracy:");
    expect(text).toContain("accuracy from the matrix:");

    // Pictures (the sample grid, training curves, predictions, confusion matrix) rendered as PNG.
    const images = await page.$$eval('.output_area img[src^="data:image/png"]', (els) =>
      els.map((img) => ({ width: (img as HTMLImageElement).naturalWidth, complete: (img as HTMLImageElement).complete })),
    );
    expect(images.length).toBeGreaterThanOrEqual(1);
    for (const image of images) expect(image).toMatchObject({ complete: true });
    expect(images[0].width).toBeGreaterThan(0);

    await fullPageScreenshot(path.join(ARTIFACTS, "browser-01.png"));
  },
  RUN_ALL_MS + STEP_MS,
);

it(
  "stops a long training with the toolbar's interrupt button and keeps the kernel alive",
  async () => {
    const before = await page.evaluate(() => (window as any).Jupyter.notebook.kernel.id);
    // A training far longer than the test waits: only the interrupt ends it.
    const fitCell = await runNewCell("await fit(model, xTrain, yTrain, { epochs: 1000, batchSize: 64 });");
    // Training is under way once the progress display shows a batch counter.
    await page.waitForFunction(
      (i) => /\d+\/\d+ \[/.test((document.querySelectorAll("#notebook-container > .cell")[i] as HTMLElement).innerText),
      fitCell,
      { timeout: STEP_MS, polling: 250 },
    );
    expect(await cellAt(fitCell).locator(".input_prompt").innerText()).toContain("*");

    await page.click('#maintoolbar button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]');

    // The cell ends (its prompt gets a number), the kernel goes idle, the error names the interrupt.
    await page.waitForFunction(
      (i) => {
        const cell = document.querySelectorAll("#notebook-container > .cell")[i] as HTMLElement;
        const prompt = cell.querySelector(".input_prompt")?.textContent ?? "";
        return /\[\d+\]/.test(prompt) && document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
      },
      fitCell,
      { timeout: STEP_MS, polling: 250 },
    );
    const stopped = await cellAt(fitCell).innerText();
    expect(stopped).toMatch(/KeyboardInterrupt|interrupted/);
    // Stopped early: the progress shows an epoch well before the 1000th.
    const epoch = /Epoch (\d+)\/1000/.exec(stopped);
    expect(epoch).not.toBeNull();
    expect(Number(epoch![1])).toBeLessThan(1000);

    // The same kernel goes on: a new cell runs, and what earlier cells defined is still there.
    const sum = await runNewCell("1 + 1");
    await waitForCellsDone(STEP_MS);
    expect((await cellAt(sum).locator(".output_area .output_subarea").innerText()).trim()).toBe("2");
    const state = await runNewCell("model.countParams()");
    await waitForCellsDone(STEP_MS);
    expect((await cellAt(state).locator(".output_area .output_subarea").innerText()).trim()).toBe("93322");
    // The interrupted training unwound (tfjs refuses a second fit while one is still under way).
    const again = await runNewCell("(await fit(model, xTrain, yTrain, { epochs: 1, batchSize: 64, verbose: 0 })).epoch.length");
    await waitForCellsDone(STEP_MS);
    expect((await cellAt(again).locator(".output_area .output_subarea").innerText()).trim()).toBe("1");
    expect(await page.evaluate(() => (window as any).Jupyter.notebook.kernel.id)).toBe(before);
    expect(await errorOutputs()).toEqual([expect.stringMatching(/KeyboardInterrupt|interrupted/)]);

    await fullPageScreenshot(path.join(ARTIFACTS, "browser-01-interrupt.png"));
  },
  4 * STEP_MS,
);

/**
 * The classic notebook scrolls inside #site, not the window, so Playwright's fullPage would
 * capture one screen: let the page grow to its content first, then restore the layout.
 */
async function fullPageScreenshot(file: string): Promise<void> {
  const style = await page.addStyleTag({
    content: "html, body, #site { height: auto !important; overflow: visible !important; } #site { position: static !important; }",
  });
  await page.screenshot({ path: file, fullPage: true });
  await style.evaluate((el) => (el as Element).remove());
}
