import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import { loadLimitProfile } from "../../src/memory/profile-files.js";
import { matchLimitRule, mergeLimitProfiles, parseLimitProfile } from "../../src/memory/profiles.js";
import { loadCompose } from "../../src/stack/compose/load.js";

const MiB = 1024 ** 2;
const dir = mkdtempSync(join(tmpdir(), "berth-profiles-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The limit profile the Compose loader finds in the files' top-level `x-berth`. */
const filesProfile = async (files: string[]) =>
  (await loadCompose({ files, cwd: dir, env: {} })).limitProfile;

describe("limit profiles", () => {
  const profile = parseLimitProfile(
    {
      name: "ci",
      limits: { "db-*": "1g", "db-main": "2g", "*-worker": "256m", "cache?": "128m", "*": "64m" },
    },
    "limits.yml",
  );

  it("matches an exact name before any pattern", () => {
    expect(matchLimitRule(profile, "db-main")?.limitBytes).toBe(2048 * MiB);
    expect(matchLimitRule(profile, "db-replica")?.limitBytes).toBe(1024 * MiB);
  });

  it("takes the first matching pattern in the order written", () => {
    expect(matchLimitRule(profile, "mail-worker")?.pattern).toBe("*-worker");
    expect(matchLimitRule(profile, "cache1")?.pattern).toBe("cache?");
    expect(matchLimitRule(profile, "cache12")?.pattern).toBe("*");
    expect(matchLimitRule(undefined, "api")).toBeUndefined();
  });

  it("treats regular-expression characters literally", () => {
    const dotted = parseLimitProfile({ limits: { "a.b": "64m" } }, "p.yml");
    expect(matchLimitRule(dotted, "a.b")).toBeDefined();
    expect(matchLimitRule(dotted, "axb")).toBeUndefined();
  });

  it.each([
    [{}, /needs a `limits` map/],
    [{ limits: ["api"] }, /needs a `limits` map/],
    [{ limits: { api: "2GBB" } }, /limits.yml: limits.api: invalid size `2GBB`/],
    [{ limits: { api: "5m" } }, /limits.api: memory limit `5m` is below Docker's minimum/],
    [{ limits: { api: { memory: "1g" } } }, /limits.api: expected a size like 512m/],
  ])("refuses %j naming file and entry", (data, message) => {
    expect(() => parseLimitProfile(data, "limits.yml")).toThrow(ConfigError);
    expect(() => parseLimitProfile(data, "limits.yml")).toThrow(message);
  });

  it("loads YAML and JSON files", () => {
    const yaml = join(dir, "limits.yml");
    writeFileSync(yaml, "name: reference\nlimits:\n  backend: 2g\n  redis: 512m\n");
    const json = join(dir, "limits.json");
    writeFileSync(json, JSON.stringify({ limits: { backend: "1g" } }));
    expect(loadLimitProfile(yaml)).toMatchObject({
      name: "reference",
      rules: [{ pattern: "backend" }, { pattern: "redis" }],
    });
    expect(matchLimitRule(loadLimitProfile(json), "backend")?.limitBytes).toBe(1024 * MiB);
    expect(() => loadLimitProfile(join(dir, "missing.yml"))).toThrow(/cannot read limit profile/);
  });

  it("reads x-berth from Compose files: inline limits, a profile file, overrides winning", async () => {
    writeFileSync(join(dir, "shared.yml"), "limits:\n  postgres: 1g\n  redis: 512m\n");
    const base = join(dir, "compose.yml");
    writeFileSync(
      base,
      "x-berth:\n  profile: shared.yml\n  limits:\n    backend: 2g\nservices:\n  backend:\n    image: b:1\n",
    );
    const override = join(dir, "compose.test.yml");
    writeFileSync(override, "x-berth:\n  limits:\n    backend: 1g\n");
    const merged = await filesProfile([base, override]);
    expect(matchLimitRule(merged, "backend")?.limitBytes).toBe(1024 * MiB);
    expect(matchLimitRule(merged, "redis")?.limitBytes).toBe(512 * MiB);
    expect(matchLimitRule(await filesProfile([base]), "backend")?.limitBytes).toBe(2048 * MiB);
  });

  it("reads an x-berth key written with a YAML escape; a file without one declares no profile", async () => {
    const escaped = join(dir, "compose.escaped.yml");
    writeFileSync(
      escaped,
      '"x\\x2dberth":\n  limits:\n    backend: 1g\nservices:\n  backend:\n    image: b:1\n',
    );
    expect(matchLimitRule(await filesProfile([escaped]), "backend")?.limitBytes).toBe(1024 * MiB);
    const plain = join(dir, "compose.plain.yml");
    writeFileSync(plain, "services:\n  backend:\n    image: b:1\n");
    expect(await filesProfile([plain])).toBeUndefined();
  });

  it("an included file's x-berth limits are not the project's", async () => {
    const included = join(dir, "included.yml");
    writeFileSync(included, "x-berth:\n  limits:\n    side: 1g\nservices:\n  side:\n    image: s:1\n");
    const top = join(dir, "compose.include.yml");
    writeFileSync(top, "include:\n  - included.yml\nservices:\n  backend:\n    image: b:1\n");
    expect(await filesProfile([top])).toBeUndefined();
  });

  it("merges profiles with the earlier one winning", () => {
    const a = parseLimitProfile({ limits: { api: "1g" } }, "a");
    const b = parseLimitProfile({ name: "b", limits: { api: "2g", db: "1g" } }, "b");
    const merged = mergeLimitProfiles(a, undefined, b);
    expect(merged?.rules.map((r) => `${r.pattern}=${r.limitBytes / MiB}`)).toEqual(["api=1024", "db=1024"]);
    expect(merged?.name).toBe("b");
    expect(mergeLimitProfiles(undefined)).toBeUndefined();
  });

  it("the reference example profile parses", () => {
    const example = loadLimitProfile(
      new URL("../../examples/memory/limit-profile.yml", import.meta.url).pathname,
    );
    const limits = ["backend", "auth", "postgres", "redis", "clickhouse", "other"].map(
      (name) => (matchLimitRule(example, name)?.limitBytes ?? 0) / MiB,
    );
    expect(limits).toEqual([2048, 1024, 1024, 512, 1024, 0]);
  });
});
