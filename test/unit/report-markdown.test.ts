import { describe, expect, it } from "vitest";
import {
  PERF_OPERATION_TITLES,
  PERF_OPERATIONS,
  resultsSchema,
  verdictOf,
} from "../../src/validate/model.js";
import {
  formatEvidence,
  formatMs,
  formatPercent,
  formatRate,
  humanKey,
} from "../../src/validate/report/format.js";
import { renderMarkdown } from "../../src/validate/report/markdown.js";
import { SEED, seedComparison } from "../../src/validate/report/seed.js";
import { sampleResults } from "./report-sample.js";

/** The cells of the Markdown table row whose first cell is `first`. */
function row(markdown: string, first: string): string[] {
  const line = markdown.split("\n").find((l) => l.startsWith(`| ${first} |`));
  if (!line) throw new Error(`no table row for ${first}`);
  return line
    .slice(2, -2)
    .split(" | ")
    .map((c) => c.trim());
}

describe("the Markdown report matches the results JSON", () => {
  const results = sampleResults();
  const md = renderMarkdown(results);

  it("is rendered from a document that the results schema accepts", () => {
    expect(resultsSchema.safeParse(results).success).toBe(true);
  });

  it("states the verdict, the overall success rate and the leaks first", () => {
    const head = md.split("\n").slice(0, 4).join("\n");
    expect(head).toContain("**FAIL**");
    expect(head).toContain(formatPercent(results.summary.successRate));
    expect(head).toContain(`${results.summary.passed} of ${results.summary.total} scenarios passed`);
    expect(head).toContain(`${results.summary.skipped} skipped`);
    expect(head).toContain("0 leaks");
    expect(row(md, "Leaks")).toEqual(["Leaks", "0"]);
    expect(row(md, "Lifecycle throughput")[1]).toBe(formatRate(7.4));
  });

  it("has a pass-rate row per category with the summary's counts", () => {
    for (const c of results.summary.categories) {
      const cells = row(md, c.title);
      expect(cells.slice(1, 4)).toEqual([String(c.passed), String(c.failed), String(c.skipped)]);
      expect(cells[4]).toBe(c.passed + c.failed === 0 ? "n/a" : formatPercent(c.passRate));
      expect(cells[5]).toBe(formatMs(c.durationMs));
    }
  });

  it("has every timing figure of every operation", () => {
    for (const op of PERF_OPERATIONS) {
      const f = results.performance.operations[op]!;
      expect(row(md, PERF_OPERATION_TITLES[op])).toEqual([
        PERF_OPERATION_TITLES[op],
        String(f.count),
        formatMs(f.mean),
        formatMs(f.p50),
        formatMs(f.p95),
        formatMs(f.min),
        formatMs(f.max),
      ]);
    }
  });

  it("has every concurrency figure", () => {
    for (const c of results.performance.concurrency) {
      expect(row(md, String(c.callers))).toEqual([
        String(c.callers),
        String(c.lifecycles),
        String(c.succeeded),
        formatPercent(c.successRate),
        formatMs(c.wallMs),
        formatRate(c.throughput),
      ]);
    }
  });

  it("has every scenario, in its category's section, with its result and evidence", () => {
    for (const s of results.scenarios) {
      const category = results.summary.categories.find((c) => c.category === s.category)!;
      const section = md.slice(md.indexOf(`## ${category.title}\n`));
      expect(section).toContain(
        `#### ${s.status === "pass" ? "✅" : s.status === "fail" ? "❌" : "⏭️"} ${s.title}`,
      );
      expect(section).toContain(
        `\`${s.id}\` · **${s.status === "fail" ? "FAIL" : s.status}** · ${formatMs(s.durationMs)}`,
      );
      for (const [key, value] of Object.entries(s.evidence)) {
        expect(section).toContain(`- ${humanKey(key)}: `);
        expect(section).toContain(formatEvidence(value));
      }
      for (const [phase, ms] of Object.entries(s.timings))
        expect(section).toContain(`${phase} ${formatMs(ms)}`);
    }
  });

  it("says why a scenario failed, with expected, actual and hint", () => {
    const failed = results.scenarios.find((s) => s.status === "fail")!;
    expect(md).toContain(`> **Why it failed:** ${failed.failure!.message}`);
    expect(md).toContain("> expected: `a finite limit`");
    expect(md).toContain("> actual: `mode off, 16 calls at once`");
    expect(md).toContain(`> hint: ${failed.failure!.hint}`);
    expect(md).toContain(`- \`${failed.id}\`: ${failed.failure!.message}`);
  });

  it("says why a scenario was skipped", () => {
    expect(md).toContain("> Skipped: its images are not built");
  });

  it("names the machine and daemon", () => {
    const m = results.machine;
    expect(row(md, "Engine")[1]).toBe(`Docker Engine ${m.engineVersion} (API ${m.apiVersion})`);
    expect(row(md, "Endpoint")[1]).toBe(`${m.dockerHost} (the default socket)`);
    expect(row(md, "cgroup")[1]).toBe("v1 (cgroupfs driver)");
    expect(row(md, "Storage driver")[1]).toBe("overlay2");
    expect(row(md, "CPUs")[1]).toBe("2 (daemon sees 2)");
    expect(row(md, "Memory")[1]).toBe("8 GiB (daemon sees 8 GiB)");
    expect(row(md, "Kernel")[1]).toBe(m.kernel);
  });

  it("escapes table pipes in evidence shown in tables, and has the engine API latency", () => {
    expect(md).toContain("a | pipe and <b>markup</b>");
    const create = results.performance.api["container.create"]!;
    expect(row(md, "`container.create`")).toEqual([
      "`container.create`",
      String(create.count),
      formatMs(create.p50),
      formatMs(create.p95),
      formatMs(create.max),
    ]);
  });

  it("reads PASS when nothing failed, was skipped or leaked, and FAIL on a leak or a skip alone", () => {
    const clean = sampleResults({
      scenarios: sampleResults().scenarios.filter((s) => s.status === "pass"),
      summary: { ...sampleResults().summary, failed: 0, skipped: 0, successRate: 1 },
    });
    expect(verdictOf(clean)).toBe("PASS");
    expect(renderMarkdown(clean)).toContain("**PASS**");
    expect(verdictOf({ ...clean, leaks: { count: 1, resources: [{ kind: "container", name: "x" }] } })).toBe(
      "FAIL",
    );
    const skipped = { ...clean, summary: { ...clean.summary, skipped: 1 } };
    expect(verdictOf(skipped)).toBe("FAIL");
    expect(verdictOf({ ...skipped, options: { ...skipped.options, allowSkips: true } })).toBe("PASS");
  });

  it("in a --prove run, reads FAIL unless every scenario that passed was proven", () => {
    const base = sampleResults();
    const clean = sampleResults({
      scenarios: base.scenarios.filter((s) => s.status === "pass"),
      summary: { ...base.summary, failed: 0, skipped: 0, successRate: 1 },
      options: { ...base.options, prove: true },
    });
    expect(verdictOf({ ...clean, summary: { ...clean.summary, proven: clean.summary.passed } })).toBe("PASS");
    expect(verdictOf({ ...clean, summary: { ...clean.summary, proven: clean.summary.passed - 1 } })).toBe(
      "FAIL",
    );
  });
});

describe("the seed comparison", () => {
  it("puts every figure of the seed's report beside the run's own", () => {
    const results = sampleResults();
    const rows = seedComparison(results);
    expect(rows.map((r) => r.figure)).toEqual([
      "Create",
      "Stop (graceful)",
      "Removal",
      "Concurrent success",
      "Leaks",
    ]);
    const create = results.performance.operations.create!;
    expect(rows[0]!.berth).toContain(formatMs(create.p50));
    expect(rows[0]!.better).toBe(create.p50 <= SEED.createMs);
    expect(rows[3]!.better).toBe(
      Math.min(...results.performance.concurrency.map((c) => c.successRate)) >= 0.95,
    );
    const md = renderMarkdown(results);
    expect(md).toContain("## Against the seed's figures");
    expect(row(md, "Leaks")).toBeDefined();
  });

  it("says when a figure was not measured", () => {
    const base = sampleResults();
    const rows = seedComparison({
      ...base,
      performance: { ...base.performance, operations: {}, concurrency: [] },
    });
    expect(rows[0]!.berth).toBe("not measured");
    expect(rows[0]!.better).toBeUndefined();
    expect(rows[3]!.better).toBeUndefined();
  });
});
