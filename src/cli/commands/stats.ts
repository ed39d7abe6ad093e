// `berth stats`: memory usage against limits for the running containers of berth projects, with
// services at or above a threshold flagged; `--advise` samples a window and recommends limits.
import { writeFileSync } from "node:fs";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { Engine } from "../../engine/engine.js";
import { ConfigError, NotFoundError } from "../../engine/errors.js";
import {
  ADVICE_RULE,
  adviceOverrideYaml,
  adviseLimits,
  type LimitAdvice,
  observePeaks,
} from "../../memory/advise.js";
import { formatSize } from "../../memory/size.js";
import {
  type ContainerRef,
  type MemoryUsage,
  projectContainers,
  sampleStats,
  usageWarnings,
} from "../../memory/stats.js";
import { parseDuration } from "../../model/duration.js";
import { pause } from "../../model/sleep.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { table, writeJSON } from "../output.js";
import { optionParser } from "../parse.js";

interface StatsOptions {
  project?: string;
  watch?: boolean;
  interval: number;
  json?: boolean;
  threshold: number;
  advise?: boolean;
  duration: number;
  write?: string;
}

const durationArg = optionParser((value) => parseDuration(value));

function percentArg(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n > 100) {
    throw new InvalidArgumentError(`Expected a percentage above 0 and up to 100, got \`${value}\`.`);
  }
  return n;
}

const color = (code: number, text: string) =>
  process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[${code}m${text}\x1b[0m` : text;

function usageRows(usages: MemoryUsage[], threshold: number): string {
  const rows = usages.map((u) => {
    const percent = u.percent === undefined ? "-" : `${u.percent.toFixed(1)}%`;
    const row = [
      u.project ?? "-",
      u.service ?? "-",
      u.name,
      formatSize(u.usageBytes),
      u.limitBytes === undefined ? "none" : formatSize(u.limitBytes),
      percent,
      u.peakBytes === undefined ? "-" : formatSize(u.peakBytes),
    ];
    return { row, hot: u.percent !== undefined && u.percent >= threshold, critical: (u.percent ?? 0) >= 90 };
  });
  const text = table(
    ["PROJECT", "SERVICE", "CONTAINER", "USAGE", "LIMIT", "USE%", "PEAK"],
    rows.map((r) => r.row),
  ).split("\n");
  // Colour whole lines after alignment, so escape codes do not upset the column widths.
  return [
    text[0]!,
    ...rows.map((r, i) => (r.hot ? color(r.critical ? 31 : 33, text[i + 1]!) : text[i + 1]!)),
  ].join("\n");
}

function usageJSON(usages: MemoryUsage[], threshold: number) {
  const warnings = usageWarnings(usages, threshold);
  return {
    ok: true,
    threshold,
    sampledAt: new Date().toISOString(),
    services: usages.map((u) => ({
      project: u.project,
      service: u.service,
      container: u.name,
      usageBytes: u.usageBytes,
      limitBytes: u.limitBytes ?? null,
      percent: u.percent === undefined ? null : Number(u.percent.toFixed(2)),
      peakBytes: u.peakBytes ?? null,
      warning: u.percent !== undefined && u.percent >= threshold,
    })),
    warnings: warnings.map((w) => w.message),
  };
}

async function containersOrFail(engine: Engine, project: string | undefined): Promise<ContainerRef[]> {
  const containers = await projectContainers(engine, project);
  if (containers.length === 0 && project) {
    throw new NotFoundError(`no running containers of project ${project}`, {
      resource: project,
      hint: "List projects with `docker ps --filter label=berth.project`.",
    });
  }
  return containers;
}

async function showOnce(engine: Engine, options: StatsOptions): Promise<void> {
  const usages = await sampleStats(engine, await containersOrFail(engine, options.project));
  if (options.json) {
    writeJSON({ project: options.project ?? null, ...usageJSON(usages, options.threshold) });
    return;
  }
  if (usages.length === 0) {
    process.stdout.write("no running berth containers\n");
    return;
  }
  const lines = [usageRows(usages, options.threshold)];
  for (const warning of usageWarnings(usages, options.threshold)) lines.push(`warning: ${warning.message}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

function untilInterrupted(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    },
  };
}

