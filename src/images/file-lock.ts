// One holder at a time across processes: a lock file holding the owner's pid, created atomically.
// A lock whose owner is gone (a crashed build or pull) is taken over, not waited on forever.
// Fixture builds lock their cache directory; pulls lock the image reference.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { TimeoutError } from "../engine/errors.js";
import { sleep } from "../model/sleep.js";

function ownerAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, "utf8").trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

interface FileLockOptions {
  /** Give up after this long (default 15 minutes). */
  timeoutMs?: number;
  /** How often a waiter looks again (default 1000 ms). */
  pollMs?: number;
  /** What holds the lock, for the timeout's message (default "Another fixture build"). */
  holder?: string;
  signal?: AbortSignal;
  /** Called once, when the lock is found held and this caller starts waiting. */
  onWait?: () => void;
}

interface HeldLock {
  release(): void;
  /** True when another process held the lock first and this one waited for it. */
  waited: boolean;
}

/** Waits for the lock at `path`; answers it held. */
export async function acquireFileLock(path: string, options: FileLockOptions = {}): Promise<HeldLock> {
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  let waited = false;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }), waited };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (!ownerAlive(path)) {
      rmSync(path, { force: true });
      continue;
    }
    if (!waited) options.onWait?.();
    waited = true;
    if (Date.now() > deadline) {
      throw new TimeoutError(`${options.holder ?? "Another fixture build"} still holds ${path}`, {
        resource: path,
        hint: "Wait for it to finish, or remove the file if its process is gone.",
      });
    }
    options.signal?.throwIfAborted();
    await sleep(options.pollMs ?? 1000);
  }
}

/** The fixture builds' form: waits (up to `timeoutMs`) and answers the release function. */
export async function acquireBuildLock(path: string, timeoutMs = 15 * 60_000): Promise<() => void> {
  return (await acquireFileLock(path, { timeoutMs })).release;
}
