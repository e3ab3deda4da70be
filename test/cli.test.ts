/**
 * The README's runner command works from the repository root after the set-up
 * (`npx convlab …` resolves node_modules/.bin/convlab, which npm links only once
 * the kernel's dist/ exists).
 */
import { spawnSync } from "child_process";
import * as path from "path";

it("`npx convlab run --help` prints the runner's usage from the repository root", () => {
  const r = spawnSync("npx", ["--no-install", "convlab", "run", "--help"], { cwd: path.join(__dirname, ".."), encoding: "utf8" });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain("Usage: convlab run <notebook.ipynb...>");
});
