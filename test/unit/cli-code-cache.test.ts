import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  CODE_CACHE_MAX_BYTES,
  codeCacheDir,
  codeCacheKey,
  codeCachePath,
  decodeEntry,
  encodeEntry,
  fileIdentity,
  readCodeCache,
  requireWithCodeCache,
  writeCodeCache,
} from "../../src/cli/code-cache.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "berth-code-cache-"));
  dirs.push(dir);
  return dir;
}

/**
 * A command-like CommonJS file (with a sibling it requires) and a runtime directory. `copy()` puts
 * the same file in another directory: V8 keeps what this process compiled by source and file
 * name, so only a new name makes it read the code cache as a new process would. The copies are
 * run with one identity (`ID`), as the same file in a new process would be.
 */
function fixture(body = "") {
  const root = tempDir();
  const source = `"use strict";
const { answer } = require("./sibling.cjs");
function work(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }
${body}
module.exports = { answer, file: __filename, dir: __dirname, sum: work(10), self: module.exports === exports };
`;
  let copies = 0;
  const copy = () => {
    const dir = join(root, `copy-${copies++}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "sibling.cjs"), "module.exports = { answer: 42 };\n");
    writeFileSync(join(dir, "cmd.cjs"), source);
    return join(dir, "cmd.cjs");
  };
  const env = { XDG_RUNTIME_DIR: join(root, "run") };
  return { root, file: copy(), copy, env, cacheDir: codeCacheDir(env)! };
}

const ID = "the same file";
const entries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".v8"));

describe("the CLI's code cache (Node 20)", () => {
  it("runs the file as require would, stores its code 0600 in a 0700 directory, and uses it next time", () => {
    const { file, copy, env, cacheDir } = fixture();
    const first = requireWithCodeCache(file, "1.0.0", env, ID)!;
    expect(first.exports).toMatchObject({ answer: 42, file, dir: dirname(file), sum: 45, self: true });
    expect(first.hit).toBe(false);
    first.save();
    const [entry] = entries(cacheDir);
    expect(entry).toMatch(/^cmd\.cjs-[0-9a-f]{16}\.v8$/);
    expect(statSync(join(cacheDir, entry!)).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const second = requireWithCodeCache(copy(), "1.0.0", env, ID)!;
    expect(second.hit).toBe(true);
    expect(second.exports).toMatchObject({ answer: 42, sum: 45 });
  });

  it("keys the entry by the file's identity, berth's version and Node's, and keeps the key in it", () => {
    const dir = "/run/x/berth/code-cache";
    const key = codeCacheKey("/d/up.cjs\x001\x002", "1.0.0");
    const a = codeCachePath(dir, "/d/up.cjs", key);
    expect(a).toMatch(/^\/run\/x\/berth\/code-cache\/up\.cjs-[0-9a-f]{16}\.v8$/);
    expect(codeCachePath(dir, "/d/up.cjs", codeCacheKey("/d/up.cjs\x001\x002", "1.0.0"))).toBe(a);
    expect(codeCachePath(dir, "/d/up.cjs", codeCacheKey("/d/up.cjs\x001\x003", "1.0.0"))).not.toBe(a);
    expect(codeCachePath(dir, "/d/up.cjs", codeCacheKey("/d/up.cjs\x001\x002", "1.0.1"))).not.toBe(a);
    expect(key).toContain(process.version);
    // The entry answers its own key only, whatever its file name.
    const data = Buffer.from("v8 data");
    const entry = encodeEntry(key, data);
    expect(decodeEntry(entry, key)).toEqual(data);
    expect(decodeEntry(entry, codeCacheKey("/d/up.cjs\x001\x003", "1.0.0"))).toBeUndefined();
    expect(decodeEntry(data, key)).toBeUndefined();
    expect(decodeEntry(encodeEntry(key, Buffer.alloc(0)), key)).toBeUndefined();
  });

  it("a file's identity changes when it is rewritten, even with its size and modification time kept", async () => {
    const { file } = fixture();
    const mtime = new Date(2020, 0, 1); // whole seconds: restored exactly below
    utimesSync(file, mtime, mtime);
    const before = fileIdentity(file);
    expect(fileIdentity(file)).toBe(before);
    const { size } = statSync(file);
    // The change time has the kernel clock's tick (a few ms): a rewrite one tick later.
    await new Promise((resolve) => setTimeout(resolve, 30));
    writeFileSync(file, Buffer.alloc(size, "x"));
    utimesSync(file, mtime, mtime);
    expect(statSync(file).size).toBe(size);
    expect(fileIdentity(file)).not.toBe(before);
    // The same bytes elsewhere are another file.
    const other = join(dirname(file), "other.cjs");
    writeFileSync(other, Buffer.alloc(size, "x"));
    expect(fileIdentity(other)).not.toBe(fileIdentity(file));
  });

  it("compiles afresh from a corrupt entry, runs the file all the same, and replaces the entry", () => {
    const { file, copy, env, cacheDir } = fixture();
    requireWithCodeCache(file, "1.0.0", env, ID)!.save();
    const path = join(cacheDir, entries(cacheDir)[0]!);
    writeFileSync(path, Buffer.from("not V8's code cache at all"), { mode: 0o600 });
    const run = requireWithCodeCache(copy(), "1.0.0", env, ID)!;
    expect(run.hit).toBe(false);
    expect(run.exports).toMatchObject({ answer: 42 });
    run.save();
    expect(statSync(path).size).toBeGreaterThan(100);
    expect(requireWithCodeCache(copy(), "1.0.0", env, ID)!.hit).toBe(true);
  });

  it("does not read an entry others may write, one too large, or none at all", () => {
    const { file, copy, env, cacheDir } = fixture();
    requireWithCodeCache(file, "1.0.0", env, ID)!.save();
    const path = join(cacheDir, entries(cacheDir)[0]!);
    expect(readCodeCache(path)).toBeInstanceOf(Buffer);
    chmodSync(path, 0o620);
    expect(readCodeCache(path)).toBeUndefined();
    expect(requireWithCodeCache(copy(), "1.0.0", env, ID)!.hit).toBe(false);
    chmodSync(path, 0o600);
    writeFileSync(path, Buffer.alloc(CODE_CACHE_MAX_BYTES + 1));
    expect(readCodeCache(path)).toBeUndefined();
    expect(readCodeCache(join(cacheDir, "missing.v8"))).toBeUndefined();
  });

  it("a changed file misses (another entry), and the oldest entries go beyond the bound", () => {
    const { file, env, cacheDir } = fixture();
    requireWithCodeCache(file, "1.0.0", env)!.save();
    writeFileSync(file, `${"// changed\n"}module.exports = { changed: true };\n`);
    const changed = requireWithCodeCache(file, "1.0.0", env)!;
    expect(changed.hit).toBe(false);
    expect(changed.exports).toEqual({ changed: true });
    changed.save();
    expect(entries(cacheDir)).toHaveLength(2);
    // Bounded: writing with a bound of 2 keeps the two newest.
    const old = join(cacheDir, entries(cacheDir)[0]!);
    utimesSync(old, new Date(2020, 0, 1), new Date(2020, 0, 1));
    writeCodeCache(join(cacheDir, `cmd.cjs-${"0".repeat(16)}.v8`), Buffer.from("x"), 2);
    expect(entries(cacheDir)).toHaveLength(2);
    expect(entries(cacheDir)).not.toContain(old.split("/").pop());
  });

  it("is off with BERTH_CODE_CACHE=off, and for a file that is not pure ASCII", () => {
    const { file, env } = fixture();
    expect(requireWithCodeCache(file, "1.0.0", { ...env, BERTH_CODE_CACHE: "off" })).toBeUndefined();
    const wide = fixture("// caf\u00e9\n");
    expect(requireWithCodeCache(wide.file, "1.0.0", wide.env)).toBeUndefined();
    mkdirSync(wide.cacheDir, { recursive: true });
    expect(entries(wide.cacheDir)).toEqual([]);
  });
});
