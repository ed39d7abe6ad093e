// `berth up`: brings an environment up, returns once every service is ready and leaves it
// running (like `docker compose up -d`) until `berth down`. Prints the endpoints as a table,
// `--json` or `--env` lines; progress goes to stderr. With `--watch` it then stays in the
// foreground reporting every service that dies, is OOM-killed or turns unhealthy, until Ctrl-C
// or SIGTERM, which stop the watching and leave the environment up.
import type { Command } from "commander";
import { ConfigError } from "../../engine/errors.js";
import { parsePullOption } from "../../images/policy.js";
import { poolRefillsSettled } from "../../janitor/network-pool.js";
import { parseSize } from "../../memory/size.js";
import { endpointEnv, formatEnvLines } from "../../stack/endpoints.js";
import type { StartedEnvironment } from "../../stack/environment.js";
import { createReporter, type ProgressReporter } from "../../stack/progress/reporter.js";
import { type UpOptions, upWith } from "../../stack/up.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { followEnvironment } from "../incidents.js";
import { cachedResolver } from "../model-cache.js";
import { failCommand, table, writeJSON } from "../output.js";
import { collect, optionParser, parseSeconds } from "../parse.js";

export interface EnvironmentCliOptions {
  file: string[];
  projectName?: string;
  profile: string[];
  envFile: string[];
  projectDirectory?: string;
  pull?: string | boolean;
  defaultMemory?: number;
  /** The file; read when the command runs (its YAML parser is not loaded otherwise). */
  limitProfile?: string;
  timeout?: number;
  serviceTimeout?: number;
  json?: boolean;
}

/** The options `up` and `run` share: files, project, profiles, images, memory, timeouts. */
export function addEnvironmentOptions(command: Command): Command {
  return command
    .option(
      "-f, --file <file>",
      "compose file (repeat to merge overrides; default compose.yaml)",
      collect,
      [],
    )
    .option(
      "-p, --project-name <name>",
      "project name (default: $COMPOSE_PROJECT_NAME, else the file's name plus a per-run suffix)",
    )
    .option(
      "--profile <name>",
      "enable a Compose profile (repeatable; default: $COMPOSE_PROFILES)",
      collect,
      [],
    )
    .option("--env-file <path>", "dotenv file for interpolation instead of .env (repeatable)", collect, [])
    .option("--project-directory <dir>", "directory relative paths start from (default: the first file's)")
    .option(
      "--pull [policy]",
      "pull policy for every service: always (the default without a value), missing, never (default: each service's pull_policy, else missing)",
    )
    .option(
      "--default-memory <size>",
      "memory limit for services without one, e.g. 512m",
      optionParser((value) => parseSize(value, { where: "--default-memory", memory: true })),
    )
    .option("--limit-profile <file>", "limits by service name or pattern for services without one")
    .option(
      "--timeout <duration>",
      "overall timeout for bringing the environment up: seconds or 90s, 5m (default 300)",
      parseSeconds,
    )
    .option(
      "--service-timeout <duration>",
      "readiness timeout per service unless x-berth.timeout says otherwise (default 120)",
      parseSeconds,
    );
}

