// The reusable environments of one key on the daemon, from one container list: each with its
// service containers, its lease state and the labels a new lease container of it carries.
import type { Engine } from "../../engine/engine.js";
import {
  isLeaseContainer,
  type LeaseState,
  type LeaseSubject,
  leaseGenerationOf,
  leaseState,
} from "../../janitor/lease.js";
import { extraLabelsFromEnv, LABELS } from "../../model/labels.js";
import type { ListedContainer } from "./safety.js";

export interface ReusableEnvironment {
  session: string;
  project: string;
  createdAt: number;
  /** Service name -> its container. */
  services: Map<string, ListedContainer>;
  lease: LeaseState;
  /** Its lease containers' ids, every generation. */
  leaseIds: string[];
  /**
   * Those below the highest generation: removing them never changes the lease's state, so they
   * may go at any time (while a take of the environment is in flight too).
   */
  lowerLeaseIds: string[];
  labels: Record<string, string>;
}

/** The labels every resource of a reusable environment shares (not owner, time or service). */
const SHARED = [
  LABELS.session,
  LABELS.project,
  LABELS.detached,
  LABELS.reuseKey,
  LABELS.reuseTtl,
  LABELS.reuseSource,
] as const;

function sharedLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of SHARED) if (labels[key] !== undefined) out[key] = labels[key]!;
  return out;
}

/** Groups listed containers (services and leases) into environments by session. Pure. */
export function groupEnvironments(containers: ListedContainer[], now = Date.now()): ReusableEnvironment[] {
  const bySession = new Map<string, ListedContainer[]>();
  for (const c of containers) {
    const session = c.Labels?.[LABELS.session];
    if (!session) continue;
    bySession.set(session, [...(bySession.get(session) ?? []), c]);
  }
  return [...bySession].map(([session, all]) => {
    const leases = all.filter((c) => isLeaseContainer(c.Labels));
    const services = all.filter((c) => !isLeaseContainer(c.Labels) && c.Labels[LABELS.service]);
    const created = all
      .map((c) => Date.parse(c.Labels[LABELS.created] ?? ""))
      .filter((t) => Number.isFinite(t));
    const createdAt = created.length > 0 ? Math.min(...created) : now;
    const labels = sharedLabels((services[0] ?? all[0]!).Labels);
    const lease = leaseState(
      leases.map((c) => ({ id: c.Id, labels: c.Labels })),
      createdAt,
    );
    return {
      session,
      project: labels[LABELS.project] ?? session,
      createdAt,
      services: new Map(services.map((c) => [c.Labels[LABELS.service]!, c])),
      lease,
      leaseIds: leases.map((c) => c.Id),
      lowerLeaseIds: leases.filter((c) => leaseGenerationOf(c.Labels) < lease.generation).map((c) => c.Id),
      labels,
    };
  });
}

/**
 * Every container of every reusable environment, whatever its key: one list, which `up` starts
 * while the images' ids (and so the key) are still being looked up.
 */
export async function listReusableContainers(engine: Engine): Promise<ListedContainer[]> {
  return engine.listContainers({
    all: true,
    filters: { label: [LABELS.reuseKey] },
  });
}

/** The environments of one key among listed containers. Pure. */
export function environmentsOfKey(containers: ListedContainer[], key: string): ReusableEnvironment[] {
  return groupEnvironments(containers.filter((c) => c.Labels?.[LABELS.reuseKey] === key));
}

/** What a lease on this environment needs: its shared labels (with this run's BERTH_LABELS) and an image. */
export function leaseSubjectOf(environment: ReusableEnvironment, image: string): LeaseSubject {
  return {
    session: environment.session,
    project: environment.project,
    image,
    labels: { ...extraLabelsFromEnv(), ...environment.labels },
  };
}

/**
 * Idle environments in the order this process tries them: the most recently used first, rotated
 * by the pid so that parallel workers asking at once mostly start at different ones.
 */
export function idleInOrder(environments: ReusableEnvironment[], pid = process.pid): ReusableEnvironment[] {
  const idle = environments
    .filter((e) => e.lease.state === "idle")
    .sort((a, b) => (b.lease.idleSince ?? 0) - (a.lease.idleSince ?? 0));
  if (idle.length < 2) return idle;
  const start = pid % idle.length;
  return [...idle.slice(start), ...idle.slice(0, start)];
}
