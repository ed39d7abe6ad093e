// `berth down`: takes an environment down by project or session, in reverse dependency order
// with each service's grace period, and verifies nothing of it remains. Running it twice is fine.
import type { Command } from "commander";
import { type DownReport, downEnvironment } from "../../stack/down.js";
import { createReporter } from "../../stack/progress/reporter.js";
import { createCliEngine, type GlobalOptions } from "../context.js";
import { errorToJSON, exitCodeFor, writeJSON } from "../output.js";
import { parseSeconds } from "../parse.js";
import { selectProject } from "../project-selection.js";

interface DownCliOptions {
  projectName?: string;
  session?: string;
  file: string[];
  volumes?: boolean;
  timeout?: number;
  json?: boolean;
}

export function describeDown(report: DownReport): string {
  const who = report.project ? `project ${report.project}` : `session ${report.session}`;
  if (report.containers.length + report.networks.length + report.volumes.length === 0) {
    return `${who}: nothing to remove`;
  }
  const lines = [
    `${who}: removed ${report.containers.length} container(s), ${report.networks.length} network(s), ${report.volumes.length} volume(s) in ${(report.durationMs / 1000).toFixed(1)}s`,
  ];
  for (const c of report.containers) {
    lines.push(`  ${c.service}: ${c.outcome}${c.exitCode === null ? "" : ` (exit ${c.exitCode})`}`);
  }
  if (report.keptVolumes.length > 0) {
    lines.push(`  kept named volume(s) ${report.keptVolumes.join(", ")} (pass --volumes to remove them)`);
  }
  return lines.join("\n");
}

export function registerDown(program: Command, globals: () => GlobalOptions): void {
  program
    .command("down")
    .description("Take an environment down: stop gracefully in reverse order, remove, verify nothing remains")
    .option(
      "-p, --project-name <name>",
      "the project to take down (default: $COMPOSE_PROJECT_NAME, or the compose file's)",
    )
    .option("--session <id>", "the session to take down")
    .option(
      "-f, --file <file>",
      "take down the running project of this Compose file (repeatable; default: $COMPOSE_FILE or compose.yaml here)",
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option("--volumes", "also remove named volumes (anonymous ones always go)")
    .option(
      "-t, --timeout <duration>",
      "grace period for every container: seconds or 10s, 1m (default: each service's own)",
      parseSeconds,
    )
    .option("--json", "print the report as JSON")
    .action(async (options: DownCliOptions) => {
      const reporter = await createReporter({ json: options.json === true });
      try {
        const engine = createCliEngine(globals());
        const selector = await selectProject(engine, options);
        const report = await downEnvironment(engine, {
          ...selector,
          volumes: options.volumes === true,
          ...(options.timeout === undefined ? {} : { timeoutSeconds: Math.ceil(options.timeout) }),
          onProgress: reporter.listener,
        });
        await reporter.finish();
        if (options.json) writeJSON({ ok: true, ...report });
        else process.stdout.write(`${describeDown(report)}\n`);
      } catch (error) {
        await reporter.finish();
        if (!options.json) throw error;
        writeJSON({ ok: false, error: errorToJSON(error) });
        process.exitCode = exitCodeFor(error);
      }
    });
}
