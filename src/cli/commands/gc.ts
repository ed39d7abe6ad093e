// `berth gc`: removes what dead sessions left behind (and, when asked, old or all sessions).
import { type Command, InvalidArgumentError } from "commander";
import { type GcReport, type GcSession, gc } from "../../janitor/gc.js";
import { formatAge, parseDuration } from "../../model/duration.js";
import { type LabelSelector, parseLabelSelector } from "../../model/labels.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { EXIT, errorToJSON, formatError, table, writeJSON } from "../output.js";
import { optionParser } from "../parse.js";

interface GcCliOptions {
  dryRun?: boolean;
  olderThan?: number;
  all?: boolean;
  label?: LabelSelector;
  json?: boolean;
}

export function parseLabelOption(value: string): LabelSelector {
  const selector = parseLabelSelector(value);
  if (!selector) throw new InvalidArgumentError(`Expected a label as KEY=VALUE or KEY, got \`${value}\`.`);
  return selector;
}

function count(session: GcSession, kind: "container" | "network" | "volume"): string {
  return String(session.resources.filter((r) => r.kind === kind).length);
}

function render(report: GcReport, now: number): string {
  const pool =
    report.poolNetworks.length > 0
      ? [`Removed idle pooled network(s): ${report.poolNetworks.join(", ")}.`]
      : [];
  if (report.sessions.length === 0) return [...pool, "No berth resources found."].join("\n");
  const rows = report.sessions.map((s) => [
    s.session,
    s.project ?? "-",
    s.ownerState,
    s.createdAt === undefined ? "?" : formatAge(now - s.createdAt),
    count(s, "container"),
    count(s, "network"),
    count(s, "volume"),
    s.verdict.remove ? (report.dryRun ? "would remove" : "removed") : "kept",
    s.verdict.reason,
  ]);
  const { containers, networks, volumes } = report.counts;
  const verb = report.dryRun ? "Would remove" : "Removed";
  return [
    table(["SESSION", "PROJECT", "OWNER", "AGE", "CONTAINERS", "NETWORKS", "VOLUMES", "ACTION", "WHY"], rows),
    `${verb} ${containers} container(s), ${networks} network(s), ${volumes} volume(s).`,
    ...pool,
  ].join("\n");
}

function toJSON(report: GcReport): Record<string, unknown> {
  return {
    dryRun: report.dryRun,
    counts: report.counts,
    poolNetworks: report.poolNetworks,
    sessions: report.sessions.map((s) => ({
      session: s.session,
      project: s.project,
      owner: s.owner,
      ownerState: s.ownerState,
      detached: s.detached,
      ...(s.reusable ? { reusable: s.reusable } : {}),
      createdAt: s.createdAt === undefined ? undefined : new Date(s.createdAt).toISOString(),
      action: s.verdict.remove ? "remove" : "keep",
      reason: s.verdict.reason,
      resources: s.resources.map((r) => ({ kind: r.kind, id: r.id, name: r.name })),
    })),
    failures: report.failures.map((f) => ({
      kind: f.resource.kind,
      name: f.resource.name,
      error: errorToJSON(f.error),
    })),
  };
}

export function registerGc(program: Command, globals: () => GlobalOptions): void {
  program
    .command("gc")
    .description(
      "Remove berth resources whose owner process is dead (containers by safe removal, then networks, volumes), " +
        "and reusable environments idle longer than their TTL",
    )
    .option("--dry-run", "list what would be removed; remove nothing")
    .option(
      "--older-than <duration>",
      "also remove sessions at least this old (e.g. 2h, 7d), detached ones and other hosts' included; " +
        "idle reusable environments go once idle this long instead of their TTL (default 1h, x-berth.reuse.ttl)",
      optionParser((value) => parseDuration(value, { where: "--older-than", days: true })),
    )
    .option("--all", "remove every session whose owner is not alive on this host")
    .option("--label <key=value>", "only consider resources carrying this label", parseLabelOption)
    .option("--json", "print the report as one JSON object")
    .action(async (options: GcCliOptions) => {
      const engine = createCliEngine(globals());
      const now = Date.now();
      const report = await gc(engine, {
        dryRun: options.dryRun,
        all: options.all,
        olderThanMs: options.olderThan,
        label: options.label,
        now,
      });
      if (options.json) writeJSON(toJSON(report));
      else process.stdout.write(`${render(report, now)}\n`);
      for (const failure of report.failures) {
        if (!options.json) process.stderr.write(`${formatError(failure.error)}\n`);
      }
      process.exitCode = report.failures.length > 0 ? EXIT.failure : EXIT.ok;
    });
}
