// `berth lint`: checks Compose files for what hurts test runs (no memory limit, fixed host ports,
// host namespaces, unpinned images, restart policies in tests...). Exit 1 when there are errors.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse } from "yaml";
import { loadLimitProfile } from "../../memory/profile-files.js";
import { displayFile } from "../../stack/compose/errors.js";
import { loadCompose, locate } from "../../stack/compose/index.js";
import { countFindings, type Finding } from "../../stack/lint/finding.js";
import { type LintSource, lintCompose } from "../../stack/lint/lint.js";
import type { GlobalOptions } from "../global-options.js";
import { EXIT, failCommand, writeJSON } from "../output.js";
import { addComposeFileOptions, type ComposeFileOptions, composeLoadOptions } from "./config.js";

interface LintCommandOptions extends ComposeFileOptions {
  json?: boolean;
  limitProfile?: string;
}

function readSource(file: string): LintSource {
  // The loader has already read and validated the file; this is its content as written.
  return { file, value: parse(readFileSync(file, "utf8")) };
}

function formatFinding(finding: Finding): string {
  const where = [displayFile(finding.file), finding.line, finding.column]
    .filter((p) => p !== undefined)
    .join(":");
  return `${where}  ${finding.severity.padEnd(7)}  ${finding.rule}  ${finding.message}\n    fix: ${finding.hint}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function registerLint(program: Command, _globals: () => GlobalOptions): void {
  addComposeFileOptions(
    program
      .command("lint")
      .description(
        "Check Compose files for what hurts test runs; exit 1 when there are errors (creates nothing)",
      ),
  )
    .option("--limit-profile <file>", "a limit profile (YAML or JSON); services it covers count as limited")
    .option("--json", "print {ok, files, findings, errors, warnings, loaderWarnings} as JSON")
    .action(async (options: LintCommandOptions) => {
      try {
        const { project, warnings } = await loadCompose(composeLoadOptions(options));
        const profile = options.limitProfile ? loadLimitProfile(options.limitProfile) : undefined;
        const findings = lintCompose(project, project.files.map(readSource), {
          locate,
          ...(profile ? { profile } : {}),
        });
        const { errors, warnings: warned } = countFindings(findings);
        process.exitCode = errors > 0 ? EXIT.failure : EXIT.ok;
        if (options.json) {
          writeJSON({
            ok: errors === 0,
            files: project.files,
            findings,
            errors,
            warnings: warned,
            loaderWarnings: warnings,
          });
          return;
        }
        for (const warning of warnings) process.stderr.write(`berth: warning: ${warning}\n`);
        for (const finding of findings) process.stdout.write(`${formatFinding(finding)}\n`);
        const files = project.files.map((f) => displayFile(f)).join(", ");
        process.stdout.write(
          findings.length === 0
            ? `${files}: no findings\n`
            : `${plural(errors, "error")}, ${plural(warned, "warning")} in ${files}\n`,
        );
      } catch (error) {
        failCommand(error, options.json);
      }
    });
}
