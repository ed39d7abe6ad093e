// The files the CLI keeps for one user's next commands in the runtime directory (the limiter's
// memory, the model cache, the code cache). Each steers what a later command does, so it is read
// only when this user owns it and nobody else may write it, and written atomically (a temp file
// renamed) with mode 0600 in a 0700 directory.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface PrivateFileLimits {
  maxBytes?: number;
  /** Older than this (by its modification time) counts as absent. */
  maxAgeMs?: number;
  now?: number;
}

/**
 * The file's bytes, or undefined: missing, not a file, empty, not this user's, writable by group
 * or others, larger than `maxBytes` or older than `maxAgeMs`.
 */
export function readPrivateFile(path: string, limits: PrivateFileLimits = {}): Buffer | undefined {
  try {
    const stat = statSync(path);
    const uid = typeof process.getuid === "function" ? process.getuid() : stat.uid;
    if (!stat.isFile() || stat.uid !== uid || (stat.mode & 0o022) !== 0 || stat.size === 0) return undefined;
    if (limits.maxBytes !== undefined && stat.size > limits.maxBytes) return undefined;
    if (limits.maxAgeMs !== undefined && (limits.now ?? Date.now()) - stat.mtimeMs > limits.maxAgeMs) {
      return undefined;
    }
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Writes `data` atomically, 0600 in a 0700 directory; throws what the file system throws. */
export function writePrivateFile(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, data, { mode: 0o600 });
  renameSync(temp, path);
}
