// Takes an environment down from what the daemon knows (labels), so any process can do it:
// containers in reverse dependency order with each one's grace period, then networks, then
// anonymous volumes (named ones only when asked), then a check that nothing is left. Running it
// on an environment that is already gone succeeds with an empty report.

import type { Engine } from "../engine/engine.js";
import { BerthError, NotFoundError } from "../engine/errors.js";
import type { VolumeInspect } from "../engine/types.js";
import { defaultEngine } from "../guard/default-engine.js";
import type { ResourceRef } from "../janitor/errors.js";
import { isLeaseContainer } from "../janitor/lease.js";
import { type NetworkPoolConfig, networkPoolConfig, releaseHeld } from "../janitor/network-pool.js";
import { removeResources } from "../janitor/remove.js";
import { type RemovalRecord, safeRemove } from "../lifecycle/safe-remove.js";
import { containerName } from "../model/container-name.js";
import { LABELS } from "../model/labels.js";
import { awaitDaemon, DAEMON_RETURN_WAIT_MS, daemonWentAway, wentAwayError } from "./daemon-gone.js";
import {
  describeSelector,
  type ProjectInventory,
  type ProjectSelector,
  projectInventory,
} from "./inventory.js";
import { phaseRunner } from "./phases.js";
import { shutdownDependents } from "./plan.js";
import type { ProgressListener } from "./progress/events.js";
import { parseDependsOnLabel, STACK_LABELS } from "./stack-labels.js";

