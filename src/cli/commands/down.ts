// `berth down`: takes an environment down by project or session, in reverse dependency order
// with each service's grace period, and verifies nothing of it remains. Running it twice is fine.
import type { Command } from "commander";
import type { Engine } from "../../engine/engine.js";
import { ConfigError } from "../../engine/errors.js";
import { gc } from "../../janitor/gc.js";
import type { LabelSelector } from "../../model/labels.js";
import { type DownReport, downEnvironment } from "../../stack/down.js";
import { createReporter } from "../../stack/progress/reporter.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { EXIT, errorToJSON, failCommand, formatError, writeJSON } from "../output.js";
import { parseSeconds } from "../parse.js";
import { selectProject } from "../project-selection.js";
import { parseLabelOption } from "./gc.js";

interface DownCliOptions {
  reusable?: boolean;
  all?: boolean;
  label?: LabelSelector;
  projectName?: string;
  session?: string;
  file: string[];
  volumes?: boolean;
  timeout?: number;
  json?: boolean;
}

function describeDown(report: DownReport): string {
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

async function downReusable(engine: Engine, options: DownCliOptions): Promise<void> {
  if (!options.reusable) {
    const flag = options.all ? "--all" : "--label";
    throw new ConfigError(`${flag} selects reusable environments: pass --reusable ${flag}`);
  }
  if (options.projectName || options.session) {
    throw new ConfigError(
      "--reusable takes no -p or --session: `berth down -p NAME` removes one environment",
    );
  }
  const report = await gc(engine, {
    reusable: options.all ? "all" : "idle",
    ...(options.label ? { label: options.label } : {}),
  });
  const removed = report.sessions.filter((s) => s.verdict.remove);
  const kept = report.sessions.filter((s) => !s.verdict.remove);
  if (options.json) {
    writeJSON({
      ok: report.failures.length === 0,
      removed: removed.map((s) => ({ project: s.project, session: s.session })),
      kept: kept.map((s) => ({ project: s.project, session: s.session, reason: s.verdict.reason })),
      failures: report.failures.map((f) => ({ name: f.resource.name, error: errorToJSON(f.error) })),
    });
  } else {
    const names = removed.map((s) => s.project ?? s.session);
    process.stdout.write(
      `${names.length === 0 ? "No reusable environment to remove." : `Removed ${names.length} reusable environment(s): ${names.join(", ")}`}\n`,
    );
    if (kept.length > 0) {
      process.stdout.write(
        `Kept ${kept.length} leased: ${kept.map((s) => s.project ?? s.session).join(", ")} (--all removes them too)\n`,
      );
    }
    for (const failure of report.failures) process.stderr.write(`${formatError(failure.error)}\n`);
  }
  process.exitCode = report.failures.length > 0 ? EXIT.failure : EXIT.ok;
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
    .option("--reusable", "remove every idle reusable environment (nobody holds its lease)")
    .option("--all", "with --reusable: leased ones too")
    .option("--label <key=value>", "with --reusable: only environments carrying this label", parseLabelOption)
    .option("--json", "print the report as JSON")
    .action(async (options: DownCliOptions) => {
      if (options.reusable || options.all || options.label) {
        await downReusable(createCliEngine(globals()), options);
        return;
      }
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
        failCommand(error, options.json);
      }
    });
}
