/**
 * `convlab notebook [DIR] [--port N] [--no-browser]`: Debian's Jupyter
 * Notebook on DIR, on 127.0.0.1, with the convlab kernel registered in a
 * project-local JUPYTER_PATH (`.convlab/jupyter`). What `npm start` runs.
 */
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { fail } from "./errors";
import { DISPLAY_NAME, installKernelSpec, jupyterPython, KERNEL_NAME } from "./kernelspec";

/** The project-local JUPYTER_PATH entry under `root`, with the kernelspec installed. */
export function localJupyterPath(root: string): string {
  const dir = path.join(path.resolve(root), ".convlab", "jupyter");
  installKernelSpec(path.join(dir, "kernels"));
  return dir;
}

/**
 * Environment for a Jupyter process that finds the convlab kernel. Debian's Python 3.11
 * makes debugpy (loaded with ipykernel) print a four-line "frozen modules" warning at
 * `npm start`; PYDEVD_DISABLE_FILE_VALIDATION, debugpy's own switch, silences it.
 */
export function jupyterEnv(jupyterPath: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    ...base,
    JUPYTER_PATH: [jupyterPath, base.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
  };
}

export async function notebookMain(args: string[]): Promise<number> {
  let dir = "notebooks";
  let port: number | undefined;
  let browser = true;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--port") port = Number(args[++i]);
    else if (arg === "--no-browser") browser = false;
    else if (!arg.startsWith("--")) dir = arg;
    else throw fail(`convlab notebook: unknown option ${JSON.stringify(arg)}. Expected [DIR] [--port N] [--no-browser].`);
  }
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw fail(`convlab notebook: invalid --port. Expected a port number 1-65535. Received: ${args[args.indexOf("--port") + 1]}.`);
  }
  if (!fs.existsSync(dir)) throw fail(`convlab notebook: folder ${dir} does not exist. Expected the folder of the notebooks to serve.`);
  const jupyterPath = localJupyterPath(process.cwd());
  const python = jupyterPython();
  const chosenPort = port ?? (await freePort(8888));
  const token = process.env.CONVLAB_TOKEN || randomBytes(24).toString("hex");
  const argv = [
    "-m", "notebook",
    `--notebook-dir=${path.resolve(dir)}`,
    "--ip=127.0.0.1",
    `--port=${chosenPort}`,
    "--port-retries=0",
    `--NotebookApp.token=${token}`,
  ];
  if (!browser) argv.push("--no-browser");
  if (process.getuid?.() === 0) argv.push("--allow-root");
  const child = spawn(python, argv, { env: jupyterEnv(jupyterPath), stdio: "inherit" });
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", (error) =>
      reject(fail(`convlab notebook: cannot start Jupyter with ${python} (${error.message}). Install it: apt-get install jupyter-notebook (npm start does this).`)),
    );
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 + 2 : 1)));
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  const url = `http://127.0.0.1:${chosenPort}/?token=${token}`;
  const ready = await Promise.race([waitForKernelspec(chosenPort, token), exited.then(() => false)]);
  if (ready) {
    process.stdout.write(`\nconvlab: Jupyter Notebook is serving ${path.resolve(dir)} with the "${DISPLAY_NAME}" kernel.\nconvlab: open ${url}\n\n`);
  }
  return exited;
}

/** The first free TCP port on 127.0.0.1 from `start`. */
export async function freePort(start: number): Promise<number> {
  for (let port = start; port < start + 100; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw fail(`convlab notebook: no free port in ${start}-${start + 99}. Pass --port N.`);
}

/** Resolves true once the server lists the convlab kernelspec (polls for up to 60 s). */
export async function waitForKernelspec(port: number, token: string, timeoutMs = 60000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const specs = await getJson(`http://127.0.0.1:${port}/api/kernelspecs?token=${token}`).catch(() => undefined);
    if (specs?.kernelspecs?.[KERNEL_NAME]) return true;
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

function getJson(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => {
          try {
            resolve(JSON.parse(body));
          } catch (error) {
            reject(error);
          }
        });
      })
      .on("error", reject);
  });
}
