// `berth validate --quick` on the suite's healthy daemon: every scenario passes, each with its
// evidence, nothing is left behind, and the reports hold every scenario of the run.
import { describe, expect, it } from "vitest";
import { createEngine } from "../../src/guard/guard.js";
import { selectCategories } from "../../src/validate/catalogue.js";
import { PERF_OPERATIONS } from "../../src/validate/model.js";
import { renderHtml } from "../../src/validate/report/html.js";
import { renderMarkdown } from "../../src/validate/report/markdown.js";
import { runValidation } from "../../src/validate/runner.js";

describe("berth validate --quick", () => {
  it("passes on a healthy daemon, with evidence for every scenario and no leaks", async () => {
    const lines: string[] = [];
    const results = await runValidation({
      engine: createEngine(),
      categories: selectCategories(),
      quick: true,
      // The suite's other files create resources on this daemon at the same time (docker-compose,
      // testcontainers, raw clients): the unlabelled part of the leak check would count them.
      checkUnlabelled: false,
      onProgress: (e) => {
        if (e.kind === "scenario-end") lines.push(`${e.result.status} ${e.result.id}`);
      },
    });
    const failed = results.scenarios
      .filter((s) => s.status === "fail")
      .map((s) => `${s.id}: ${s.failure?.message} ${JSON.stringify(s.evidence)}`);
    expect(failed).toEqual([]);
    expect(results.leaks).toEqual({ count: 0, resources: [] });
    expect(results.summary.failed).toBe(0);
    expect(results.summary.passed).toBeGreaterThanOrEqual(30);
    expect(lines).toHaveLength(results.scenarios.length);
    for (const s of results.scenarios.filter((r) => r.status === "pass")) {
      expect(Object.keys(s.evidence).length + Object.keys(s.timings).length, s.id).toBeGreaterThan(0);
    }
    for (const op of PERF_OPERATIONS)
      expect(results.performance.operations[op]?.count, op).toBeGreaterThan(0);
    expect(results.performance.concurrency.every((c) => c.successRate === 1)).toBe(true);
    expect(results.machine.engineVersion).not.toBe("unknown");
    const md = renderMarkdown(results);
    const html = renderHtml(results);
    for (const s of results.scenarios) {
      expect(md).toContain(`\`${s.id}\``);
      expect(html).toContain(`id="scenario-${s.id}"`);
    }
    expect(md).toContain("**PASS**");
  }, 900_000);
});
