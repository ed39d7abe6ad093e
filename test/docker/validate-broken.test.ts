// A validation must fail, and say why, when its condition is broken on purpose: here the guard's
// limiter is switched off, so the rate-limiting check sees a burst reach the daemon unbounded.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEngine } from "../../src/guard/guard.js";
import { CATEGORIES } from "../../src/validate/catalogue.js";
import { renderMarkdown } from "../../src/validate/report/markdown.js";
import { runValidation } from "../../src/validate/runner.js";

const burst = CATEGORIES.find((c) => c.id === "rate-limiting")!;

describe("a validation broken on purpose", () => {
  it("fails the rate-limiting burst check when the guard is off, and the report says why", async () => {
    const results = await runValidation({
      engine: createEngine({ limiter: "off" }),
      // The suite's other files create resources on this daemon at the same time (docker-compose,
      // testcontainers, raw clients): the unlabelled part of the leak check would count them.
      checkUnlabelled: false,
      categories: [
        { ...burst, scenarios: burst.scenarios.filter((s) => s.id === "rate-limiting.burst-within-limit") },
      ],
    });
    const check = results.scenarios.find((s) => s.id === "rate-limiting.burst-within-limit")!;
    expect(check.status).toBe("fail");
    expect(check.failure?.message).toMatch(
      /^the limiter is `off`: nothing bounds a burst \(\d+ of 16 calls were at the daemon at once\)$/,
    );
    expect(check.failure?.hint).toContain("BERTH_LIMITER=off");
    expect(check.evidence.mode).toBe("off");
    expect(results.summary.failed).toBe(1);
    expect(results.leaks.count).toBe(0);
    const md = renderMarkdown(results);
    expect(md.split("\n")[2]).toMatch(/^\*\*FAIL\*\*/);
    expect(md).toContain(`> **Why it failed:** ${check.failure!.message}`);
    expect(md).toContain("- mode: `off`");
  }, 300_000);

  it("`berth validate` exits 1 and writes reports that explain the failure", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-validate-broken-"));
    try {
      const cli = join(process.cwd(), "bin", "berth.js");
      const outcome = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [cli, "validate", "--category", "rate-limiting", "--report", dir],
          { env: { ...process.env, BERTH_LIMITER: "off", CI: "true" }, timeout: 240_000 },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(outcome.code, outcome.stderr).toBe(1);
      expect(outcome.stdout).toContain("berth validate: FAIL");
      expect(outcome.stdout).toContain("rate-limiting.burst-within-limit: the limiter is `off`");
      expect(outcome.stderr).toMatch(/FAIL rate-limiting\.burst-within-limit/);
      const md = readFileSync(join(dir, "report.md"), "utf8");
      expect(md).toContain("> **Why it failed:** the limiter is `off`");
      const html = readFileSync(join(dir, "report.html"), "utf8");
      expect(html).toContain("Why it failed:");
      const json = JSON.parse(readFileSync(join(dir, "results.json"), "utf8"));
      expect(json.machine.limiter).toBe("off");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
