#!/usr/bin/env node
/**
 * `convlab` command line:
 *   convlab kernel <connection_file>      start the kernel (used by Jupyter)
 *   convlab install [--user | --sys-prefix | --prefix DIR | --jupyter-path DIR]
 *   convlab run <notebook.ipynb...> [--out DIR] [--param KEY=VALUE ...] [--timeout S]
 *   convlab notebook [DIR]               Jupyter Notebook on DIR with the kernel registered
 */
import "./parent";
import { fail } from "./errors";

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "kernel": {
      const { startKernel } = await import("./kernel");
      await startKernel(rest);
      return -1; // keeps running until shutdown
    }
    case "install": {
      const { installMain } = await import("./kernelspec");
      return installMain(rest);
    }
    case "run": {
      const { runMain } = await import("./runner");
      return runMain(rest);
    }
    case "notebook": {
      const { notebookMain } = await import("./notebook_server");
      return notebookMain(rest);
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage());
      return command === undefined ? 2 : 0;
    default:
      throw fail(`convlab: unknown command ${JSON.stringify(command)}. Expected one of kernel, install, run, notebook. Run \`npx convlab help\`.`);
  }
}

function usage(): string {
  return [
    "Usage:",
    "  convlab run <notebook.ipynb...> [--out DIR] [--param KEY=VALUE ...] [--timeout S]",
    "  convlab install [--user | --sys-prefix | --prefix DIR | --jupyter-path DIR]",
    "  convlab notebook [DIR]",
    "  convlab kernel <connection_file>",
    "",
  ].join("\n");
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
