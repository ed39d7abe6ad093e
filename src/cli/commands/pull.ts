// `berth pull`: fetches a project's images without starting anything (CI cache warm-up), each
// image once, with the same progress as `up` (listr2 on a TTY, plain lines in CI, JSON lines
// with --json) and the same credentials, retries and one-pull-per-image as `up`.
import type { Command } from "commander";
import { createReporter } from "../../stack/progress/reporter.js";
import { type PullReport, pullImages } from "../../stack/pull.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { table, writeJSON } from "../output.js";
import { collect } from "../parse.js";
import { runWithProgress } from "./up.js";

interface PullCliOptions {
  file: string[];
  profile: string[];
  envFile?: string;
  missing?: boolean;
  json?: boolean;
}

function pullTable(report: PullReport): string {
  return table(
    ["IMAGE", "SERVICES", "RESULT", "ID"],
    report.images.map((i) => [
      i.image,
      i.services.join(", "),
      i.pulled ? "pulled" : "present",
      i.imageId.replace(/^sha256:/, "").slice(0, 12),
    ]),
  );
}

export function registerPull(program: Command, globals: () => GlobalOptions): void {
  program
    .command("pull")
    .description("Pull a project's images (each once) without starting anything, e.g. to warm a CI cache")
    .argument("[service...]", "only these services' images (and what they depend on)")
    .option(
      "-f, --file <file>",
      "compose file (repeat to merge overrides; default compose.yaml)",
      collect,
      [],
    )
    .option("--profile <name>", "enable a Compose profile (repeatable)", collect, [])
    .option("--env-file <path>", "dotenv file for interpolation instead of .env")
    .option("--missing", "only pull images the daemon does not have (default: pull every image)")
    .option("--json", "print the result as JSON (progress as JSON lines on stderr)")
    .action(async (services: string[], options: PullCliOptions) => {
      const reporter = await createReporter({ json: options.json === true });
      const report = await runWithProgress(reporter, options.json, (signal) =>
        pullImages({
          files: options.file,
          ...(options.profile.length > 0 ? { profiles: options.profile } : {}),
          ...(options.envFile ? { envFile: options.envFile } : {}),
          ...(services.length > 0 ? { services } : {}),
          policy: options.missing ? "missing" : "always",
          engine: createCliEngine(globals()),
          onProgress: reporter.listener,
          signal,
        }),
      );
      if (report === undefined) return;
      if (options.json) writeJSON({ ok: true, ...report, durationMs: Math.round(report.durationMs) });
      else if (report.images.length === 0) process.stdout.write("No images to pull.\n");
      else process.stdout.write(`${pullTable(report)}\n`);
    });
}