async function watch(engine: Engine, options: StatsOptions): Promise<void> {
  const { signal, dispose } = untilInterrupted();
  try {
    while (!signal.aborted) {
      const started = Date.now();
      if (process.stdout.isTTY && !process.env.NO_COLOR && !options.json)
        process.stdout.write("\x1b[2J\x1b[H");
      else if (!options.json) process.stdout.write(`--- ${new Date().toISOString()}\n`);
      await showOnce(engine, options);
      const wait = options.interval - (Date.now() - started);
      if (wait > 0) {
        await pause(wait, signal);
      }
    }
  } finally {
    dispose();
  }
}

function adviceTable(advice: LimitAdvice[]): string {
  return table(
    ["SERVICE", "SAMPLES", "PEAK", "LIMIT", "PEAK%", "RECOMMENDED", "CHANGE"],
    advice.map((a) => [
      a.service,
      String(a.samples),
      formatSize(a.peakBytes),
      a.limitBytes === undefined ? "none" : formatSize(a.limitBytes),
      a.limitBytes === undefined ? "-" : `${((a.peakBytes / a.limitBytes) * 100).toFixed(1)}%`,
      formatSize(a.recommendedBytes),
      a.change,
    ]),
  );
}

async function advise(engine: Engine, options: StatsOptions): Promise<void> {
  const containers = await containersOrFail(engine, options.project);
  const projects = [...new Set(containers.map((c) => c.project))];
  if (projects.length > 1) {
    throw new ConfigError(`several berth projects are running (${projects.join(", ")}): advise needs one`, {
      hint: "Choose one with -p PROJECT.",
    });
  }
  if (containers.length === 0) {
    process.stdout.write("no running berth containers to advise on\n");
    return;
  }
  const project = options.project ?? projects[0];
  const { signal, dispose } = untilInterrupted();
  const started = Date.now();
  let observations: Awaited<ReturnType<typeof observePeaks>>;
  try {
    observations = await observePeaks(engine, containers, {
      durationMs: options.duration,
      signal,
      onRound: (round) => {
        if (process.stderr.isTTY && !options.json) {
          const seconds = Math.round((Date.now() - started) / 1000);
          process.stderr.write(
            `\rsampling ${project}: round ${round}, ${seconds}s of ${Math.round(options.duration / 1000)}s`,
          );
        }
      },
    });
  } finally {
    dispose();
    if (process.stderr.isTTY && !options.json) process.stderr.write("\n");
  }
  const durationMs = Date.now() - started;
  const advice = adviseLimits(observations);
  const override = adviceOverrideYaml(advice, { project, durationMs });
  if (options.write) writeFileSync(options.write, override);
  if (options.json) {
    writeJSON({
      ok: true,
      project,
      durationMs,
      rule: ADVICE_RULE,
      advice,
      override,
      written: options.write ?? null,
    });
    return;
  }
  process.stdout.write(`${adviceTable(advice)}\n\nrule: ${ADVICE_RULE}\n\n`);
  process.stdout.write(options.write ? `wrote the Compose override to ${options.write}\n` : override);
}

export function registerStats(program: Command, globals: () => GlobalOptions): void {
  program
    .command("stats")
    .description(
      "Memory usage against limits of berth projects' running containers; --advise recommends limits",
    )
    .option("-p, --project <name>", "only this project (default: every berth project)")
    .option("--watch", "refresh until interrupted")
    .addOption(
      new Option("--interval <duration>", "time between refreshes with --watch")
        .argParser(durationArg)
        .default(2000, "2s"),
    )
    .option("--threshold <percent>", "flag services at or above this share of their limit", percentArg, 70)
    .option("--advise", "sample usage over a window and recommend a limit per service")
    .addOption(
      new Option("--duration <duration>", "sampling window for --advise")
        .argParser(durationArg)
        .default(60_000, "60s"),
    )
    .option("--write <file>", "with --advise: write the recommended limits as a Compose override file")
    .option("--json", "print JSON (one line per refresh with --watch)")
    .action(async (options: StatsOptions) => {
      if (options.write && !options.advise) {
        throw new ConfigError("--write needs --advise", {
          hint: "berth stats --advise --write compose.limits.yml",
        });
      }
      const engine = createCliEngine(globals());
      if (options.advise) await advise(engine, options);
      else if (options.watch) await watch(engine, options);
      else await showOnce(engine, options);
    });
}
