import { describe, expect, it } from "vitest";
import { percentile } from "../../src/model/stats.js";
import { maxOverlap, summarize } from "../../src/validate/stats.js";

describe("summarize", () => {
  it("gives count, mean, p50, p95, min and max rounded to 0.1 ms", () => {
    expect(summarize([10, 20, 30, 40, 100])).toEqual({
      count: 5,
      mean: 40,
      p50: 30,
      p95: 88,
      min: 10,
      max: 100,
    });
  });

  it("answers zeros for no samples", () => {
    expect(summarize([])).toEqual({ count: 0, mean: 0, p50: 0, p95: 0, min: 0, max: 0 });
  });

  it("interpolates percentiles between ranks", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([5], 95)).toBe(5);
  });

  it("answers 0 for no samples, in reports and benchmarks alike", () => {
    expect(percentile([], 50)).toBe(0);
    expect(percentile([], 95)).toBe(0);
  });
});

describe("maxOverlap", () => {
  it("counts the most intervals open at one instant", () => {
    expect(maxOverlap([])).toBe(0);
    expect(
      maxOverlap([
        { start: 0, end: 10 },
        { start: 5, end: 15 },
        { start: 6, end: 7 },
        { start: 20, end: 30 },
      ]),
    ).toBe(3);
  });

  it("does not count back-to-back calls as overlapping", () => {
    expect(
      maxOverlap([
        { start: 0, end: 10 },
        { start: 10, end: 20 },
        { start: 20, end: 30 },
      ]),
    ).toBe(1);
  });
});
