import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import { DEFAULT_POOL_SIZE, networkPoolConfig, poolKey } from "../../src/janitor/network-pool.js";
import {
  type ClaimRecord,
  claimStatus,
  isTopGeneration,
  pruneClaims,
  readClaims,
  writeClaim,
} from "../../src/janitor/network-pool-claims.js";
import { isPoolable } from "../../src/stack/resources.js";

const dirs: string[] = [];
function claimDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "berth-pool-unit-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const claim = (generation: number, state: ClaimRecord["state"] = "take"): ClaimRecord => ({
  network: "berth-pool-aaaaaaaaaaaa",
  generation,
  state,
  owner: "host/1/1",
  session: "s",
  project: "p",
  at: 1000 + generation,
});

describe("network pool claims", () => {
  it("writes each generation once: of two writers of the same generation one wins", () => {
    const dir = claimDir();
    expect(writeClaim(dir, claim(1))).toBe(true);
    expect(writeClaim(dir, { ...claim(1), session: "other" })).toBe(false);
    expect(readClaims(dir).get(claim(1).network)).toMatchObject({ generation: 1, session: "s" });
  });

  it("reads the highest generation and tells a writer from a stale view that it lost", () => {
    const dir = claimDir();
    writeClaim(dir, claim(1));
    writeClaim(dir, claim(2, "release"));
    writeClaim(dir, claim(3));
    pruneClaims(dir, claim(1).network, 3);
    expect(readClaims(dir).get(claim(1).network)).toMatchObject({ generation: 3, state: "take" });
    // Someone who read generation 1 before the prune writes 2 again: a generation above exists.
    expect(writeClaim(dir, claim(2))).toBe(true);
    expect(isTopGeneration(dir, claim(1).network, 2)).toBe(false);
    expect(isTopGeneration(dir, claim(1).network, 3)).toBe(true);
  });

  it("counts a claim file still being written as held", () => {
    const dir = claimDir();
    writeFileSync(join(dir, "berth-pool-bbbbbbbbbbbb.4.json"), "");
    const record = readClaims(dir).get("berth-pool-bbbbbbbbbbbb");
    expect(record).toMatchObject({ generation: 4, state: "take", owner: "" });
    expect(claimStatus(record, "unknown")).toBe("held");
  });

  it("says free, held or orphaned", () => {
    expect(claimStatus(undefined, "unknown")).toBe("free");
    expect(claimStatus(claim(2, "release"), "dead")).toBe("free");
    expect(claimStatus(claim(1), "alive")).toBe("held");
    expect(claimStatus(claim(1), "foreign")).toBe("held");
    expect(claimStatus(claim(1), "dead")).toBe("orphaned");
  });
});

describe("network pool settings", () => {
  it("is off by default and reads its switch, size and TTL", () => {
    expect(networkPoolConfig({})).toMatchObject({
      enabled: false,
      size: DEFAULT_POOL_SIZE,
      idleTtlMs: 600_000,
    });
    expect(networkPoolConfig({}, true).enabled).toBe(true);
    expect(networkPoolConfig({ BERTH_NETWORK_POOL: "on" }, false).enabled).toBe(false);
    expect(
      networkPoolConfig({
        BERTH_NETWORK_POOL: "ON",
        BERTH_NETWORK_POOL_SIZE: "4",
        BERTH_NETWORK_POOL_TTL: "90s",
        BERTH_NETWORK_POOL_DIR: "/x",
        BERTH_LABELS: "a=1",
      }),
    ).toEqual({ enabled: true, size: 4, idleTtlMs: 90_000, dir: "/x", extraLabels: { a: "1" } });
  });

  it("refuses values it cannot read, naming the variable and the value", () => {
    expect(() => networkPoolConfig({ BERTH_NETWORK_POOL: "sometimes" })).toThrow(ConfigError);
    expect(() => networkPoolConfig({ BERTH_NETWORK_POOL_SIZE: "0" })).toThrow(/BERTH_NETWORK_POOL_SIZE.*`0`/);
    expect(() => networkPoolConfig({ BERTH_NETWORK_POOL_SIZE: "2.5" })).toThrow(ConfigError);
    expect(() => networkPoolConfig({ BERTH_NETWORK_POOL_TTL: "10" })).toThrow(/BERTH_NETWORK_POOL_TTL/);
  });

  it("keys a pool by the BERTH_LABELS of its users, in any order", () => {
    expect(poolKey({ a: "1", b: "2" })).toBe(poolKey({ b: "2", a: "1" }));
    expect(poolKey({ a: "1" })).not.toBe(poolKey({ a: "2" }));
  });

  it("serves only plain bridge networks", () => {
    const plain = { name: "default", external: false, labels: {} };
    expect(isPoolable("default", undefined)).toBe(true);
    expect(isPoolable("default", plain)).toBe(true);
    expect(isPoolable("default", { ...plain, driver: "bridge" })).toBe(true);
    expect(isPoolable("default", { ...plain, name: "fixed" })).toBe(false);
    expect(isPoolable("default", { ...plain, internal: true })).toBe(false);
    expect(isPoolable("default", { ...plain, labels: { a: "b" } })).toBe(false);
    expect(isPoolable("default", { ...plain, ipam: { config: [{ subnet: "10.9.0.0/24" }] } })).toBe(false);
    expect(isPoolable("default", { ...plain, driverOpts: { mtu: "1400" } })).toBe(false);
    expect(isPoolable("default", { ...plain, driver: "macvlan" })).toBe(false);
  });
});
