/**
 * Atomic replacement of a whole folder, shared by model saving (file_io.ts) and by
 * `exportImageFolder` of @convlab/datasets: nothing half-written is ever seen at the target.
 *
 * Everything is written into a hidden sibling `.<name>.convlab-tmp-<pid>-<id>` (same parent,
 * so renames are atomic) and fsynced. Then the old folder, if any, is renamed aside to
 * `.<name>.convlab-old-<pid>-<id>`, the new folder is renamed into place, and the aside
 * folder is renamed to `.<name>.convlab-del-<pid>-<id>` and removed. A crash between the two
 * renames is the only moment the target is missing; the aside folder then still holds the
 * complete old folder, and the next write (or a model load) puts it back. Leftovers of dead
 * processes are removed by the next write to the same path.
 *
 * The renames and the tidying are synchronous (a few system calls); only the caller's
 * filling of the new folder may be asynchronous.
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { errnoCode } from "./errors";

/** What a hidden sibling is: being written, the old folder set aside, or on its way out. */
export type EntryKind = "tmp" | "old" | "del";

/** A hidden sibling found next to a target. */
export interface Leftover {
  full: string;
  kind: EntryKind;
  pid: number;
  mtimeMs: number;
}

/** Hidden siblings this process is using right now (an async write in progress); never tidied away. */
export const activeEntries = new Set<string>();

const ENTRY_RE = /^\.(.*)\.convlab-(tmp|old|del)-(\d+)-[0-9a-f]+$/;

/** `.<name>.convlab-<kind>-<pid>-<id>` beside `base` in `parent`; long names are hashed to stay under NAME_MAX. */
export function entryPath(parent: string, base: string, kind: EntryKind): string {
  return path.join(parent, `.${entryTag(base)}.convlab-${kind}-${process.pid}-${randomBytes(6).toString("hex")}`);
}

function entryTag(base: string): string {
  return base.length > 180 ? createHash("sha1").update(base).digest("hex").slice(0, 20) : base;
}

/** The hidden siblings of `base` in `parent`, newest first (the newest aside folder is the one last in place). */
export function findLeftovers(parent: string, base: string): Leftover[] {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const tag = entryTag(base);
  const found: Leftover[] = [];
  for (const name of names) {
    const m = ENTRY_RE.exec(name);
    if (m == null || m[1] !== tag) continue;
    const full = path.join(parent, name);
    try {
      found.push({ full, kind: m[2] as EntryKind, pid: Number(m[3]), mtimeMs: fs.statSync(full).mtimeMs });
    } catch {
      continue;
    }
  }
  return found.sort((a, b) => b.mtimeMs - a.mtimeMs);
}

/** Whether a leftover may belong to a write still running (this process's active entries, or another live process). */
export function inUse(entry: Leftover): boolean {
  if (entry.pid === process.pid) return activeEntries.has(entry.full);
  try {
    process.kill(entry.pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === "EPERM";
  }
}

/** Renames an aside folder back to `target`; false when that fails. */
export function restoreAside(aside: string, target: string): boolean {
  try {
    fs.renameSync(aside, target);
    syncDir(path.dirname(target));
    return true;
  } catch {
    return false;
  }
}

/** Puts back an old folder a crash left aside (when `target` is missing), then removes leftovers of dead writes. */
export function tidyLeftovers(target: string): void {
  const parent = path.dirname(target);
  const base = path.basename(target);
  const leftovers = findLeftovers(parent, base).filter((l) => !inUse(l));
  if (!fs.existsSync(target)) {
    const aside = leftovers.find((l) => l.kind === "old");
    if (aside != null && restoreAside(aside.full, target)) leftovers.splice(leftovers.indexOf(aside), 1);
  }
  for (const l of leftovers) fs.rmSync(l.full, { recursive: true, force: true });
}

/** Renames the old folder aside, `tmp` into place, then drops the old one; restores it on failure. */
export function swapIn(tmp: string, target: string): void {
  const parent = path.dirname(target);
  const base = path.basename(target);
  let aside: string | null = null;
  if (fs.existsSync(target)) {
    aside = entryPath(parent, base, "old");
    activeEntries.add(aside);
    fs.renameSync(target, aside);
  }
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    if (aside != null) {
      try {
        fs.renameSync(aside, target);
      } catch {
        // The aside folder stays; the next write or load puts it back.
      }
      activeEntries.delete(aside);
    }
    throw e;
  }
  syncDir(parent);
  if (aside != null) {
    // Renamed before removal so a half-removed folder is never mistaken for a restorable old one.
    const trash = entryPath(parent, base, "del");
    activeEntries.add(trash);
    try {
      fs.renameSync(aside, trash);
      fs.rmSync(trash, { recursive: true, force: true });
    } catch {
      // A leftover is removed by the next write; the new folder is in place.
    } finally {
      activeEntries.delete(aside);
      activeEntries.delete(trash);
    }
  }
}

/** fsync of a folder, so renames and new entries survive a power loss; not possible on every platform. */
export function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch (e) {
    const code = errnoCode(e);
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM" && code !== "EBADF" && code !== "EACCES") throw e;
  } finally {
    if (fd != null) fs.closeSync(fd);
  }
}

/**
 * Writes a folder at `target` atomically (see the module comment): leftovers are tidied,
 * `fill(tmp)` writes the new contents into a hidden sibling, which then replaces `target`.
 * On any failure the hidden folder is removed and the error rethrown; `target` is untouched.
 *
 * @example
 * ```ts
 * writeFolderAtomically("data/shirts", (tmp) => fs.writeFileSync(path.join(tmp, "a.png"), png));
 * ```
 */
export function writeFolderAtomically(target: string, fill: (tmp: string) => void): void {
  const tmp = beginFolder(target);
  try {
    fill(tmp);
    syncDir(tmp);
    swapIn(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    activeEntries.delete(tmp);
  }
}

/** {@link writeFolderAtomically} with an asynchronous `fill` (model saving writes its weights that way). */
export async function writeFolderAtomicallyAsync(target: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = beginFolder(target);
  try {
    await fill(tmp);
    syncDir(tmp);
    swapIn(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    activeEntries.delete(tmp);
  }
}

/**
 * Writes one file at `target` atomically: `fill(tmp)` writes a hidden sibling
 * (`.<name>.convlab-tmp-<pid>-<hex>`, same folder so the rename is atomic), which is fsynced
 * and renamed over `target` only if `fill` resolves (a download can check its hash first).
 * On any failure the sibling is removed and the error rethrown; `target` is untouched.
 * The folder is created when missing.
 *
 * @example
 * ```ts
 * await writeFileAtomically("weights/vgg16.h5", async (tmp) => fs.promises.writeFile(tmp, bytes));
 * ```
 */
export async function writeFileAtomically(target: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.convlab-tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  try {
    await fill(tmp);
    const fd = fs.openSync(tmp, "r+");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  syncDir(dir);
}

function beginFolder(target: string): string {
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  tidyLeftovers(target);
  const tmp = entryPath(parent, path.basename(target), "tmp");
  activeEntries.add(tmp);
  fs.mkdirSync(tmp);
  return tmp;
}
