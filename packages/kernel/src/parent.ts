/**
 * The kernel's parent: read when the command line starts (this module is its
 * first import), so a parent that dies while the kernel is still loading is
 * noticed too.
 */
/** The process that started this one, read as early as possible (Jupyter passes JPY_PARENT_PID). */
const STARTED_BY = Number(process.env.JPY_PARENT_PID) || process.ppid;
/** The real stderr: the kernel later routes process.stderr to the notebook. */
const writeLog = process.stderr.write.bind(process.stderr);

/** Exits when `parent` is gone: a kernel never outlives the notebook server or runner that started it. */
export function watchParent(parent = STARTED_BY): void {
  // Adopted by init before we could look: the starter died while Node was loading.
  // (Jupyter always passes JPY_PARENT_PID, so a Jupyter running as PID 1 is not mistaken.)
  if (parent === 1 && !process.env.JPY_PARENT_PID) gone();
  const timer = setInterval(() => {
    let alive = process.ppid === parent;
    if (!alive) {
      try {
        process.kill(parent, 0);
        alive = true;
      } catch (error) {
        alive = (error as NodeJS.ErrnoException).code === "EPERM";
      }
    }
    if (!alive) gone();
  }, 1000);
  timer.unref();
}

function gone(): never {
  writeLog("[convlab kernel] the process that started this kernel is gone; exiting\n");
  process.exit(0);
}

