// The figures of the seed's completion report (the tool berth replaced), and berth's measured
// figure beside each: what a reader comparing the two wants in one table.
import type { ValidationResults } from "../model.js";
import { formatMs, formatPercent } from "./format.js";

interface SeedRow {
  figure: string;
  seed: string;
  berth: string;
  /** True when berth's figure is at least as good as the seed's; undefined when not measured. */
  better: boolean | undefined;
}

/** The seed's completion report: create 1.2 s, stop 3.4 s, removal 0.8 s, 95% concurrent success, 0 leaks. */
export const SEED = {
  createMs: 1_200,
  stopMs: 3_400,
  removalMs: 800,
  concurrentSuccess: 0.95,
  leaks: 0,
} as const;

export function seedComparison(results: ValidationResults): SeedRow[] {
  const ops = results.performance.operations;
  const latency = (figure: string, seedMs: number, op: keyof typeof ops): SeedRow => {
    const f = ops[op];
    return {
      figure,
      seed: formatMs(seedMs),
      berth: f ? `${formatMs(f.p50)} p50 (p95 ${formatMs(f.p95)}, ${f.count} samples)` : "not measured",
      better: f ? f.p50 <= seedMs : undefined,
    };
  };
  const concurrency = results.performance.concurrency;
  const worst = concurrency.length ? Math.min(...concurrency.map((c) => c.successRate)) : undefined;
  return [
    latency("Create", SEED.createMs, "create"),
    latency("Stop (graceful)", SEED.stopMs, "gracefulStop"),
    latency("Removal", SEED.removalMs, "safeRemove"),
    {
      figure: "Concurrent success",
      seed: formatPercent(SEED.concurrentSuccess, 0),
      berth:
        worst === undefined
          ? "not measured"
          : `${formatPercent(worst)} (lowest of ${concurrency.map((c) => `${c.callers} callers`).join(", ")})`,
      better: worst === undefined ? undefined : worst >= SEED.concurrentSuccess,
    },
    {
      figure: "Leaks",
      seed: String(SEED.leaks),
      berth: String(results.leaks.count),
      better: results.leaks.count <= SEED.leaks,
    },
  ];
}
