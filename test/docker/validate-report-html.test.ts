// The HTML report renders in a real browser: a real validation run (and a baseline derived from
// it) goes through `berth report`, headless Chromium screenshots the page and dumps its DOM.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createEngine } from "../../src/guard/guard.js";
import { CATEGORIES } from "../../src/validate/catalogue.js";
import type { ValidationResults } from "../../src/validate/model.js";
import { runValidation } from "../../src/validate/runner.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "berth-report-html-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An earlier run to compare with: slower create, one scenario that used to fail. */
function baselineOf(results: ValidationResults): ValidationResults {
  const ops = results.performance.operations;
  const slower = (values: number[]) => values.map((v) => v * 1.6);
  return {
    ...results,
    runId: "baseline",
    performance: {
      ...results.performance,
      operations: Object.fromEntries(
        Object.entries(ops).map(([k, f]) => [
          k,
          { ...f, mean: f.mean * 1.6, p50: f.p50 * 1.6, p95: f.p95 * 1.6, samples: slower(f.samples) },
        ]),
      ),
    },
    scenarios: results.scenarios.map((s, i) =>
      i === 0 ? { ...s, status: "fail", failure: { message: "it failed in the baseline" } } : s,
    ),
  };
}

function chromium(browser: string, args: string[]) {
  return run(
    browser,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${mkdtempSync(join(dir, "profile-"))}`,
      ...args,
    ],
    { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
}

describe("the HTML report in headless Chromium", () => {
  it("renders a real run with a baseline: the screenshot is made and the DOM has every section", async () => {
    const { stdout: browserPath } = await run(
      "bash",
      [join(process.cwd(), "scripts", "ensure-chromium.sh")],
      {
        timeout: 600_000,
      },
    );
    const browser = browserPath.trim().split("\n").at(-1)!;
    const lifecycle = CATEGORIES.find((c) => c.id === "lifecycle")!;
    const results = await runValidation({
      engine: createEngine(),
      categories: [lifecycle],
      quick: true,
      // The suite's other files create resources on this daemon at the same time (docker-compose,
      // testcontainers, raw clients): the unlabelled part of the leak check would count them.
      checkUnlabelled: false,
    });
    writeFileSync(join(dir, "results.json"), JSON.stringify(results));
    writeFileSync(join(dir, "baseline.json"), JSON.stringify(baselineOf(results)));
    const html = join(dir, "report.html");
    const cli = join(process.cwd(), "bin", "berth.js");
    await run(process.execPath, [
      cli,
      "report",
      join(dir, "results.json"),
      "--html",
      html,
      "--md",
      join(dir, "report.md"),
      "--baseline",
      join(dir, "baseline.json"),
    ]);

    const screenshot = join(dir, "report.png");
    await chromium(browser, [`--screenshot=${screenshot}`, "--window-size=1280,2000", `file://${html}`]);
    const png = readFileSync(screenshot);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(png.readUInt32BE(16)).toBe(1280);
    expect(png.readUInt32BE(20)).toBe(2000);
    expect(statSync(screenshot).size).toBeGreaterThan(30_000);

    const { stdout: dom } = await chromium(browser, ["--dump-dom", `file://${html}`]);
    for (const id of [
      "summary",
      "categories",
      "baseline",
      "latency",
      "scenarios",
      "machine",
      "category-lifecycle",
    ]) {
      expect(dom).toContain(`id="${id}"`);
    }
    expect(dom).toContain("Change against the baseline");
    expect(dom).toContain("Newly passing (1)");
    expect(dom).toContain('<span class="pill faster">faster</span>');
    expect(dom).toContain("<svg");
    for (const s of results.scenarios) expect(dom).toContain(`id="scenario-${s.id}"`);
  }, 900_000);
});
