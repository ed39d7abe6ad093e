import { describe, expect, it } from "vitest";
import { createLimiter } from "../../src/guard/limiter.js";
import { createGuardMetrics } from "../../src/guard/metrics.js";

describe("guard metrics", () => {
  it("summarises daemon-side latency per class and never samples streams", () => {
    const metrics = createGuardMetrics(createLimiter({ mode: "fixed" }));
    for (let ms = 1; ms <= 100; ms++) metrics.recordDispatch({ class: "lifecycle", durationMs: ms });
    metrics.recordDispatch({ class: "read", durationMs: 3 });
    metrics.recordDispatch({ class: "stream", durationMs: 60_000 });
    const s = metrics.snapshot();
    expect(s.latency.lifecycle).toMatchObject({ count: 100, max: 100, mean: 50.5 });
    expect(s.latency.lifecycle.p50).toBeCloseTo(50.5, 5);
    expect(s.latency.lifecycle.p95).toBeCloseTo(95.05, 5);
    expect(s.latency.read.count).toBe(1);
    expect(JSON.stringify(s)).not.toContain("60000");
  });

  it("counts calls, retries and failures; a 404 is an error code but not a failure", () => {
    const metrics = createGuardMetrics(createLimiter());
    metrics.recordCall({ class: "lifecycle", ok: true, retries: 2, queuedMs: 40 });
    metrics.recordCall({ class: "read", ok: false, errorCode: "BERTH_NOT_FOUND", retries: 0, queuedMs: 0 });
    metrics.recordCall({
      class: "lifecycle",
      ok: false,
      errorCode: "BERTH_TRANSIENT",
      retries: 4,
      queuedMs: 0,
    });
    metrics.recordCall({ class: "stream", ok: true, retries: 0, queuedMs: 0 });
    expect(metrics.snapshot()).toMatchObject({
      calls: { lifecycle: 2, read: 1, stream: 1 },
      retries: 6,
      failures: 1,
      errorsByCode: { BERTH_NOT_FOUND: 1, BERTH_TRANSIENT: 1 },
    });
  });

  it("renders a readable block for --verbose", () => {
    const metrics = createGuardMetrics(createLimiter());
    metrics.recordDispatch({ class: "lifecycle", durationMs: 120 });
    metrics.recordCall({ class: "lifecycle", ok: true, retries: 1, queuedMs: 5 });
    const text = metrics.render();
    expect(text).toContain("berth guard: limiter adaptive: limit 2");
    expect(text).toContain("1 lifecycle, 0 read, 0 stream; 1 retries, 0 failures");
    expect(text).toMatch(/lifecycle\s+1\s+120ms\s+120ms/);
    expect(createGuardMetrics(createLimiter({ mode: "off" })).render()).toContain("limiter off");
  });
});
