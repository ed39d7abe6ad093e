import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import type { ContainerInspect } from "../../src/engine/types.js";
import { MemoryMismatchError } from "../../src/memory/errors.js";
import { memoryHostConfig, resolveMemoryLimit, verifyAppliedMemory } from "../../src/memory/limits.js";
import { parseLimitProfile } from "../../src/memory/profiles.js";
import type { ServiceMemory, ServiceSpec } from "../../src/model/compose.js";

const MiB = 1024 ** 2;

function service(name: string, memory: ServiceMemory = {}, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    image: "berth-fixture/busybox:1.35.0",
    environment: {},
    ports: [],
    expose: [],
    dependsOn: [],
    memory,
    volumes: [],
    networks: [],
    labels: {},
    tmpfs: [],
    profiles: [],
    berth: {},
    location: { file: "/p/compose.yml", line: 3, path: `services.${name}` },
    ...extra,
  };
}

function inspected(host: Record<string, number>): ContainerInspect {
  return { Name: "/p-api-1", HostConfig: host } as unknown as ContainerInspect;
}

describe("memoryHostConfig", () => {
  it("sets MemorySwap equal to Memory: no silent doubling into swap", () => {
    expect(memoryHostConfig(service("api", { limitBytes: 64 * MiB }))).toEqual({
      Memory: 64 * MiB,
      MemorySwap: 64 * MiB,
    });
  });

  it("keeps memswap_limit when the file sets it, -1 included", () => {
    expect(memoryHostConfig(service("api", { limitBytes: 64 * MiB, swapLimitBytes: 128 * MiB }))).toEqual({
      Memory: 64 * MiB,
      MemorySwap: 128 * MiB,
    });
    expect(memoryHostConfig(service("api", { limitBytes: 64 * MiB, swapLimitBytes: -1 })).MemorySwap).toBe(
      -1,
    );
  });

  it("sets nothing for a service without a limit, profile or default", () => {
    expect(memoryHostConfig(service("api"))).toEqual({});
  });

  it("passes reservation and CPUs", () => {
    expect(
      memoryHostConfig(service("api", { limitBytes: 64 * MiB, reservationBytes: 32 * MiB }, { cpus: 1.5 })),
    ).toEqual({
      Memory: 64 * MiB,
      MemorySwap: 64 * MiB,
      MemoryReservation: 32 * MiB,
      NanoCpus: 1_500_000_000,
    });
  });

  it("takes the file's limit over the profile's, the profile's over the default", () => {
    const profile = parseLimitProfile({ limits: { api: "1g", "db*": "512m" } }, "limits.yml");
    const defaults = { profile, defaultLimitBytes: 128 * MiB };
    expect(resolveMemoryLimit(service("api", { limitBytes: 64 * MiB }), defaults)).toEqual({
      limitBytes: 64 * MiB,
      source: "file",
    });
    expect(resolveMemoryLimit(service("api"), defaults)).toEqual({
      limitBytes: 1024 * MiB,
      source: "profile",
      rule: "limits.yml: limits.api",
    });
    expect(resolveMemoryLimit(service("dbmain"), defaults)?.limitBytes).toBe(512 * MiB);
    expect(resolveMemoryLimit(service("cache"), defaults)).toEqual({
      limitBytes: 128 * MiB,
      source: "default",
    });
    expect(memoryHostConfig(service("cache"), defaults)).toEqual({
      Memory: 128 * MiB,
      MemorySwap: 128 * MiB,
    });
  });

  it.each([
    [
      { limitBytes: 64 * MiB, swapLimitBytes: 32 * MiB },
      /memswap_limit 32 MiB is below its memory limit 64 MiB/,
    ],
    [{ swapLimitBytes: 32 * MiB }, /memswap_limit 32 MiB is set without a memory limit/],
    [
      { limitBytes: 64 * MiB, reservationBytes: 128 * MiB },
      /mem_reservation 128 MiB is above its memory limit/,
    ],
    [{ limitBytes: 4 * MiB }, /below Docker's minimum of 6 MiB/],
  ])("refuses %j as Docker would, naming the service", (memory, message) => {
    expect(() => memoryHostConfig(service("api", memory))).toThrow(ConfigError);
    expect(() => memoryHostConfig(service("api", memory))).toThrow(message);
    expect(() => memoryHostConfig(service("api", memory))).toThrow(/service `api`/);
  });
});

describe("verifyAppliedMemory", () => {
  const expected = { Memory: 64 * MiB, MemorySwap: 64 * MiB };

  it("accepts exactly what was asked", () => {
    expect(() =>
      verifyAppliedMemory("api", expected, inspected({ Memory: 64 * MiB, MemorySwap: 64 * MiB })),
    ).not.toThrow();
  });

  it("names the service and both values on a mismatch", () => {
    let error: unknown;
    try {
      verifyAppliedMemory("api", expected, inspected({ Memory: 64 * MiB, MemorySwap: 128 * MiB }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemoryMismatchError);
    const mismatch = error as MemoryMismatchError;
    expect(mismatch.code).toBe("BERTH_MEMORY_MISMATCH");
    expect(mismatch.message).toBe(
      "service `api`: the daemon applied MemorySwap 128 MiB (berth asked for 64 MiB)",
    );
    expect(mismatch.mismatches).toEqual([{ field: "MemorySwap", expected: "64 MiB", actual: "128 MiB" }]);
  });

  it("reports a limit that was not applied at all", () => {
    expect(() => verifyAppliedMemory("db", expected, inspected({ Memory: 0, MemorySwap: 0 }))).toThrow(
      "service `db`: the daemon applied Memory unset (berth asked for 64 MiB), MemorySwap unset (berth asked for 64 MiB)",
    );
  });

  it("accepts MemorySwap -1 only where the daemon cannot limit swap", () => {
    const host = inspected({ Memory: 64 * MiB, MemorySwap: -1 });
    expect(() => verifyAppliedMemory("api", expected, host)).toThrow(/MemorySwap unlimited/);
    expect(() => verifyAppliedMemory("api", expected, host, { swapLimitSupported: false })).not.toThrow();
  });

  it("checks CPUs too", () => {
    expect(() => verifyAppliedMemory("api", { NanoCpus: 5e8 }, inspected({ NanoCpus: 1e9 }))).toThrow(
      "NanoCpus 1 CPUs (berth asked for 0.5 CPUs)",
    );
  });
});
