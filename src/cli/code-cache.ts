// V8's code cache for a command's CommonJS file on Node 20, which has no module compile cache
// (Node 22.1+ keeps one itself: bin/berth.js turns that on instead). A command compiles its ~1 MB
// file in every run, and then each function it calls the first time: ~20 ms of `berth up`'s CPU.
// The code V8 compiled in the last run of the same file is kept in the runtime directory and
// handed back to V8 with the source; V8 checks that it fits (its version, flags and the source's
// length) and compiles afresh when it does not. The file's name carries a hash of the source,
// berth's version and Node's, so a rebuilt file or another Node never finds an old entry.
// Same hygiene as the limiter memory and the model cache: directory 0700, files 0600 written
// through a temp file, read only when this user owns them and nobody else may write them,
// bounded in size and number. `BERTH_CODE_CACHE=off` turns it off.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";
import { runtimeDir } from "../proxy/listen-address.js";
import { readPrivateFile, writePrivateFile } from "./private-file.js";

type Env = Record<string, string | undefined>;

/** No command's code is anywhere near this (`up`: ~0.4 MB); a larger file is not V8's. */
export const CODE_CACHE_MAX_BYTES = 8 * 1024 * 1024;
/** One per command and a few builds' worth: the oldest go beyond this. */
const MAX_ENTRIES = 40;
const ENTRY = /^[a-z-]+\.cjs-[0-9a-f]{32}\.v8$/;

/** The directory, or undefined when `BERTH_CODE_CACHE=off`. */
export function codeCacheDir(env: Env = process.env): string | undefined {
  if (env.BERTH_CODE_CACHE?.trim() === "off") return undefined;
  return join(runtimeDir(env), "code-cache");
}

/** The entry of `file` with this `source`, for berth `version` on this Node. */
export function codeCachePath(dir: string, file: string, source: string, version: string): string {
  const hash = createHash("sha256")
    .update(`${version}\0${process.version}\0${process.arch}\0`)
    .update(source, "latin1")
    .digest("hex")
    .slice(0, 32);
  return join(dir, `${basename(file)}-${hash}.v8`);
}

/** The cached code at `path`, or undefined: missing, too large, not this user's or writable by others. */
export function readCodeCache(path: string): Buffer | undefined {
  return readPrivateFile(path, { maxBytes: CODE_CACHE_MAX_BYTES });
}

/** Keeps the newest entries (and removes temp files a killed command left). */
function prune(dir: string, keep: number): void {
  const entries: { file: string; mtimeMs: number }[] = [];
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    try {
      if (/\.\d+\.tmp$/.test(name) && Date.now() - statSync(file).mtimeMs > 60_000)
        rmSync(file, { force: true });
      else if (ENTRY.test(name)) entries.push({ file, mtimeMs: statSync(file).mtimeMs });
    } catch {
      // Gone already.
    }
  }
  entries.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const { file } of entries.slice(keep)) rmSync(file, { force: true });
}

/** Writes `data` atomically (0600 in a 0700 directory); a failure only costs the next run a compile. */
export function writeCodeCache(path: string, data: Buffer, maxEntries = MAX_ENTRIES): void {
  if (data.length === 0 || data.length > CODE_CACHE_MAX_BYTES) return;
  try {
    writePrivateFile(path, data);
    prune(dirname(path), maxEntries);
  } catch {
    // Best effort.
  }
}

export interface CachedModule {
  exports: Record<string, unknown>;
  /** Whether V8 took the cached code. */
  hit: boolean;
  /**
   * Stores the code compiled so far (the functions this run called included) when there was no
   * usable entry; call it once the command's work is done.
   */
  save(): void;
}

/**
 * Runs the CommonJS file `file` as `require` would (its own `require`, `module`, `exports`,
 * `__filename`, `__dirname`), compiled with the cached code when there is a usable entry.
 * Undefined when the cache is off or the file is not pure ASCII (the build makes it so): then
 * the caller requires it as usual.
 */
export function requireWithCodeCache(
  file: string,
  version: string,
  env: Env = process.env,
): CachedModule | undefined {
  const dir = codeCacheDir(env);
  if (!dir) return undefined;
  const source = readFileSync(file, "latin1");
  // Read as Latin-1, a file with UTF-8 bytes would be another text: only ASCII files.
  if (/[^\x00-\x7f]/.test(source)) return undefined;
  const path = codeCachePath(dir, file, source, version);
  const cachedData = readCodeCache(path);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  const hit = cachedData !== undefined && script.cachedDataRejected === false;
  const module = { exports: {} as Record<string, unknown>, filename: file, id: file, loaded: false };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  module.loaded = true;
  let saved = false;
  return {
    exports: module.exports,
    hit,
    save: () => {
      if (hit || saved) return;
      saved = true;
      writeCodeCache(path, script.createCachedData());
    },
  };
}
