import { describe, expect, it } from "vitest";
import type { ScenarioResult } from "../../src/validate/model.js";
import { compareRuns, latencyVerdict } from "../../src/validate/report/compare.js";
import { formatChange } from "../../src/validate/report/format.js";
import { renderHtml } from "../../src/validate/report/html.js";
import { renderMarkdown } from "../../src/validate/report/markdown.js";
import { summarize } from "../../src/validate/stats.js";
import { sampleResults } from "./report-sample.js";

const summary = (p50: number) => ({ count: 10, mean: p50, p50, p95: p50 * 2, min: p50 / 2, max: p50 * 3 });

describe("latencyVerdict", () => {
  it("calls a change faster or slower only when it is large both relatively and absolutely", () => {
    expect(latencyVerdict(summary(100), summary(80))).toBe("faster");
    expect(latencyVerdict(summary(100), summary(125))).toBe("slower");
    expect(latencyVerdict(summary(100), summary(105))).toBe("same"); // 5%: below the relative threshold
    expect(latencyVerdict(summary(10), summary(14))).toBe("same"); // 40% but only 4 ms
    expect(latencyVerdict(summary(10), summary(16))).toBe("slower");
  });

  it("names operations only one run measured", () => {
    expect(latencyVerdict(undefined, summary(50))).toBe("new");
    expect(latencyVerdict(summary(50), undefined)).toBe("gone");
    expect(latencyVerdict({ ...summary(50), count: 0 }, summary(50))).toBe("new");
  });

  it("takes custom thresholds", () => {
    expect(latencyVerdict(summary(100), summary(104), { relative: 0.02, absoluteMs: 1 })).toBe("slower");
  });
});

function withStatus(
  id: string,
  status: ScenarioResult["status"],
  message?: string,
): (s: ScenarioResult) => ScenarioResult {
  return (s) =>
    s.id === id ? { ...s, status, ...(message ? { failure: { message } } : { failure: undefined }) } : s;
}

describe("compareRuns", () => {
  const baseline = sampleResults({ runId: "base0001" });
  // In the current run the burst check passes again, exit codes newly fail, one scenario is new
  // and one is gone; create got faster and safe removal slower.
  const current = sampleResults({
    runId: "curr0002",
    scenarios: [
      ...sampleResults()
        .scenarios.filter((s) => s.id !== "reference-stack.up-healthy-down")
        .map(withStatus("rate-limiting.burst-within-limit", "pass"))
        .map(withStatus("lifecycle.exit-codes", "fail", "exit code for exit 3: expected 3, got 0")),
      { ...sampleResults().scenarios[0]!, id: "lifecycle.brand-new", title: "A new check" },
    ],
    performance: {
      ...sampleResults().performance,
      operations: {
        ...sampleResults().performance.operations,
        create: { ...summarize([40, 41, 42, 43]), samples: [40, 41, 42, 43] },
        safeRemove: { ...summarize([1500, 1600, 1700]), samples: [1500, 1600, 1700] },
      },
      throughput: 8.1,
    },
  });
  const c = compareRuns(current, baseline);

  it("lists newly failing, newly passing, added and removed scenarios", () => {
    expect(c.newlyFailing.map((s) => s.id)).toEqual(["lifecycle.exit-codes"]);
    expect(c.newlyFailing[0]!.message).toBe("exit code for exit 3: expected 3, got 0");
    expect(c.newlyPassing.map((s) => s.id)).toEqual(["rate-limiting.burst-within-limit"]);
    expect(c.stillFailing).toEqual([]);
    expect(c.added.map((s) => s.id)).toEqual(["lifecycle.brand-new"]);
    expect(c.removed.map((s) => s.id)).toEqual(["reference-stack.up-healthy-down"]);
  });

  it("compares every operation's latency with a verdict and the p50 change", () => {
    const byOp = Object.fromEntries(c.operations.map((o) => [o.operation, o]));
    expect(Object.keys(byOp)).toEqual(["create", "start", "gracefulStop", "safeRemove"]);
    expect(byOp.create!.verdict).toBe("faster");
    expect(byOp.create!.p50Change!).toBeLessThan(0);
    expect(byOp.safeRemove!.verdict).toBe("slower");
    expect(byOp.start!.verdict).toBe("same");
    expect(byOp.start!.p50Change).toBe(0);
  });

  it("carries throughput, success rate and leaks of both runs", () => {
    expect(c.throughput).toEqual({ before: 7.4, after: 8.1 });
    expect(c.successRate.before).toBe(0.75);
    expect(c.leaks).toEqual({ before: 0, after: 0 });
    expect(c.baseline.runId).toBe("base0001");
  });

  it("reports a scenario failing in both runs as still failing, not newly", () => {
    const again = compareRuns(baseline, baseline);
    expect(again.stillFailing.map((s) => s.id)).toEqual(["rate-limiting.burst-within-limit"]);
    expect(again.newlyFailing).toEqual([]);
  });

  it("is shown in both reports", () => {
    const md = renderMarkdown(current, c);
    expect(md).toContain("## Change against the baseline");
    expect(md).toContain(
      "### Newly failing\n\n- `lifecycle.exit-codes` Exit codes are reported exactly: exit code for exit 3",
    );
    expect(md).toContain("### Newly passing");
    const createRow = md.split("\n").find((l) => l.startsWith("| create | 90 ms |"))!;
    expect(createRow.split(" | ").at(-1)).toBe(`faster (${formatChange(41.5 / 90.1 - 1)}) |`);
    const html = renderHtml(current, c);
    expect(html).toContain('id="baseline"');
    expect(html).toContain("Newly failing (1)");
    expect(html).toContain('<span class="pill slower">slower</span>');
  });
});
