// `berth validate`: runs the stability scenarios against the live daemon, prints progress and a
// summary, writes results JSON and reports, and exits 1 when any scenario failed or leaked.
import type { Command } from "commander";
import { berthVersion } from "../../model/version.js";
import { CATEGORIES, selectCategories } from "../../validate/catalogue.js";
import { guardedForValidation } from "../../validate/guarded-engine.js";
import { verdictOf } from "../../validate/model.js";
import { liveProgress, plainProgress, wantsLiveProgress } from "../../validate/progress.js";
import { writeFileEnsuringDir, writeReportDir } from "../../validate/report/files.js";
import { runValidation } from "../../validate/runner.js";
import { renderSummary } from "../../validate/summary.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { EXIT } from "../output.js";

interface ValidateOptions {
  category: string[];
  json?: string;
  report?: string;
  quick?: boolean;
  list?: boolean;
  prove?: boolean;
  allowSkips?: boolean;
}

function listScenarios(names: string[]): string {
  const lines: string[] = [];
  for (const category of names.length ? selectCategories(names) : CATEGORIES) {
    lines.push(`${category.id}${category.optional ? " (optional)" : ""}: ${category.title}`);
    for (const s of category.scenarios) {
      lines.push(`  ${s.quick ? "q" : " "} ${s.id}  ${s.title}`);
      lines.push(`      fault (${s.fault.kind}): ${s.fault.describe}`);
    }
  }
  lines.push("", "q: part of --quick");
  return `${lines.join("\n")}\n`;
}

export function registerValidate(program: Command, globals: () => GlobalOptions): void {
  program
    .command("validate")
    .description("Check that Docker on this machine is stable for a test suite, with evidence")
    .option(
      "--category <name...>",
      `categories to run (default: all but the optional ones): ${CATEGORIES.map((c) => c.id).join(", ")}`,
      [],
    )
    .option("--quick", "run the quick subset (under a minute)")
    .option("--json <file>", "write the results as JSON to FILE")
    .option("--report <dir>", "write results.json, report.md and report.html into DIR")
    .option(
      "--prove",
      "also run every scenario under a fault that breaks what it checks; pass only if each fails there as expected",
    )
    .option("--allow-skips", "skipped scenarios do not fail the run")
    .option("--list", "list the scenarios and their faults, and exit")
    .action(async (options: ValidateOptions) => {
      if (options.list) {
        process.stdout.write(listScenarios(options.category));
        return;
      }
      const categories = selectCategories(options.category);
      const engine = guardedForValidation(createCliEngine(globals()));
      const live = wantsLiveProgress(process.stderr) ? liveProgress(process.stderr) : undefined;
      const progress = live ?? plainProgress(process.stderr);
      let results: Awaited<ReturnType<typeof runValidation>>;
      try {
        results = await runValidation({
          engine,
          categories,
          quick: options.quick ?? false,
          prove: options.prove ?? false,
          allowSkips: options.allowSkips ?? false,
          berthVersion: berthVersion(),
          onProgress: progress,
        });
      } finally {
        live?.stop();
      }
      process.stdout.write(renderSummary(results));
      if (options.json) {
        writeFileEnsuringDir(options.json, `${JSON.stringify(results, null, 2)}\n`);
        process.stdout.write(`results: ${options.json}\n`);
      }
      if (options.report) {
        const written = writeReportDir(options.report, results);
        process.stdout.write(`reports: ${written.markdown}, ${written.html} (results: ${written.json})\n`);
      }
      process.exitCode = verdictOf(results) === "PASS" ? EXIT.ok : EXIT.failure;
    });
}
