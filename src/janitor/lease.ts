// Leases on reusable environments, with the daemon as the only shared state. Labels cannot change
// after a resource exists, so a lease is a sequence of small containers (created, never started)
// named `<project>-lease-<generation>`: taking the lease creates the next generation's `take`
// container, and the daemon's unique container names make that create atomic, so of two owners
// asking at once one gets a 409 and moves on. Releasing creates the following generation as a
// `release` marker (its creation time is when the environment became idle) and removes the older
// generations. The highest generation present tells the state: a `take` whose owner is alive is
// leased; a `release`, or a `take` whose owner is dead, is idle.
import type { Engine } from "../engine/engine.js";
import { ConflictError, NotFoundError } from "../engine/errors.js";
import { currentOwner, formatOwner, LABELS, type OwnerIdentity } from "../model/labels.js";
import { type OwnerState, type OwnershipOptions, ownerState } from "../model/ownership.js";

/** Idle time after which `berth gc` removes a reusable environment, unless its file says otherwise. */
export const DEFAULT_REUSE_TTL_MS = 3_600_000;

/** A lease container as listed: its id, labels and creation time (ms since the epoch). */
interface LeaseContainer {
  id: string;
  labels: Record<string, string>;
}

export interface LeaseState {
  /** The highest generation present; 0 when the environment has no lease container. */
  generation: number;
  state: "leased" | "idle";
  /** The owner label of the current `take`, when there is one. */
  holder?: string;
  holderState?: OwnerState;
  /** Since when the environment is idle, ms since the epoch (idle only). */
  idleSince?: number;
}

export function isLeaseContainer(labels: Record<string, string> | undefined): boolean {
  return labels?.[LABELS.lease] !== undefined;
}

