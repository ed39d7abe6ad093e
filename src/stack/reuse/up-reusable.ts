// `up` with reuse, as named phases: the images' ids and the key; then the idle environments of
// that key, each tried in turn (take its lease, check it, reset it; a broken one is removed with
// a warning that says why); and when none is left, a new reusable environment, leased from
// before its first container exists, so nobody else can take it half-built.
import type { Engine } from "../../engine/engine.js";
import {
  DEFAULT_REUSE_TTL_MS,
  type LeanRelease,
  type Lease,
  type LeaseSubject,
  releaseLease,
  removeLeaseContainers,
  takeLease,
} from "../../janitor/lease.js";
import { guardLease, leaseGuardId, reaperDisabledByEnv, releaseSession } from "../../janitor/reaper.js";
import { createSession, type Session } from "../../janitor/session.js";
import type { ComposeProject } from "../../model/compose.js";
import { containerName } from "../../model/container-name.js";
import { LABELS } from "../../model/labels.js";
import { berthVersion } from "../../model/version.js";
import { downEnvironment } from "../down.js";
import { endpointsFromPorts } from "../endpoints.js";
import { type EnvironmentReuse, type ServiceInfo, StartedEnvironment } from "../environment.js";
import { projectNameFor } from "../naming.js";
import { type PhaseRunner, phaseRunner } from "../phases.js";
import type { ProgressListener } from "../progress/events.js";
import { oneShotServices } from "../readiness.js";
import { type StartOptions, startEnvironment } from "../startup.js";
import {
  environmentsOfKey,
  idleInOrder,
  leaseSubjectOf,
  listReusableContainers,
  type ReusableEnvironment,
} from "./candidates.js";
import { projectImageIds } from "./image-ids.js";
import { reuseKey } from "./key.js";
import { resetEnvironment } from "./reset.js";
import { type ListedContainer, safetyProblems } from "./safety.js";

/** What the key was computed from, so `berth ls` can compute it again to tell stale ones. */
export interface ReuseSource {
  files: string[];
  services?: string[];
  profiles?: string[];
  envFile?: string | string[];
  cwd?: string;
  /** Settings beside the files that shape the containers (default memory, limit profile). */
  keyOptions: Record<string, unknown>;
}

interface ReusableUpInput {
  engine: Engine;
  project: ComposeProject;
  sessionId: string;
  source: ReuseSource;
  start: StartOptions;
  /** Whether the reaper watchdog releases the lease should this process die holding it. */
  leaseWatchdog: boolean;
}

/**
 * Phase 1: every service's image id (building or pulling what `up` would), and the key; the
 * reusable environments on the daemon are listed meanwhile. A list made before a build or pull
 * could be minutes old: then it is made again.
 */
async function imagesAndCandidates(
  input: ReusableUpInput,
): Promise<{ key: string; imageIds: Record<string, string>; environments: ReusableEnvironment[] }> {
  const { engine, project, start } = input;
  const early = listReusableContainers(engine);
  early.catch(() => {}); // awaited below unless the images fail first
  const { ids: imageIds, prepared } = await projectImageIds(engine, project, {
    prepare: true,
    ...(start.pull ? { pull: start.pull } : {}),
    ...(start.signal ? { signal: start.signal } : {}),
  });
  const key = reuseKey({ project, imageIds, berthVersion: berthVersion(), options: input.source.keyOptions });
  const containers = prepared ? await listReusableContainers(engine) : await early;
  return { key, imageIds, environments: environmentsOfKey(containers, key) };
}

/**
 * The lease as the environment holds it. Without the watchdog the owner releases within moments
 * (`berth up --reuse`): the release then removes the lease containers listed before the take
 * instead of listing them again, and looks for the environment by one of its containers
 * (releaseLease's `lean`).
 */
function holdLease(
  input: ReusableUpInput,
  lease: Lease,
  key: string,
  reused: boolean,
  lean: LeanRelease,
): EnvironmentReuse {
  const { engine } = input;
  const guarded = input.leaseWatchdog && !reaperDisabledByEnv();
  // The watchdog releases the lease should this process die holding it.
  if (guarded) void guardLease(lease, engine.endpoint.url).catch(() => {});
  const forget = async () => {
    if (guarded) await releaseSession(leaseGuardId(lease.session));
  };
  return {
    key,
    reused,
    release: async () => {
      if (input.leaseWatchdog) await releaseLease(engine, lease);
      else await releaseLease(engine, lease, undefined, lean);
      await forget();
    },
    forget,
  };
}

/** A container the environment keeps while it exists: a long-running service's, if it has one. */
function witnessOf(services: ServiceInfo[]): string {
  return (services.find((s) => s.state !== "completed") ?? services[0]!).containerId;
}

function describeReused(project: ComposeProject, environment: ReusableEnvironment): ServiceInfo[] {
  const oneShots = oneShotServices(project);
  return Object.values(project.services).map((service) => {
    const c = environment.services.get(service.name)!;
    const ports: Record<string, { HostIp?: string; HostPort?: string }[]> = {};
    for (const p of c.Ports ?? []) {
      if (!p.PublicPort) continue;
      const key = `${p.PrivatePort}/${p.Type}`;
      ports[key] = [...(ports[key] ?? []), { HostIp: p.IP ?? "", HostPort: String(p.PublicPort) }];
    }
    return {
      name: service.name,
      containerId: c.Id,
      containerName: containerName(c),
      image: service.image ?? "",
      imageId: c.ImageID ?? "",
      state: oneShots.has(service.name) ? "completed" : "ready",
      endpoints: endpointsFromPorts(service.name, ports),
      readyMs: 0,
    };
  });
}

