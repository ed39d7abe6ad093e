// `up`: the library's entry point. Resolves the project (compose files through the loader, or a
// programmatic ComposeProject), names the run (session id, project name unique per run unless
// given), and hands over to the startup, which is atomic.
import type { Engine } from "../engine/engine.js";
import { ConfigError } from "../engine/errors.js";
import { createSession, newSessionId } from "../janitor/session.js";
import { type LimitProfile, limitProfileFromComposeFiles, mergeLimitProfiles } from "../memory/profiles.js";
import { parseSize } from "../memory/size.js";
import { loadCompose } from "./compose/index.js";
import { defaultEngine } from "./default-engine.js";
import type { IncidentListener, StartedEnvironment } from "./environment.js";
import type { ComposeProject } from "./model.js";
import { projectNameFor } from "./naming.js";
import { assertStartable } from "./plan.js";
import type { ProgressListener } from "./progress/events.js";
import { assertWaitable } from "./readiness.js";
import { expandReplicas } from "./replicas.js";
import { DEFAULT_SERVICE_TIMEOUT_MS, DEFAULT_UP_TIMEOUT_MS, startEnvironment } from "./startup.js";

export interface UpOptions {
  /** Compose files in merge order (relative to `cwd`); default: compose.yaml and its override in `cwd`. */
  files?: string[];
  /** A programmatic project instead of files (see `defineProject`). */
  spec?: ComposeProject;
  /** Project name; default: the file's `name` (or `berth`) plus the session id, unique per run. */
  project?: string;
  /** Only these services (and what they depend on). */
  services?: string[];
  cwd?: string;
  /** Variables for interpolation (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Active Compose profiles. */
  profiles?: string[];
  /** A dotenv file instead of `.env` next to the first compose file. */
  envFile?: string;
  /** The engine to work through (default: berth's guarded engine). */
  engine?: Engine;
  /** Session id (default: a new random one). */
  sessionId?: string;
  /** Pull images that are not built locally (default false: a missing image is an error). */
  pull?: boolean;
  /** Memory limit for services that set none: bytes or a size like `256m` (default: none). */
  defaultMemory?: number | string;
  /**
   * Limits by service name or pattern for services that set none; it wins over the files'
   * top-level `x-berth` profile, which is read automatically.
   */
  limitProfile?: LimitProfile;
  /** Overall timeout, ms (default 300 000). */
  timeoutMs?: number;
  /** Readiness timeout per service unless its `x-berth.timeout` says otherwise, ms (default 120 000). */
  serviceTimeoutMs?: number;
  /**
   * The environment outlives this process once it is up (`berth up`): its resources carry
   * `berth.detached=true`. Until `up` returns the reaper still guards it.
   */
  detach?: boolean;
  /**
   * Keep the environment for debugging: no reaper watchdog guards the session, and its resources
   * carry `berth.detached=true`, so neither the reaper nor gc of dead owners removes them once
   * this process ends; `berth down` does (or `berth gc --all` / `--older-than`). A failed `up`
   * still rolls back.
   */
  keep?: boolean;
  onProgress?: ProgressListener;
  /**
   * Follow the daemon's events for the environment's containers from the moment it is up, until
   * `down` (default true): every death, OOM kill and unhealthy turn becomes an incident on
   * `env.incidents` and `env.onIncident()`. `false` leaves it to a later `env.watch()`.
   */
  watch?: boolean;
  /** Called for each incident as it happens (the same as `env.onIncident()` right after up). */
  onIncident?: IncidentListener;
  /** Aborting rolls back whatever was created and rejects with UpInterruptedError. */
  signal?: AbortSignal;
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`Expected \`${name}\` to be a number of milliseconds above 0, got \`${value}\``, {
      resource: name,
    });
  }
  return value;
}

/** Keeps the named services and everything they depend on; refuses unknown names. */
export function selectServices(project: ComposeProject, only: string[] | undefined): ComposeProject {
  if (!only || only.length === 0) return project;
  const keep = new Set<string>();
  const add = (name: string) => {
    if (keep.has(name)) return;
    const service = project.services[name];
    if (!service) {
      throw new ConfigError(`Unknown service \`${name}\``, {
        resource: name,
        hint: `Services: ${Object.keys(project.services).join(", ")}`,
      });
    }
    keep.add(name);
    for (const dep of service.dependsOn) if (project.services[dep.service]) add(dep.service);
  };
  for (const name of only) add(name);
  return {
    ...project,
    services: Object.fromEntries(Object.entries(project.services).filter(([name]) => keep.has(name))),
  };
}

/** The project `up` would start, and the loader's warnings; nothing is created. */
export async function resolveProject(
  options: Pick<UpOptions, "files" | "spec" | "cwd" | "env" | "profiles" | "envFile" | "services">,
): Promise<{ project: ComposeProject; warnings: string[] }> {
  let project: ComposeProject;
  let warnings: string[];
  if (options.spec) {
    if (options.files && options.files.length > 0) {
      throw new ConfigError("Pass either `files` or `spec` to up(), not both");
    }
    project = options.spec;
    warnings = [];
  } else {
    const loaded = await loadCompose({
      files: options.files ?? [],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.profiles ? { profiles: options.profiles } : {}),
      ...(options.envFile ? { envFile: options.envFile } : {}),
    });
    project = loaded.project;
    warnings = loaded.warnings;
  }
  project = expandReplicas(selectServices(project, options.services));
  if (Object.keys(project.services).length === 0) {
    throw new ConfigError("The project has no services to start", {
      hint: "Check the file's services and the active profiles.",
    });
  }
  assertStartable(project);
  assertWaitable(project);
  return { project, warnings };
}

/**
 * Brings an environment up and answers once every service is ready (healthy, or completed for
 * one-shot services). On any failure everything created is removed before the error is thrown.
 */
export async function up(options: UpOptions = {}): Promise<StartedEnvironment> {
  const timeoutMs = positive(options.timeoutMs, "timeoutMs") ?? DEFAULT_UP_TIMEOUT_MS;
  const serviceTimeoutMs =
    positive(options.serviceTimeoutMs, "serviceTimeoutMs") ?? DEFAULT_SERVICE_TIMEOUT_MS;
  const defaultMemoryBytes =
    options.defaultMemory === undefined
      ? undefined
      : parseSize(options.defaultMemory, { where: "defaultMemory", memory: true });
  const { project, warnings } = await resolveProject(options);
  const engine = options.engine ?? defaultEngine();
  const sessionId = options.sessionId ?? newSessionId();
  const name = projectNameFor({
    ...(options.project === undefined ? {} : { explicit: options.project }),
    ...(project.name ? { fileName: project.name } : {}),
    sessionId,
  });
  const limitProfile = mergeLimitProfiles(options.limitProfile, limitProfileFromComposeFiles(project.files));
  const session = createSession(engine, {
    id: sessionId,
    project: name,
    detachable: options.detach === true || options.keep === true,
    keep: options.keep === true,
  });
  const environment = await startEnvironment(engine, session, project, {
    pull: options.pull === true,
    memory: {
      ...(defaultMemoryBytes === undefined ? {} : { defaultLimitBytes: defaultMemoryBytes }),
      ...(limitProfile ? { profile: limitProfile } : {}),
    },
    timeoutMs,
    serviceTimeoutMs,
    warnings,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (options.detach || options.keep) await session.detach();
  if (options.watch !== false) {
    environment.watch(options.onIncident ? { onIncident: options.onIncident } : {});
  } else if (options.onIncident) {
    environment.onIncident(options.onIncident);
  }
  return environment;
}
