// `berth report`: renders a results file from `berth validate` as Markdown and/or a
// self-contained HTML page, optionally against an earlier run (`--baseline`).
import type { Command } from "commander";
import { compareRuns } from "../../validate/report/compare.js";
import { readResults, writeFileEnsuringDir } from "../../validate/report/files.js";
import { renderHtml } from "../../validate/report/html.js";
import { renderMarkdown } from "../../validate/report/markdown.js";
import type { GlobalOptions } from "../global-options.js";

interface ReportOptions {
  html?: string;
  md?: string;
  baseline?: string;
}

export function registerReport(program: Command, _globals: () => GlobalOptions): void {
  program
    .command("report")
    .description("Render validation results as Markdown and self-contained HTML")
    .argument("<results>", "results JSON written by `berth validate --json` or `--report`")
    .option("--html <file>", "write the HTML report to FILE")
    .option("--md <file>", "write the Markdown report to FILE (default: print it when no --html)")
    .option("--baseline <file>", "an earlier results file to compare against")
    .action(async (file: string, options: ReportOptions) => {
      const results = readResults(file);
      const comparison = options.baseline ? compareRuns(results, readResults(options.baseline)) : undefined;
      if (options.md) writeFileEnsuringDir(options.md, renderMarkdown(results, comparison));
      if (options.html) writeFileEnsuringDir(options.html, renderHtml(results, comparison));
      if (!options.md && !options.html) process.stdout.write(renderMarkdown(results, comparison));
      for (const [kind, path] of [
        ["markdown", options.md],
        ["html", options.html],
      ] as const) {
        if (path) process.stderr.write(`${kind}: ${path}\n`);
      }
    });
}
