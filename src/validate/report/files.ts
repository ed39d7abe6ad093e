// Reading a results file (validated, so a wrong or foreign file is a clear usage error) and
// writing the report files of a run.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../engine/errors.js";
import { readConfigFile } from "../../model/config-file.js";
import { RESULTS_SCHEMA, resultsSchema, type ValidationResults } from "../model.js";
import type { RunComparison } from "./compare.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";

export function readResults(file: string): ValidationResults {
  const raw = readConfigFile(file, {
    what: "results file",
    format: "JSON",
    parse: JSON.parse,
    hint: "Pass the file written by `berth validate --json FILE` (or results.json from --report DIR).",
  });
  const schema = (raw as { schema?: unknown })?.schema;
  if (schema !== RESULTS_SCHEMA) {
    throw new ConfigError(
      `${file}: unknown results schema \`${String(schema)}\`, expected \`${RESULTS_SCHEMA}\``,
      {
        resource: file,
        hint: "Was it written by `berth validate`? Results of another berth version need that version's `berth report`.",
      },
    );
  }
  const parsed = resultsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "");
    throw new ConfigError(`${file}: invalid results at \`${path}\`: ${issue.message}`, { resource: file });
  }
  return parsed.data;
}

interface WrittenReports {
  json?: string;
  markdown?: string;
  html?: string;
}

export function writeFileEnsuringDir(file: string, content: string): void {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, content);
}

/** Writes results.json, report.md and report.html into `dir`. */
export function writeReportDir(
  dir: string,
  results: ValidationResults,
  comparison?: RunComparison,
): WrittenReports {
  mkdirSync(dir, { recursive: true });
  const written = {
    json: join(dir, "results.json"),
    markdown: join(dir, "report.md"),
    html: join(dir, "report.html"),
  };
  writeFileSync(written.json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(written.markdown, renderMarkdown(results, comparison));
  writeFileSync(written.html, renderHtml(results, comparison));
  return written;
}
