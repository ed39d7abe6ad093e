import { describe, expect, it } from "vitest";
import { DEFAULT_GRADIENT, GradientLaw } from "../../src/guard/gradient.js";
import { kneeInFlight, meanLimit, medianOf, type SimResult, simulate } from "./guard-simulated-daemon.js";

const DURATION = 40_000;
const WARMUP = 5_000;

function run(cores: number, callers: number, extra: Partial<Parameters<typeof simulate>[0]> = {}) {
  const law = new GradientLaw(DEFAULT_GRADIENT, 0);
  const guarded = simulate({ callers, cores, durationMs: DURATION, law, ...extra });
  const unlimited = simulate({ callers, cores, durationMs: DURATION, ...extra });
  return { law, guarded, unlimited };
}

function p95Stretch(result: SimResult, from = WARMUP): number {
  const values = result.stretch
    .filter((s) => s.at >= from)
    .map((s) => s.value)
    .sort((a, b) => a - b);
  return values[Math.floor(values.length * 0.95)]!;
}

describe("the simulated daemon", () => {
  it("has a knee: throughput stops growing past it and only latency grows", () => {
    const at = (callers: number) => simulate({ callers, cores: 2, durationMs: 20_000 });
    const one = at(1);
    const eight = at(8);
    const many = at(32);
    expect(eight.throughputPerSec).toBeGreaterThan(1.8 * one.throughputPerSec);
    expect(many.throughputPerSec).toBeLessThan(1.05 * eight.throughputPerSec);
    expect(medianOf(many.stretch.map((s) => s.value))).toBeGreaterThan(
      3 * medianOf(eight.stretch.map((s) => s.value)),
    );
  });
});

describe("the adaptive law against the simulated daemon", () => {
  // 32 callers overload a knee of 2 sixteen times but a knee of 8 only four times: less to win there.
  for (const [cores, latencyShare] of [
    [2, 0.5],
    [4, 0.5],
    [8, 0.6],
  ] as const) {
    it(`settles near a knee of ${cores}: full throughput, a fraction of the unlimited latency`, () => {
      const { guarded, unlimited } = run(cores, 32);
      const settled = meanLimit(guarded, DEFAULT_GRADIENT.initialLimit, WARMUP, DURATION);
      expect(settled).toBeGreaterThanOrEqual(kneeInFlight(cores));
      expect(settled).toBeLessThanOrEqual(kneeInFlight(cores) * 2.5);
      expect(guarded.throughputPerSec).toBeGreaterThanOrEqual(0.95 * unlimited.throughputPerSec);
      expect(p95Stretch(guarded)).toBeLessThanOrEqual(latencyShare * p95Stretch(unlimited));
    });
  }

  it("keeps throughput with noisy latencies", () => {
    const { guarded, unlimited } = run(4, 32, { noise: 0.5, seed: 7 });
    expect(guarded.throughputPerSec).toBeGreaterThanOrEqual(0.9 * unlimited.throughputPerSec);
    expect(p95Stretch(guarded)).toBeLessThanOrEqual(0.5 * p95Stretch(unlimited));
  });

  it("does not grow the limit when callers never reach it", () => {
    const { law, guarded } = run(8, 1);
    expect(law.limit).toBe(DEFAULT_GRADIENT.initialLimit);
    expect(guarded.maxInFlight).toBe(1);
  });

  it("falls during a burst of errors and recovers to the knee afterwards", () => {
    const law = new GradientLaw(DEFAULT_GRADIENT, 0);
    const result = simulate({
      callers: 32,
      cores: 4,
      durationMs: 30_000,
      law,
      failBetween: [15_000, 16_000],
    });
    const before = meanLimit(result, DEFAULT_GRADIENT.initialLimit, 10_000, 15_000);
    const during = meanLimit(result, DEFAULT_GRADIENT.initialLimit, 15_500, 16_000);
    const after = meanLimit(result, DEFAULT_GRADIENT.initialLimit, 20_000, 30_000);
    expect(during).toBeLessThanOrEqual(before / 2);
    expect(after).toBeGreaterThanOrEqual(4);
    expect(after).toBeLessThanOrEqual(10);
  });

  it("backs off when other tenants slow the daemon for good, then takes that as the new normal", () => {
    const slower = (now: number) => (now < 20_000 ? 1 : 0.25);
    const law = new GradientLaw(DEFAULT_GRADIENT, 0);
    const guarded = simulate({ callers: 32, cores: 2, durationMs: 60_000, law, speedAt: slower });
    const unlimited = simulate({ callers: 32, cores: 2, durationMs: 60_000, speedAt: slower });
    const late = (r: SimResult) => r.stretch.filter((s) => s.at >= 25_000).length;
    expect(meanLimit(guarded, 2, 20_000, 25_000)).toBeLessThan(meanLimit(guarded, 2, 5_000, 20_000));
    expect(late(guarded)).toBeGreaterThanOrEqual(0.9 * late(unlimited));
  });

  it("stays within its bounds", () => {
    const law = new GradientLaw({ ...DEFAULT_GRADIENT, minLimit: 3, maxLimit: 5, initialLimit: 3 }, 0);
    const result = simulate({ callers: 32, cores: 16, durationMs: 10_000, law, failBetween: [5_000, 6_000] });
    expect(result.limits.every((c) => c.limit >= 3 && c.limit <= 5)).toBe(true);
    expect(result.maxInFlight).toBeLessThanOrEqual(5);
  });
});

