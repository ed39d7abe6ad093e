// `up`: the library's entry point. Resolves the project (compose files through the loader, or a
// programmatic ComposeProject), names the run (session id, project name unique per run unless
// given), and hands over to the startup, which is atomic. The Compose loader (YAML, the schema)
// is imported when files are loaded, not before: a caller that has the project already (the
// CLI's model cache) never loads it.
import { resolve } from "node:path";
import type { Engine } from "../engine/engine.js";
import { ConfigError } from "../engine/errors.js";
import { defaultEngine } from "../guard/default-engine.js";
import { type PullPolicy, parsePullOption } from "../images/policy.js";
import { networkPoolConfig } from "../janitor/network-pool.js";
import { createSession, newSessionId } from "../janitor/session.js";
import { type LimitProfile, mergeLimitProfiles } from "../memory/profiles.js";
import { parseSize } from "../memory/size.js";
import type { ComposeProject } from "../model/compose.js";
import type { ComposeReader } from "./compose/inputs.js";
import type { LoadComposeOptions } from "./compose/load.js";
import type { IncidentListener, StartedEnvironment } from "./environment.js";
import { projectNameFor } from "./naming.js";
import { assertStartable } from "./plan.js";
import type { ProgressListener } from "./progress/events.js";
import { assertWaitable } from "./readiness.js";
import { expandReplicas } from "./replicas.js";
import { reuseDecision } from "./reuse/policy.js";
import { type ReuseSource, upReusable } from "./reuse/up-reusable.js";
import {
  DEFAULT_SERVICE_TIMEOUT_MS,
  DEFAULT_UP_TIMEOUT_MS,
  type StartOptions,
  startEnvironment,
} from "./startup.js";

/**
 * What `up` loads the files with is the loader's own options (`cwd`, `env`, `profiles`, `envFile`,
 * `projectDirectory`), documented once in compose/load.ts; only `files` may be left out here.
 */
export interface UpOptions extends Omit<LoadComposeOptions, "files" | "reader"> {
  /** Compose files in merge order (relative to `cwd`); default: compose.yaml and its override in `cwd`. */
  files?: string[];
  /** A programmatic project instead of files (see `defineProject`). */
  spec?: ComposeProject;
  /** Project name; default: the file's `name` (or `berth`) plus the session id, unique per run. */
  project?: string;
  /** Only these services (and what they depend on). */
  services?: string[];
  /** The engine to work through (default: berth's guarded engine). */
  engine?: Engine;
  /** Session id (default: a new random one). */
  sessionId?: string;
  /**
   * Pull policy for every service, over their own `pull_policy`: `missing` (pull absent images,
   * Compose's default), `always`, `never` (a missing image is an error); `true` is `always`,
   * `false` is `never`. Default: each service's `pull_policy`, else `missing`.
   */
  pull?: Exclude<PullPolicy, "build"> | boolean;
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
  /**
   * Reuse a ready environment an earlier run left idle (same key: files, images, berth's major
   * version), leased to this owner until `down`, which releases it and leaves it running; or
   * create a reusable one. Default: BERTH_REUSE, else the files' `x-berth.reuse`, else off; off
   * when CI is set unless BERTH_REUSE=force. See docs/environments.md.
   */
  reuse?: boolean;
  /**
   * With reuse: the reaper watchdog releases the lease should this process die holding it
   * (default true). A caller that releases within moments may turn it off and save starting the
   * watchdog: a dead owner's lease counts as idle anyway (`berth up --reuse` without `--watch`).
   */
  leaseWatchdog?: boolean;
  /**
   * Claim the environment's plain bridge networks from a pool of pre-created ones and return them
   * on `down`, instead of creating and removing one per environment. Default: BERTH_NETWORK_POOL,
   * else off. Not for reusable environments. See docs/performance.md#the-network-pool.
   */
  networkPool?: boolean;
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

/** What decides the project: the files and how they are read. */
export type ResolveOptions = Pick<
  UpOptions,
  "files" | "spec" | "cwd" | "env" | "profiles" | "envFile" | "projectDirectory" | "services"
>;

/** What `up` starts from: the project, the loader's warnings, the files' own limit profile. */
export interface ResolvedProject {
  project: ComposeProject;
  warnings: string[];
  /** The files' top-level `x-berth` limits (and the profile file it names), if any. */
  fileLimitProfile?: LimitProfile;
}

/**
 * The project `up` would start, the loader's warnings and the files' limit profile; nothing is
 * created. Every file is read through `reader` when given (the CLI's model cache records them).
 */
export async function resolveProject(
  options: ResolveOptions,
  reader?: ComposeReader,
): Promise<ResolvedProject> {
  let resolved: ResolvedProject;
  if (options.spec) {
    if (options.files && options.files.length > 0) {
      throw new ConfigError("Pass either `files` or `spec` to up(), not both");
    }
    resolved = { project: options.spec, warnings: [] };
  } else {
    const { loadCompose } = await import("./compose/load.js");
    const { project, warnings, limitProfile } = await loadCompose({
      files: options.files ?? [],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.profiles ? { profiles: options.profiles } : {}),
      ...(options.envFile ? { envFile: options.envFile } : {}),
      ...(options.projectDirectory ? { projectDirectory: options.projectDirectory } : {}),
      ...(reader ? { reader } : {}),
    });
    resolved = { project, warnings, ...(limitProfile ? { fileLimitProfile: limitProfile } : {}) };
  }
  const project = expandReplicas(selectServices(resolved.project, options.services));
  if (Object.keys(project.services).length === 0) {
    throw new ConfigError("The project has no services to start", {
      hint: "Check the file's services and the active profiles.",
    });
  }
  assertStartable(project);
  assertWaitable(project);
  return { ...resolved, project };
}

