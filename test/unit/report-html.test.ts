import { describe, expect, it } from "vitest";
import { categoryChart, latencyChart, logScale } from "../../src/validate/report/charts.js";
import { renderHtml } from "../../src/validate/report/html.js";
import { sampleResults } from "./report-sample.js";

describe("the HTML report", () => {
  const results = sampleResults();
  const html = renderHtml(results);

  it("is one self-contained file: no scripts, no stylesheets or images fetched, no web fonts", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/\bsrc=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/@import/i);
    // The only absolute URL is the SVG namespace, which browsers never fetch.
    const urls = html.match(/https?:\/\/[^"'\s<)]+/g) ?? [];
    expect(new Set(urls)).toEqual(new Set(["http://www.w3.org/2000/svg"]));
  });

  it("has the summary, category, latency, concurrency, scenario and machine sections", () => {
    for (const id of [
      "summary",
      "failures",
      "categories",
      "latency",
      "concurrency",
      "scenarios",
      "machine",
    ]) {
      expect(html).toContain(`id="${id}"`);
    }
    expect(html).not.toContain('id="baseline"');
    for (const c of results.summary.categories) expect(html).toContain(`id="category-${c.category}"`);
    for (const s of results.scenarios) expect(html).toContain(`id="scenario-${s.id}"`);
  });

  it("escapes what scenarios observed", () => {
    expect(html).toContain("a | pipe and &lt;b&gt;markup&lt;/b&gt;");
    expect(html).not.toContain("<b>markup</b>");
  });

  it("draws one bar group per category and one row per operation", () => {
    const bars = categoryChart(results.summary.categories);
    expect(bars.match(/class="label"/g)).toHaveLength(results.summary.categories.length);
    const rows = latencyChart([
      { label: "create", summary: { count: 3, mean: 2, p50: 2, p95: 3, min: 1, max: 3 }, samples: [1, 2, 3] },
    ]);
    expect(rows.match(/<circle/g)).toHaveLength(3);
    expect(rows).toContain("p50 2.0 ms · p95 3.0 ms");
  });

  it("puts latencies on a log axis with 1-2-5 ticks covering the samples", () => {
    const { scale, ticks } = logScale(20, 3000, 0, 300);
    expect(ticks[0]).toBe(10);
    expect(ticks.at(-1)).toBe(10_000);
    expect(scale(10)).toBe(0);
    expect(scale(10_000)).toBe(300);
    expect(scale(100)).toBeCloseTo(100);
  });
});