/** Removes a reusable environment this process holds the lease of (its lease containers too). */
async function removeHeld(engine: Engine, environment: ReusableEnvironment, emit: ProgressListener) {
  await downEnvironment(engine, { session: environment.session, volumes: true, onProgress: emit });
}

/** Phase 2: take an idle environment of the key, check it and reset it; undefined when none is fit. */
async function takeIdle(
  input: ReusableUpInput,
  key: string,
  environments: ReusableEnvironment[],
  image: string,
  emit: ProgressListener,
  began: number,
  replaced: string[],
  phase: PhaseRunner,
): Promise<StartedEnvironment | undefined> {
  const { engine, project } = input;
  for (const environment of idleInOrder(environments)) {
    // A lease held for moments is released with one create and one remove (releaseLease's
    // `listed`): the generations below the highest go now, beside the take, so that neither
    // step has a third call waiting for a slot (a new process's limiter starts at 2). Their
    // removal never changes the lease's state; one that fails is listed again by the next run.
    const early = input.leaseWatchdog ? [] : environment.lowerLeaseIds;
    const [lease] = await phase(
      "reuse-lease",
      () =>
        Promise.all([
          takeLease(engine, leaseSubjectOf(environment, image), environment.lease.generation),
          removeLeaseContainers(engine, early).catch(() => {}),
        ]),
      environment.project,
    );
    if (!lease) continue; // another owner took it first
    const replace = async (why: string) => {
      emit({
        type: "warning",
        message: `Reusable environment ${environment.project} is replaced: ${why}`,
      });
      await removeHeld(engine, environment, emit);
    };
    const problems = safetyProblems(project, environment.services as Map<string, ListedContainer>);
    if (problems.length > 0) {
      await replace(problems.join("; "));
      continue;
    }
    try {
      await phase(
        "reuse-reset",
        () =>
          resetEnvironment(
            engine,
            project,
            new Map([...environment.services].map(([name, c]) => [name, c.Id])),
          ),
        environment.project,
      );
    } catch (error) {
      await replace((error as Error).message);
      continue;
    }
    const services = describeReused(project, environment);
    emit({
      type: "project",
      action: "up",
      project: environment.project,
      session: environment.session,
      services: services.map((s) => s.name),
    });
    for (const message of input.start.warnings) input.start.onProgress?.({ type: "warning", message });
    for (const s of services) emit({ type: "service", service: s.name, phase: s.state, detail: "reused" });
    const durationMs = performance.now() - began;
    emit({ type: "done", action: "up", ok: true, durationMs });
    const session = createSession(engine, {
      id: environment.session,
      project: environment.project,
      reaper: false,
    });
    return new StartedEnvironment(
      engine,
      session,
      services,
      [...input.start.warnings, ...replaced],
      durationMs,
      holdLease(input, lease, key, true, {
        listed: environment.leaseIds.filter((id) => !early.includes(id)),
        witness: witnessOf(services),
      }),
    );
  }
  return undefined;
}

/** Phase 3: a new reusable environment, its lease taken before anything else of it exists. */
async function createReusable(
  input: ReusableUpInput,
  key: string,
  image: string,
  replaced: string[],
): Promise<StartedEnvironment> {
  const { engine, project } = input;
  const session: Session = createSession(engine, {
    id: input.sessionId,
    project: projectNameFor({
      ...(project.name ? { fileName: project.name } : {}),
      sessionId: input.sessionId,
    }),
    detachable: true,
    labels: {
      [LABELS.reuseKey]: key,
      [LABELS.reuseTtl]: String(project.reuse?.ttlMs ?? DEFAULT_REUSE_TTL_MS),
      [LABELS.reuseSource]: JSON.stringify(input.source),
    },
  });
  // The reaper guards the lease container too: an owner killed half-way leaves nothing.
  await session.beforeCreate();
  const { [LABELS.owner]: _owner, [LABELS.created]: _created, ...labels } = session.labels();
  const subject: LeaseSubject = { session: session.id, project: session.project, image, labels };
  const lease = await takeLease(engine, subject, 0);
  if (!lease) throw new Error(`The lease of new environment ${session.project} was taken by someone else`);
  const environment = await startEnvironment(engine, session, project, input.start).catch(async (error) => {
    // The rollback removed everything of the session, its lease container included.
    await session.end();
    throw error;
  });
  // From here on the environment outlives this process; only its lease is this process's.
  await session.detach();
  return new StartedEnvironment(
    engine,
    session,
    environment.services,
    [...environment.warnings, ...replaced],
    environment.durationMs,
    holdLease(input, lease, key, false, { listed: [], witness: witnessOf(environment.services) }),
  );
}

export async function upReusable(input: ReusableUpInput): Promise<StartedEnvironment> {
  const began = performance.now();
  // Replacement warnings are reported as they happen and kept with the loader's for env.warnings.
  const replaced: string[] = [];
  const emit: ProgressListener = (event) => {
    if (event.type === "warning") replaced.push(event.message);
    input.start.onProgress?.(event);
  };
  const phase = phaseRunner(input.engine, "up");
  const { key, imageIds, environments } = await phase("reuse-key-and-candidates", () =>
    imagesAndCandidates(input),
  );
  const image = Object.values(imageIds)[0]!;
  const hit = await takeIdle(input, key, environments, image, emit, began, replaced, phase);
  if (hit) return hit;
  return createReusable(input, key, image, replaced);
}
