// One pull per image: concurrent callers in this process share one pull (and its progress), and
// processes on one machine take turns through a lock file keyed by daemon and image reference.
// A caller that waited for another's pull uses its result instead of pulling again.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireFileLock } from "./file-lock.js";
import type { ImageProgress } from "./pull-progress.js";

interface SharedPull<T> {
  /** Subscribes to the pull's progress; returns the unsubscribe. */
  listen(listener: (progress: ImageProgress) => void): () => void;
  result: Promise<T>;
}

const inFlight = new Map<string, SharedPull<unknown>>();

/**
 * Runs `work` once for `key` among concurrent callers in this process: later callers join the
 * running one and hear its progress from then on.
 */
export function pullOnceInProcess<T>(
  key: string,
  work: (emit: (progress: ImageProgress) => void) => Promise<T>,
  onProgress?: (progress: ImageProgress) => void,
): Promise<T> {
  const joined = inFlight.get(key) as SharedPull<T> | undefined;
  if (joined) {
    const stop = onProgress ? joined.listen(onProgress) : undefined;
    return joined.result.finally(() => stop?.());
  }
  const listeners = new Set<(progress: ImageProgress) => void>();
  // The first caller listens before the work starts: its first events may come synchronously.
  if (onProgress) listeners.add(onProgress);
  const emit = (progress: ImageProgress) => {
    for (const listener of [...listeners]) listener(progress);
  };
  const result = work(emit).finally(() => inFlight.delete(key));
  inFlight.set(key, {
    listen: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    result,
  } as SharedPull<unknown>);
  return result;
}

export function pullLockDir(env: Record<string, string | undefined> = process.env): string {
  return env.BERTH_PULL_LOCK_DIR?.trim() || join(tmpdir(), "berth-pull-locks");
}

interface MachineLock {
  /** True when another process pulled this image while this one waited. */
  pulledByOther: boolean;
  /** Records that this process pulled it (for `always` callers waiting behind it). */
  markPulled(): void;
  release(): void;
}

/** Takes the machine-wide turn for pulling `ref` from the daemon at `endpoint`. */
export async function pullLock(
  endpoint: string,
  ref: string,
  options: { dir: string; onWait: () => void; signal?: AbortSignal },
): Promise<MachineLock> {
  mkdirSync(options.dir, { recursive: true });
  const name = createHash("sha256").update(`${endpoint}\n${ref}`).digest("hex").slice(0, 32);
  const lockPath = join(options.dir, `${name}.lock`);
  const markPath = join(options.dir, `${name}.pulled`);
  const since = Date.now();
  const held = await acquireFileLock(lockPath, {
    pollMs: 200,
    holder: `Another pull of ${ref}`,
    onWait: options.onWait,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let pulledByOther = false;
  if (held.waited && existsSync(markPath)) {
    pulledByOther = Number(readFileSync(markPath, "utf8").trim()) >= since;
  }
  return {
    pulledByOther,
    markPulled: () => writeFileSync(markPath, `${Date.now()}\n`),
    release: held.release,
  };
}