export function leaseGenerationOf(labels: Record<string, string>): number {
  const value = Number(labels[LABELS.leaseGeneration]);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

function createdAt(labels: Record<string, string>): number | undefined {
  const time = Date.parse(labels[LABELS.created] ?? "");
  return Number.isFinite(time) ? time : undefined;
}

/**
 * The lease state of one environment from its lease containers, pure. `createdAt` (the
 * environment's creation) stands for the idle time when no lease container is left. An owner
 * that cannot be checked (another host, unreadable label) counts as alive: never take from it.
 */
export function leaseState(
  containers: LeaseContainer[],
  environmentCreatedAt: number,
  options: OwnershipOptions = {},
): LeaseState {
  const top = containers.reduce<LeaseContainer | undefined>(
    (best, c) => (!best || leaseGenerationOf(c.labels) > leaseGenerationOf(best.labels) ? c : best),
    undefined,
  );
  if (!top) return { generation: 0, state: "idle", idleSince: environmentCreatedAt };
  const generation = leaseGenerationOf(top.labels);
  const since = createdAt(top.labels) ?? environmentCreatedAt;
  if (top.labels[LABELS.lease] !== "take") return { generation, state: "idle", idleSince: since };
  const holder = top.labels[LABELS.owner];
  const holderState = ownerState(holder, options);
  if (holderState === "dead") return { generation, state: "idle", holder, holderState, idleSince: since };
  return { generation, state: "leased", ...(holder ? { holder } : {}), holderState };
}

/** What a lease is on: the environment, an image its lease containers are created from, their labels. */
export interface LeaseSubject {
  session: string;
  project: string;
  /** A local image (any of the environment's): a container needs one, though it never starts. */
  image: string;
  /** The environment's labels (session, project, detached, reuse key, BERTH_LABELS), without owner. */
  labels: Record<string, string>;
}

export interface Lease extends LeaseSubject {
  generation: number;
  containerId: string;
}

export function leaseContainerName(project: string, generation: number): string {
  return `${project}-lease-${generation}`;
}

async function createLeaseContainer(
  engine: Engine,
  subject: LeaseSubject,
  generation: number,
  kind: "take" | "release",
  owner: OwnerIdentity,
): Promise<{ id: string; recovered?: boolean } | undefined> {
  const ownerLabel = formatOwner(owner);
  try {
    return await engine.createContainer({
      name: leaseContainerName(subject.project, generation),
      Image: subject.image,
      // Never started: the entrypoint only has to make the create valid for any image.
      Entrypoint: ["/berth-lease"],
      Cmd: [],
      Labels: {
        ...subject.labels,
        [LABELS.owner]: ownerLabel,
        [LABELS.created]: new Date().toISOString(),
        [LABELS.lease]: kind,
        [LABELS.leaseGeneration]: String(generation),
      },
      NetworkDisabled: true,
      HostConfig: { NetworkMode: "none" },
    } as Parameters<Engine["createContainer"]>[0]);
  } catch (error) {
    if (error instanceof ConflictError && error.reason === "name-in-use") return undefined;
    throw error;
  }
}

/**
 * Takes the lease of an environment whose highest lease generation is `generation` (as just
 * listed): answers the lease, or undefined when another owner created that generation first.
 */
export async function takeLease(
  engine: Engine,
  subject: LeaseSubject,
  generation: number,
  owner: OwnerIdentity = currentOwner(),
): Promise<Lease | undefined> {
  const next = generation + 1;
  const created = await createLeaseContainer(engine, subject, next, "take", owner);
  if (!created) return undefined;
  // A create the guard recovered after a lost answer found a container by name: it must be ours.
  if (created.recovered) {
    const info = await engine.findContainer(created.id);
    if (info?.Config.Labels?.[LABELS.owner] !== formatOwner(owner)) return undefined;
  }
  return { ...subject, generation: next, containerId: created.id };
}

/** Removes lease containers (gone already is fine). */
export function removeLeaseContainers(engine: Engine, ids: string[]): Promise<unknown> {
  return Promise.all(
    ids.map((id) =>
      engine.removeContainer(id, { volumes: false }).catch((error: unknown) => {
        if (!(error instanceof NotFoundError)) throw error;
      }),
    ),
  );
}

/** The lean release's inputs (releaseLease). */
export interface LeanRelease {
  /** Lease containers listed before the take: all of older generations. */
  listed: string[];
  /** The id of one of the environment's service containers: gone means the environment is gone. */
  witness: string;
}

/**
 * Releases a lease: the next generation's `release` marker says since when the environment is
 * idle, and the older generations go. Releasing twice is harmless; so is releasing a lease that
 * another owner took over after this one's owner was found dead (its marker create gets a 409).
 * One list of the environment's containers gives both the older generations and whether the
 * environment is still there.
 *
 * `lean`: for a lease held only for moments (`berth up --reuse`), the lease containers the list
 * before the take found (all older than this lease) are removed while the marker is created, and
 * one of the environment's containers is inspected after it, instead of a list: two short round
 * trips instead of three. This lease's own `take` stays under the marker (one generation, removed
 * beside the next take).
 */
export async function releaseLease(
  engine: Engine,
  lease: Lease,
  owner: OwnerIdentity = currentOwner(),
  lean?: LeanRelease,
): Promise<void> {
  const generation = lease.generation + 1;
  if (lean) {
    // Removing generations under this lease's `take` never changes the highest one: safe at any time.
    const [marker] = await Promise.all([
      createLeaseContainer(engine, lease, generation, "release", owner),
      removeLeaseContainers(engine, lean.listed),
    ]);
    // A `down` of the environment that ended while the lease was held listed it for the last time
    // before this marker existed, so it could not remove it. Looked at after the create, the
    // environment's absence says so: then the marker (and this lease's `take`) go here. Present,
    // any down still under way lists the lease containers after its removals and finds them.
    if (marker && !(await engine.findContainer(lean.witness))) {
      await removeLeaseContainers(engine, [marker.id, lease.containerId]);
    }
    return;
  }
  const marker = await createLeaseContainer(engine, lease, generation, "release", owner);
  if (!marker) return;
  const containers = await engine.listContainers({
    all: true,
    filters: { label: [`${LABELS.session}=${lease.session}`] },
  });
  const older = containers.filter(
    (c) => isLeaseContainer(c.Labels) && leaseGenerationOf(c.Labels ?? {}) < generation,
  );
  // Released while someone removed the environment (a dead owner's reaper racing `berth down`):
  // a marker without an environment is removed again.
  const orphaned = !containers.some((c) => !isLeaseContainer(c.Labels) && c.Labels?.[LABELS.service]);
  await removeLeaseContainers(engine, [...older.map((c) => c.Id), ...(orphaned ? [marker.id] : [])]);
}