describe("GradientLaw", () => {
  it("measures an operation's first call alone: it waits for the daemon to drain, then runs by itself", () => {
    const law = new GradientLaw({ ...DEFAULT_GRADIENT, initialLimit: 8 }, 0);
    law.onDispatch("container.create", 0, 0);
    law.onSample(
      { operation: "container.create", latencyMs: 20, outcome: "ok", dispatchedAt: 0, inFlightAtDispatch: 1 },
      20,
    );
    expect(law.admits("container.create", 3, 30)).toBe(true);
    expect(law.admits("container.start", 3, 30)).toBe(false);
    expect(law.admits("container.start", 0, 40)).toBe(true);
    law.onDispatch("container.start", 0, 40);
    // While the probe runs, nothing else starts, up to probeTimeoutMs.
    expect(law.admits("container.create", 1, 50)).toBe(false);
    expect(law.admitDeadline()).toBe(40 + DEFAULT_GRADIENT.probeTimeoutMs);
    law.onSample(
      {
        operation: "container.start",
        latencyMs: 150,
        outcome: "ok",
        dispatchedAt: 40,
        inFlightAtDispatch: 1,
      },
      190,
    );
    expect(law.longTermLatency("container.start")).toBe(150);
    expect(law.admits("container.create", 1, 200)).toBe(true);
  });

  it("stops waiting for a drain or a probe after probeTimeoutMs", () => {
    const law = new GradientLaw({ ...DEFAULT_GRADIENT, initialLimit: 8 }, 0);
    expect(law.admits("container.start", 2, 0)).toBe(false);
    expect(law.admits("container.start", 2, DEFAULT_GRADIENT.probeTimeoutMs)).toBe(true);
    law.onDispatch("container.start", 2, DEFAULT_GRADIENT.probeTimeoutMs);
    law.onDispatch("container.stop", 0, 5_000);
    expect(law.admits("container.start", 1, 5_001)).toBe(false);
    expect(law.admits("container.start", 1, 5_000 + DEFAULT_GRADIENT.probeTimeoutMs)).toBe(true);
  });

  const sample = (latencyMs: number, at: number, inFlight = 4) => ({
    operation: "container.start",
    latencyMs,
    outcome: "ok" as const,
    dispatchedAt: at - latencyMs,
    inFlightAtDispatch: inFlight,
  });

  it("learns a baseline per operation, so a slow operation is not mistaken for load", () => {
    const law = new GradientLaw(DEFAULT_GRADIENT, 0);
    let t = 0;
    for (let i = 0; i < 40; i++) {
      law.onDemand(law.limit, 1);
      t += 50;
      law.onSample({ ...sample(20, t), operation: "container.create" }, t);
      law.onSample(sample(400, t), t);
    }
    expect(law.longTermLatency("container.create")).toBeCloseTo(20, 0);
    expect(law.longTermLatency("container.start")).toBeCloseTo(400, 0);
    expect(law.limit).toBeGreaterThan(DEFAULT_GRADIENT.initialLimit);
  });

  it("lowers the limit at most once per window on errors, and ignores dropped calls", () => {
    const law = new GradientLaw({ ...DEFAULT_GRADIENT, initialLimit: 10 }, 0);
    const error = { ...sample(5, 1_000), outcome: "error" as const };
    expect(law.onSample(error, 1_000)).toMatchObject({ from: 10, to: 7, reason: "error" });
    expect(law.onSample(error, 1_010)).toBeUndefined();
    expect(law.onSample({ ...error, outcome: "timeout" }, 1_300)).toMatchObject({
      from: 7,
      reason: "timeout",
    });
    expect(law.onSample({ ...error, outcome: "dropped" }, 2_000)).toBeUndefined();
  });
});