export type ProjectResolver = (options: ResolveOptions) => Promise<ResolvedProject>;

/** What a reusable environment's key was computed from, absolute, for `berth ls`'s stale check. */
function reuseSource(
  options: UpOptions,
  project: ComposeProject,
  keyOptions: Record<string, unknown>,
): ReuseSource {
  const cwd = resolve(options.cwd ?? process.cwd());
  return {
    // A programmatic project has no files: its environments are never reported stale.
    files: options.spec ? [] : project.files,
    cwd,
    ...(options.services && options.services.length > 0 ? { services: options.services } : {}),
    ...(options.profiles ? { profiles: options.profiles } : {}),
    ...(options.envFile ? { envFile: [options.envFile].flat().map((file) => resolve(cwd, file)) } : {}),
    keyOptions,
  };
}

/**
 * Brings an environment up and answers once every service is ready (healthy, or completed for
 * one-shot services). On any failure everything created is removed before the error is thrown.
 */
export function up(options: UpOptions = {}): Promise<StartedEnvironment> {
  return upWith(options, (resolveOptions) => resolveProject(resolveOptions));
}

/** `up` with the project from `resolve` (the CLI's model cache answers it without the loader). */
export async function upWith(options: UpOptions, resolveWith: ProjectResolver): Promise<StartedEnvironment> {
  const timeoutMs = positive(options.timeoutMs, "timeoutMs") ?? DEFAULT_UP_TIMEOUT_MS;
  const serviceTimeoutMs =
    positive(options.serviceTimeoutMs, "serviceTimeoutMs") ?? DEFAULT_SERVICE_TIMEOUT_MS;
  const defaultMemoryBytes =
    options.defaultMemory === undefined
      ? undefined
      : parseSize(options.defaultMemory, { where: "defaultMemory", memory: true });
  const { project, warnings, fileLimitProfile } = await resolveWith(options);
  const engine = options.engine ?? defaultEngine();
  const sessionId = options.sessionId ?? newSessionId();
  const name = projectNameFor({
    ...(options.project === undefined ? {} : { explicit: options.project }),
    ...(project.name ? { fileName: project.name } : {}),
    sessionId,
  });
  const limitProfile = mergeLimitProfiles(options.limitProfile, fileLimitProfile);
  const start: StartOptions = {
    ...(options.pull === undefined ? {} : { pull: parsePullOption(options.pull, "pull") }),
    memory: {
      ...(defaultMemoryBytes === undefined ? {} : { defaultLimitBytes: defaultMemoryBytes }),
      ...(limitProfile ? { profile: limitProfile } : {}),
    },
    timeoutMs,
    serviceTimeoutMs,
    warnings,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const reuse = reuseDecision(options.reuse, project);
  if (reuse.note) {
    warnings.push(reuse.note);
  }
  let environment: StartedEnvironment;
  if (reuse.enabled) {
    if (options.project !== undefined) {
      throw new ConfigError("`project` (-p) cannot be combined with reuse", {
        resource: options.project,
        hint: "Reusable environments are named by berth, one per owner at a time; `berth ls` lists them.",
      });
    }
    environment = await upReusable({
      engine,
      project,
      sessionId,
      source: reuseSource(options, project, { defaultMemoryBytes, limitProfile }),
      start,
      leaseWatchdog: options.leaseWatchdog !== false,
    });
  } else {
    const session = createSession(engine, {
      id: sessionId,
      project: name,
      detachable: options.detach === true || options.keep === true,
      keep: options.keep === true,
    });
    environment = await startEnvironment(engine, session, project, {
      ...start,
      networkPool: networkPoolConfig(process.env, options.networkPool),
    });
    if (options.detach || options.keep) await session.detach();
  }
  if (options.watch !== false) {
    environment.watch(options.onIncident ? { onIncident: options.onIncident } : {});
  } else if (options.onIncident) {
    environment.onIncident(options.onIncident);
  }
  return environment;
}