export async function upOptionsFrom(
  options: EnvironmentCliOptions,
  services: string[] = [],
): Promise<UpOptions> {
  const seconds = (value: number | undefined, flag: string) => {
    if (value === undefined) return undefined;
    if (value <= 0) throw new ConfigError(`Expected ${flag} to be above 0 seconds, got \`${value}\``);
    return value * 1000;
  };
  const timeoutMs = seconds(options.timeout, "--timeout");
  const serviceTimeoutMs = seconds(options.serviceTimeout, "--service-timeout");
  const project = options.projectName ?? (process.env.COMPOSE_PROJECT_NAME || undefined);
  const limitProfile = options.limitProfile
    ? (await import("../../memory/profile-files.js")).loadLimitProfile(options.limitProfile)
    : undefined;
  return {
    files: options.file,
    ...(project ? { project } : {}),
    ...(options.profile.length > 0 ? { profiles: options.profile } : {}),
    ...(options.envFile.length > 0 ? { envFile: options.envFile } : {}),
    ...(options.projectDirectory ? { projectDirectory: options.projectDirectory } : {}),
    ...(services.length > 0 ? { services } : {}),
    ...(options.pull === undefined ? {} : { pull: parsePullOption(options.pull) }),
    ...(options.defaultMemory === undefined ? {} : { defaultMemory: options.defaultMemory }),
    ...(limitProfile ? { limitProfile } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(serviceTimeoutMs === undefined ? {} : { serviceTimeoutMs }),
  };
}

/** Runs `work` with SIGINT/SIGTERM turned into an abort (so `up` rolls back instead of dying). */
async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * Runs `work` as a command with progress: an interrupt aborts it, the reporter finishes before
 * anything else is printed, and a failure is reported as `failCommand` does (answering undefined).
 */
export async function runWithProgress<T>(
  reporter: ProgressReporter,
  json: boolean | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T | undefined> {
  let result: T;
  try {
    result = await withInterrupt(work);
  } catch (error) {
    await reporter.finish();
    failCommand(error, json);
    return undefined;
  }
  await reporter.finish();
  return result;
}

function environmentEnv(env: StartedEnvironment): Record<string, string> {
  return { BERTH_PROJECT: env.project, BERTH_SESSION: env.session, ...endpointEnv(env.endpoints) };
}

function environmentJSON(env: StartedEnvironment): Record<string, unknown> {
  return {
    ok: true,
    project: env.project,
    session: env.session,
    ...(env.reuseKey ? { reuseKey: env.reuseKey, reused: env.reused } : {}),
    durationMs: Math.round(env.durationMs),
    services: env.services.map((s) => ({
      name: s.name,
      container: s.containerName,
      image: s.image,
      imageId: s.imageId,
      state: s.state,
      readyMs: Math.round(s.readyMs),
      endpoints: s.endpoints,
    })),
    env: environmentEnv(env),
    warnings: env.warnings,
  };
}

function endpointTable(env: StartedEnvironment): string {
  const rows = env.services.flatMap((s) =>
    s.endpoints.length > 0
      ? s.endpoints.map((e) => [s.name, `${e.containerPort}/${e.protocol}`, e.address, s.state])
      : [[s.name, "-", "-", s.state]],
  );
  return table(["SERVICE", "PORT", "ADDRESS", "STATE"], rows);
}

export function registerUp(program: Command, globals: () => GlobalOptions): void {
  addEnvironmentOptions(
    program
      .command("up")
      .description("Bring an environment up, wait until every service is ready, and leave it running")
      .argument("[service...]", "only these services (and what they depend on)"),
  )
    .option("-d, --detach", "accepted for Compose habits: berth up always detaches")
    .option("--wait", "accepted for Compose habits: berth up always waits until every service is ready")
    .option("--json", "print the result as JSON (progress as JSON lines on stderr)")
    .option("--env", "print the endpoints as KEY=VALUE lines (REDIS_6379=127.0.0.1:49153)")
    .option(
      "--reuse",
      "reuse an idle environment of the same files and images, or leave this one reusable (not on CI unless BERTH_REUSE=force)",
    )
    .option(
      "--watch",
      "then stay in the foreground and report each service that dies, is OOM-killed or turns unhealthy; " +
        "Ctrl-C/SIGTERM stop watching and leave the environment up (exit 1 if a service failed while watched); " +
        "the watch also ends once no container of it runs (berth down)",
    )
    .action(
      async (
        services: string[],
        options: EnvironmentCliOptions & { env?: boolean; watch?: boolean; reuse?: boolean },
      ) => {
        const reporter = await createReporter({ json: options.json === true });
        const engine = createCliEngine(globals());
        const env = await runWithProgress(reporter, options.json, async (signal) =>
          upWith(
            {
              ...(await upOptionsFrom(options, services)),
              ...(options.reuse ? { reuse: true } : {}),
              engine,
              detach: true,
              // Without --watch this process ends once up answers: nothing to follow.
              watch: options.watch === true,
              // Without --watch the lease is released before this command ends.
              leaseWatchdog: options.watch === true,
              onProgress: reporter.listener,
              signal,
            },
            // The project from the model cache when the files are unchanged (no Compose loader).
            cachedResolver(),
          ),
        );
        if (env === undefined) return;
        // A reusable environment is only leased while this command runs: released before it
        // exits (after --watch ends), it stays up and idle for the next `up --reuse`.
        const release = async () => {
          if (env.reuseKey) await env.down();
        };
        if (!options.watch) await release();
        if (options.json) writeJSON(environmentJSON(env));
        else if (options.env) process.stdout.write(`${formatEnvLines(environmentEnv(env))}\n`);
        else {
          process.stdout.write(`${endpointTable(env)}\n`);
          const how = env.reuseKey
            ? `${env.reused ? "reused" : "reusable"}, key ${env.reuseKey.slice(0, 12)}, session ${env.session}`
            : `session ${env.session}`;
          process.stderr.write(
            `berth: project ${env.project} is up (${how}, ${(env.durationMs / 1000).toFixed(1)}s); take it down with: berth down -p ${env.project}\n`,
          );
        }
        if (options.watch) {
          process.exitCode = await followEnvironment(engine, env, options.json === true);
          await release();
        }
        // The network pool's refill for the next `up` (the bin ends the process once this answers).
        await poolRefillsSettled();
      },
    );
}
