import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ADVICE_RULE, adviceOverrideYaml, adviseLimits, recommendLimit } from "../../src/memory/advise.js";
import { parseSize } from "../../src/memory/size.js";

const MiB = 1024 ** 2;

describe("recommendLimit", () => {
  it.each([
    [0, 6],
    [3 * MiB, 6],
    [4 * MiB, 8], // 6.67 -> 8
    [20 * MiB, 48], // 33.3 -> 48
    [40 * MiB, 96], // 66.7 -> 96
    [378 * MiB, 768], // 630 -> 768
    [600 * MiB, 1024],
    [1200 * MiB, 2048],
  ])("peak %d bytes -> %d MiB", (peak, mib) => {
    expect(recommendLimit(peak)).toBe(mib * MiB);
  });

  it("keeps every peak at or below 60% of its recommendation", () => {
    for (let peak = MiB; peak < 8 * 1024 * MiB; peak = Math.ceil(peak * 1.29)) {
      expect(peak / recommendLimit(peak)).toBeLessThanOrEqual(0.6);
    }
  });

  it("states the rule", () => {
    expect(ADVICE_RULE).toMatch(/peak \/ 0\.6/);
    expect(ADVICE_RULE).toMatch(/never below 6 MiB/);
  });
});

describe("adviseLimits", () => {
  const observed = (service: string, peakMiB: number, limitMiB?: number) => ({
    project: "p",
    service,
    container: `p-${service}-1`,
    samples: 10,
    peakBytes: peakMiB * MiB,
    lastUsageBytes: peakMiB * MiB,
    limitBytes: limitMiB === undefined ? undefined : limitMiB * MiB,
  });

  it("says whether to set, raise, lower or keep", () => {
    const advice = adviseLimits([
      observed("backend", 378, 512),
      observed("auth", 10),
      observed("redis", 20, 512),
      observed("db", 30, 64),
    ]);
    expect(advice.map((a) => [a.service, a.recommendedBytes / MiB, a.change])).toEqual([
      ["backend", 768, "raise"],
      ["auth", 24, "set"],
      ["redis", 48, "lower"],
      ["db", 64, "keep"],
    ]);
  });

  it("writes a Compose override that parses and merges over either limit key", () => {
    const text = adviceOverrideYaml(adviseLimits([observed("backend", 378, 512), observed("odd name", 10)]), {
      project: "p",
      durationMs: 60_000,
    });
    expect(text).toMatch(/^# Memory limits recommended by `berth stats --advise` for project p,/);
    const doc = parse(text) as { services: Record<string, Record<string, unknown>> };
    expect(doc.services.backend).toEqual({
      mem_limit: "768m",
      memswap_limit: "768m",
      deploy: { resources: { limits: { memory: "768m" } } },
    });
    expect(parseSize(doc.services["odd name"]!.mem_limit as string)).toBe(24 * MiB);
  });
});
