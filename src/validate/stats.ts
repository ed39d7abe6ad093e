// Summary statistics for latency samples (percentiles: model/stats.ts, shared with the
// benchmarks, so the report and `npm run bench` agree on what p95 means).

import { percentile } from "../model/stats.js";
import type { LatencySummary } from "./model.js";

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, mean: 0, p50: 0, p95: 0, min: 0, max: 0 };
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    count: values.length,
    mean: round(sum / values.length),
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

/** The most intervals open at one instant: how many calls really were in flight together. */
export function maxOverlap(intervals: readonly { start: number; end: number }[]): number {
  const edges: [number, number][] = [];
  for (const { start, end } of intervals) {
    edges.push([start, 1], [end, -1]);
  }
  // At equal times an end comes before a start: back-to-back calls do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, delta] of edges) {
    open += delta;
    most = Math.max(most, open);
  }
  return most;
}
