// V8's code cache for a command's CommonJS file on Node 20, which has no module compile cache
// (Node 22.1+ keeps one itself: bin/berth.js turns that on instead). A command compiles its ~1 MB
// file in every run, and then each function it calls the first time: ~20 ms of `berth up`'s CPU.
// The code V8 compiled in the last run of the same file is kept in the runtime directory and
// handed back to V8 with the source; V8 checks that it fits (its version, flags and the source's
// length) and compiles afresh when it does not. An entry is keyed by the file's identity (its
// path, inode, size and change times: see `fileIdentity`), berth's version and Node's, so a rebuilt
// file or another Node never finds an old entry; the key is stored in the entry too and compared
// whole, so even two keys with the same file name never share code. No hash of the ~1 MB source
// (node:crypto alone cost ~5 ms of start-up, the hash ~1 ms more).
// Same hygiene as the limiter memory and the model cache: directory 0700, files 0600 written
// through a temp file, read only when this user owns them and nobody else may write them,
// bounded in size and number. `BERTH_CODE_CACHE=off` turns it off.
import { isAscii } from "node:buffer";
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
/** An entry's name (32 hex digits: the content hash of session 9's entries, pruned as any other). */
const ENTRY = /^[a-z-]+\.cjs-(?:[0-9a-f]{16}|[0-9a-f]{32})\.v8$/;
/** An entry starts with this, the key's length (4 bytes, little-endian) and the key (UTF-8). */
const MAGIC = Buffer.from("berth-code-cache-1\n", "latin1");

/** The directory, or undefined when `BERTH_CODE_CACHE=off`. */
export function codeCacheDir(env: Env = process.env): string | undefined {
  if (env.BERTH_CODE_CACHE?.trim() === "off") return undefined;
  return join(runtimeDir(env), "code-cache");
}

/**
 * What identifies the contents of `file` without reading it: its path, device and inode, size,
 * and modification and change times in nanoseconds. Writing a file changes its change time
 * (ctime), which no program can set back (unlike the modification time, which `cp -p`, `tar` or
 * `touch` can); replacing it (a rebuild's rename) changes the inode as well. A file rewritten with
 * the same size within one tick of the kernel's clock (a few ms) and a command run between the
 * two writes would be the one case it misses.
 */
export function fileIdentity(file: string): string {
  const stat = statSync(file, { bigint: true });
  return [file, stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join("\0");
}

/** The key of an entry: the file's identity, berth `version`, and Node's version and architecture. */
export function codeCacheKey(identity: string, version: string): string {
  return [identity, version, process.version, process.arch].join("\0");
}

/** 64-bit FNV-1a of `text` (UTF-16 units), as 16 hex digits: an entry's name, not its check. */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n);
  }
  return hash.toString(16).padStart(16, "0");
}

/** The entry of `file` with this `key` (codeCacheKey). */
export function codeCachePath(dir: string, file: string, key: string): string {
  return join(dir, `${basename(file)}-${fnv1a64(key)}.v8`);
}

/** An entry's bytes: MAGIC, the key, then V8's data. */
export function encodeEntry(key: string, data: Buffer): Buffer {
  const keyBytes = Buffer.from(key, "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(keyBytes.length);
  return Buffer.concat([MAGIC, length, keyBytes, data]);
}

/** V8's data in an entry, or undefined when it is not one or belongs to another key. */
export function decodeEntry(entry: Buffer, key: string): Buffer | undefined {
  if (entry.length < MAGIC.length + 4 || !entry.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const keyBytes = Buffer.from(key, "utf8");
  const start = MAGIC.length + 4;
  if (entry.readUInt32LE(MAGIC.length) !== keyBytes.length) return undefined;
  if (!entry.subarray(start, start + keyBytes.length).equals(keyBytes)) return undefined;
  const data = entry.subarray(start + keyBytes.length);
  return data.length > 0 ? data : undefined;
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
  identity = fileIdentity(file),
): CachedModule | undefined {
  const dir = codeCacheDir(env);
  if (!dir) return undefined;
  const bytes = readFileSync(file);
  // Read as Latin-1, a file with UTF-8 bytes would be another text: only ASCII files. (isAscii is
  // native; a regular expression over the ~1 MB source took ~7 ms, run by V8's interpreter once.)
  if (!isAscii(bytes)) return undefined;
  const source = bytes.toString("latin1");
  const key = codeCacheKey(identity, version);
  const path = codeCachePath(dir, file, key);
  const entry = readCodeCache(path);
  const cachedData = entry && decodeEntry(entry, key);
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
      writeCodeCache(path, encodeEntry(key, script.createCachedData()));
    },
  };
}
