import { describe, expect, it } from "vitest";
import { type MemoryUsage, memoryFigures, usageWarnings } from "../../src/memory/stats.js";

const MiB = 1024 ** 2;
const HOST = 24 * 1024 * MiB;

describe("memoryFigures", () => {
  it("subtracts cgroup v1 total_inactive_file as docker stats does, and reads max_usage as peak", () => {
    const figures = memoryFigures(
      {
        memory_stats: {
          usage: 40 * MiB,
          max_usage: 50 * MiB,
          limit: 64 * MiB,
          stats: { total_inactive_file: 8 * MiB, inactive_file: 1 * MiB },
        },
      },
      HOST,
    );
    expect(figures).toEqual({ usageBytes: 32 * MiB, limitBytes: 64 * MiB, percent: 50, peakBytes: 42 * MiB });
  });

  it("subtracts cgroup v2 inactive_file and has no peak there", () => {
    const figures = memoryFigures({
      memory_stats: { usage: 40 * MiB, limit: 80 * MiB, stats: { inactive_file: 10 * MiB } },
    });
    expect(figures).toEqual({
      usageBytes: 30 * MiB,
      limitBytes: 80 * MiB,
      percent: 37.5,
      peakBytes: undefined,
    });
  });

  it("treats a limit equal to host memory as no limit", () => {
    const figures = memoryFigures({ memory_stats: { usage: 10 * MiB, limit: HOST, stats: {} } }, HOST);
    expect(figures.limitBytes).toBeUndefined();
    expect(figures.percent).toBeUndefined();
  });

  it("never reports a negative usage or a peak below usage", () => {
    const figures = memoryFigures({
      memory_stats: {
        usage: 5 * MiB,
        max_usage: 6 * MiB,
        limit: 64 * MiB,
        stats: { total_inactive_file: 9 * MiB },
      },
    });
    expect(figures.usageBytes).toBe(5 * MiB);
    expect(figures.peakBytes).toBe(6 * MiB);
  });
});

describe("usageWarnings", () => {
  const usage = (service: string, usageBytes: number, limitBytes?: number): MemoryUsage => ({
    id: service,
    name: `p-${service}-1`,
    project: "p",
    service,
    usageBytes,
    limitBytes,
    percent: limitBytes ? (usageBytes / limitBytes) * 100 : undefined,
    peakBytes: undefined,
    sampledAt: new Date(0),
  });

  it("lists services at or above the threshold, naming the figures", () => {
    const warnings = usageWarnings(
      [
        usage("backend", 378 * MiB, 512 * MiB),
        usage("redis", 70 * MiB, 100 * MiB),
        usage("auth", 10 * MiB, 256 * MiB),
        usage("free", 1e9),
      ],
      70,
    );
    expect(warnings.map((w) => w.service)).toEqual(["backend", "redis"]);
    expect(warnings[0]!.message).toBe(
      "service `backend` (project p) uses 74% of its 512 MiB limit (378 MiB), at or above 70%",
    );
  });
});