export interface DownOptions extends ProjectSelector {
  /**
   * Also remove named volumes (anonymous ones always go). By session, that includes the
   * project's named volumes an earlier session created and this one re-used (a fixed project
   * name keeps them across runs); ones that other containers still use stay.
   */
  volumes?: boolean;
  /**
   * By session: only volumes this session created, never named volumes it re-used from an
   * earlier session (the rollback of a failed `up` removes what it created, nothing older).
   */
  sessionVolumesOnly?: boolean;
  /** Grace period for every container, seconds (default: each container's own stop_grace_period). */
  timeoutSeconds?: number;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export interface ServiceRemoval extends RemovalRecord {
  service: string;
}

export interface DownReport {
  project?: string;
  session?: string;
  containers: ServiceRemoval[];
  networks: string[];
  /** Pooled networks given back to the pool, verified empty (docs/performance.md#the-network-pool). */
  returnedNetworks: string[];
  volumes: string[];
  /** Named volumes left in place (pass `volumes: true` to remove them). */
  keptVolumes: string[];
  durationMs: number;
}

/** What is left (`remaining`) and which removals failed and why (`failures`); either may be empty. */
export class DownIncompleteError extends BerthError {
  override readonly code = "BERTH_DOWN_INCOMPLETE";
  declare readonly remaining: string[];
  declare readonly failures: string[];
  constructor(selector: string, remaining: string[], failures: string[]) {
    const left =
      remaining.length > 0
        ? `left ${remaining.length} resource(s) behind: ${remaining.join(", ")}`
        : "left nothing behind";
    const failed = failures.length > 0 ? `, and ${failures.length} removal(s) failed:` : "";
    super([`Taking ${selector} down ${left}${failed}`, ...failures.map((f) => `  ${f}`)].join("\n"), {
      resource: selector,
      hint: "Run `berth down` again; if it persists, check `berth ps` and the daemon log.",
    });
    this.withFacts({ remaining, failures });
  }
}

function isNamedVolume(labels: Record<string, string> | undefined): boolean {
  return labels?.[STACK_LABELS.volumeKind] !== "anonymous";
}

async function removeContainers(
  engine: Engine,
  inventory: ProjectInventory,
  options: DownOptions,
  failures: string[],
): Promise<ServiceRemoval[]> {
  const byService = new Map<string, typeof inventory.containers>();
  for (const container of inventory.containers) {
    const service = container.Labels?.[LABELS.service] ?? containerName(container);
    byService.set(service, [...(byService.get(service) ?? []), container]);
  }
  const dependents = shutdownDependents(
    [...byService.entries()].map(([name, containers]) => ({
      name,
      dependsOn: containers.flatMap((c) => parseDependsOnLabel(c.Labels?.[STACK_LABELS.dependsOn])),
    })),
  );
  const removals: ServiceRemoval[] = [];
  // A service stops once everything depending on it has stopped; their removal need not finish
  // first, so one level's removal overlaps the next level's stop.
  const stopped = new Map<string, Promise<void>>();
  const removed = new Map<string, Promise<void>>();
  const removeService = (service: string): Promise<void> => {
    let pending = removed.get(service);
    if (pending) return pending;
    let markStopped!: () => void;
    stopped.set(service, new Promise<void>((resolve) => (markStopped = resolve)));
    pending = (async () => {
      const after = dependents.get(service) ?? [];
      for (const dependent of after) void removeService(dependent);
      await Promise.all(after.map((d) => stopped.get(d)));
      options.onProgress?.({ type: "service", service, phase: "stopping" });
      const containers = byService.get(service) ?? [];
      let running = containers.length;
      const work = containers.map(async (container) => {
        let halted = false;
        const onStopped = () => {
          if (halted) return;
          halted = true;
          if (--running === 0) markStopped();
        };
        try {
          const removal = await safeRemove(engine, container.Id, {
            ...(options.timeoutSeconds === undefined ? {} : { graceSeconds: options.timeoutSeconds }),
            ...(options.signal ? { signal: options.signal } : {}),
            // The final inventory below verifies that nothing is left, for every resource at once.
            verifyGone: false,
            onStopped,
          });
          removals.push({ service, ...removal });
        } catch (error) {
          failures.push(`container ${containerName(container)}: ${(error as Error).message}`);
        } finally {
          onStopped();
        }
      });
      await Promise.all(work);
      markStopped();
      options.onProgress?.({ type: "service", service, phase: "removed" });
    })();
    removed.set(service, pending);
    return pending;
  };
  await Promise.all([...byService.keys()].map(removeService));
  return removals;
}

/** Networks or volumes by name, all at once (the containers are gone): the names removed or already gone. */
async function removeEach(
  engine: Engine,
  kind: "network" | "volume",
  names: string[],
  failures: string[],
): Promise<string[]> {
  const refs = names.map((name): ResourceRef => ({ kind, id: name, name, labels: {} }));
  const outcomes = await removeResources(engine, refs, { concurrency: refs.length });
  for (const o of outcomes) {
    if (!o.ok) failures.push(`${kind} ${o.resource.name}: ${(o.error as Error).message}`);
  }
  return outcomes
    .filter((o) => o.ok)
    .map((o) => o.resource.name)
    .sort();
}

/** Pooled networks the selection holds: back to the pool, or removed (the pool is full, or gone). */
async function releasePooled(
  engine: Engine,
  selector: ProjectSelector,
  pool: NetworkPoolConfig,
  failures: string[],
): Promise<{ returned: string[]; removed: string[] }> {
  const returned: string[] = [];
  const removed: string[] = [];
  for (const release of await releaseHeld(engine, selector, pool)) {
    if (release.outcome === "returned") returned.push(release.name);
    else if (release.outcome) removed.push(release.name);
    else failures.push(`network ${release.name}: ${(release.error as Error).message}`);
  }
  return { returned: returned.sort(), removed };
}

/** The project an inventory belongs to, from its resources' labels. */
function projectOf(inventory: ProjectInventory): string | undefined {
  const labels = [
    ...inventory.containers.map((c) => c.Labels),
    ...inventory.networks.map((n) => n.Labels),
    ...inventory.volumes.map((v) => v.Labels as Record<string, string> | undefined),
  ];
  return labels.map((l) => l?.[LABELS.project]).find((p): p is string => p !== undefined && p !== "");
}

/**
 * Named volumes of the project that another session created: a session that re-used one (same
 * project name, volume kept by an earlier down) does not find it by its own session label.
 */
function reusedNamedVolumes(inventory: ProjectInventory, volumes: VolumeInspect[]): VolumeInspect[] {
  const own = new Set(inventory.volumes.map((v) => v.Name));
  return volumes.filter(
    (v) =>
      !own.has(v.Name) && isNamedVolume(v.Labels as Record<string, string>) && v.Labels?.[LABELS.session],
  );
}

/** Volumes that containers (of other sessions, once this one's are gone) still mount. */
async function volumesInUse(engine: Engine, names: string[]): Promise<Set<string>> {
  const used = new Set<string>();
  await Promise.all(
    names.map(async (name) => {
      const users = await engine.listContainers({ all: true, filters: { volume: [name] } });
      if (users.length > 0) used.add(name);
    }),
  );
  return used;
}

function remainingOf(inventory: ProjectInventory, withNamedVolumes: boolean): string[] {
  return [
    ...inventory.containers.map((c) => `container ${containerName(c)}`),
    ...inventory.networks.map((n) => `network ${n.Name}`),
    ...inventory.volumes
      .filter((v) => withNamedVolumes || !isNamedVolume(v.Labels as Record<string, string>))
      .map((v) => `volume ${v.Name}`),
  ];
}

/**
 * The inventory after removal, with lease containers that appeared meanwhile removed: a reusable
 * environment's dead owner has its lease released by its reaper (a new `release` container),
 * which may land while the environment is being taken down.
 */
async function lateLeasesRemoved(engine: Engine, selector: ProjectSelector): Promise<ProjectInventory> {
  for (let pass = 0; ; pass++) {
    const inventory = await projectInventory(engine, selector);
    const late = inventory.containers.filter((c) => isLeaseContainer(c.Labels));
    if (late.length === 0 || pass >= 3) return inventory;
    await Promise.all(
      late.map((c) =>
        engine.removeContainer(c.Id, { volumes: false }).catch((error: unknown) => {
          if (!(error instanceof NotFoundError)) throw error;
        }),
      ),
    );
  }
}

/**
 * Takes the environment down. A daemon that goes away meanwhile (restarted, stopped) is waited
 * for, within a bound, and the down is repeated once it answers (removal is safe to repeat); the
 * down then fails with a DaemonWentAwayError that says whether everything was removed.
 */
export async function downEnvironment(engine: Engine, options: DownOptions): Promise<DownReport> {
  const reached = { answered: false };
  try {
    return await downOnce(engine, options, reached);
  } catch (error) {
    // A daemon that never answered this down did not go away: it was not there.
    if (!reached.answered || !(await daemonWentAway(engine, error))) throw error;
    const backAfterMs = await awaitDaemon(engine, DAEMON_RETURN_WAIT_MS, options.signal);
    const done =
      backAfterMs !== undefined &&
      (await downOnce(engine, options, { answered: false }).then(
        () => true,
        () => false,
      ));
    throw wentAwayError(engine, "down", error, {
      back: backAfterMs !== undefined,
      ...(backAfterMs === undefined ? { waitedMs: DAEMON_RETURN_WAIT_MS } : { backAfterMs }),
      done,
    });
  }
}

async function downOnce(
  engine: Engine,
  options: DownOptions,
  reached: { answered: boolean },
): Promise<DownReport> {
  const began = performance.now();
  const phase = phaseRunner(engine, "down");
  const selector = {
    ...(options.project ? { project: options.project } : {}),
    ...(options.session ? { session: options.session } : {}),
  };
  // By project the inventory already holds every session's volumes; by session, named volumes
  // re-used from earlier sessions are found by the project label (asked alongside when known).
  const wantsReused = options.session !== undefined && !options.sessionVolumesOnly;
  const projectVolumes = (project: string) => engine.listVolumes({ label: [`${LABELS.project}=${project}`] });
  const [inventory, known] = await phase("inventory", () =>
    Promise.all([
      projectInventory(engine, selector),
      wantsReused && options.project ? projectVolumes(options.project) : undefined,
    ]),
  );
  reached.answered = true;
  const project = options.project ?? projectOf(inventory);
  const reused =
    wantsReused && project ? reusedNamedVolumes(inventory, known ?? (await projectVolumes(project))) : [];
  options.onProgress?.({
    type: "project",
    action: "down",
    project: project ?? options.session ?? "",
    ...(options.session ? { session: options.session } : {}),
    services: [...new Set(inventory.containers.map((c) => c.Labels?.[LABELS.service] ?? containerName(c)))],
  });

  const failures: string[] = [];
  const pool = networkPoolConfig(process.env, true);
  const containers = await phase("containers", () => removeContainers(engine, inventory, options, failures));
  const [removedNetworks, pooled] = await phase("networks", () =>
    Promise.all([
      removeEach(
        engine,
        "network",
        inventory.networks.map((n) => n.Name),
        failures,
      ),
      releasePooled(engine, selector, pool, failures),
    ]),
  );
  const networks = [...removedNetworks, ...pooled.removed].sort();
  for (const name of networks)
    options.onProgress?.({ type: "resource", kind: "network", name, action: "removed" });
  for (const name of pooled.returned)
    options.onProgress?.({ type: "resource", kind: "network", name, action: "returned" });
  const reusedInUse = options.volumes
    ? await volumesInUse(
        engine,
        reused.map((v) => v.Name),
      )
    : new Set<string>();
  const volumeNames = [
    ...inventory.volumes
      .filter((v) => options.volumes || !isNamedVolume(v.Labels as Record<string, string>))
      .map((v) => v.Name),
    ...(options.volumes ? reused.map((v) => v.Name).filter((name) => !reusedInUse.has(name)) : []),
  ];
  const keptVolumes = [...inventory.volumes, ...reused]
    .map((v) => v.Name)
    .filter((name) => !volumeNames.includes(name));
  const volumes = await removeEach(engine, "volume", volumeNames, failures);
  for (const name of volumes)
    options.onProgress?.({ type: "resource", kind: "volume", name, action: "removed" });
  for (const name of keptVolumes)
    options.onProgress?.({ type: "resource", kind: "volume", name, action: "kept" });

  // A first listing that found nothing of the environment is its own verification: nothing was
  // there to remove, so nothing can be left of it (a second listing would only repeat it). An
  // environment created after that listing is a later one, not what this down was asked for.
  const foundNothing =
    inventory.containers.length + inventory.networks.length + inventory.volumes.length === 0 &&
    reused.length === 0 &&
    networks.length === 0 &&
    pooled.returned.length === 0 &&
    failures.length === 0;
  const remaining = foundNothing
    ? []
    : remainingOf(await phase("verify", () => lateLeasesRemoved(engine, selector)), options.volumes === true);
  if (options.volumes && reused.length > 0 && project) {
    const removedReused = new Set(
      volumeNames.filter((name) => !inventory.volumes.some((v) => v.Name === name)),
    );
    for (const v of await engine.listVolumes({ label: [`${LABELS.project}=${project}`] })) {
      if (removedReused.has(v.Name)) remaining.push(`volume ${v.Name}`);
    }
  }
  if (remaining.length > 0 || failures.length > 0) {
    throw new DownIncompleteError(describeSelector(selector), remaining, failures);
  }
  return {
    ...(project ? { project } : {}),
    ...(options.session ? { session: options.session } : {}),
    containers: containers.sort((a, b) => a.service.localeCompare(b.service)),
    networks,
    returnedNetworks: pooled.returned,
    volumes,
    keptVolumes: keptVolumes.sort(),
    durationMs: performance.now() - began,
  };
}

/** Takes an environment down by project or session, from any process (library form of `berth down`). */
export function down(options: DownOptions & { engine?: Engine }): Promise<DownReport> {
  const { engine, ...rest } = options;
  return downEnvironment(engine ?? defaultEngine(), rest);
}
