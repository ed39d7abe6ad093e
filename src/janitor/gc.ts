// `berth gc`: finds berth's resources by their session labels, decides per session whether it is
// garbage (owner dead, older than asked, or everything with --all) and removes what is: containers
// by safe removal first, then networks, then volumes. A live owner's session is never touched.
import type { Engine } from "../engine/engine.js";
import { formatLabelSelector, LABELS, type LabelSelector, parseOwner } from "../model/labels.js";
import { type OwnerState, ownerState } from "../model/ownership.js";
import type { ResourceRef } from "./errors.js";
import { listResources, matchesLabelFilters } from "./inventory.js";
import {
  DEFAULT_REUSE_TTL_MS,
  isLeaseContainer,
  leaseContainerName,
  leaseGenerationOf,
  leaseState,
  takeLease,
} from "./lease.js";
import { drainPool, networkPoolConfig } from "./network-pool.js";
import { type RemovalOutcome, removeResources } from "./remove.js";

type GcRemoveReason = "owner-dead" | "older-than" | "all" | "expired" | "reusable";
type GcKeepReason = "owner-alive" | "detached" | "foreign-host" | "unknown-owner" | "leased" | "idle";
type GcVerdict = { remove: true; reason: GcRemoveReason } | { remove: false; reason: GcKeepReason };

/** What gc knows about one session, read from its resources' labels and the process table. */
export interface SessionFacts {
  ownerState: OwnerState;
  detached: boolean;
  /** Earliest `berth.created` of its resources, ms since the epoch. */
  createdAt?: number;
  /** A reusable environment: whether someone holds its lease, how long it is idle, its TTL. */
  reusable?: { leased: boolean; idleMs: number; ttlMs: number };
}

export interface GcRules {
  /** Remove every session whose owner is not alive on this host. */
  all?: boolean;
  /** Also remove sessions at least this old (ms), detached and other hosts' included. */
  olderThanMs?: number;
  /** Only reusable environments: every idle one (`idle`), or leased ones too (`all`). */
  reusable?: "idle" | "all";
  now: number;
}

/** The gc rule, pure: a live owner wins over every flag; a dead owner loses unless it detached. */
export function gcVerdict(facts: SessionFacts, rules: GcRules): GcVerdict {
  // A reusable environment outlives its owners: its lease and idle time decide, not its creator.
  if (facts.reusable) {
    if (rules.reusable === "all") return { remove: true, reason: "reusable" };
    if (facts.reusable.leased) return { remove: false, reason: "leased" };
    if (rules.reusable === "idle") return { remove: true, reason: "reusable" };
    if (rules.all) return { remove: true, reason: "all" };
    if (facts.reusable.idleMs >= (rules.olderThanMs ?? facts.reusable.ttlMs)) {
      return { remove: true, reason: "expired" };
    }
    return { remove: false, reason: "idle" };
  }
  if (rules.reusable)
    return { remove: false, reason: facts.ownerState === "alive" ? "owner-alive" : "detached" };
  if (facts.ownerState === "alive") return { remove: false, reason: "owner-alive" };
  if (facts.ownerState === "dead" && !facts.detached) return { remove: true, reason: "owner-dead" };
  if (rules.all) return { remove: true, reason: "all" };
  if (
    rules.olderThanMs !== undefined &&
    facts.createdAt !== undefined &&
    rules.now - facts.createdAt >= rules.olderThanMs
  ) {
    return { remove: true, reason: "older-than" };
  }
  if (facts.detached) return { remove: false, reason: "detached" };
  return { remove: false, reason: facts.ownerState === "foreign" ? "foreign-host" : "unknown-owner" };
}

export interface GcOptions {
  /** List what would go; remove nothing. */
  dryRun?: boolean;
  all?: boolean;
  olderThanMs?: number;
  /**
   * Only consider sessions with at least one resource carrying this label (one CI job's
   * `berth.suite=...`, a Compose service's label); such a session is considered whole.
   */
  label?: LabelSelector;
  /** Only consider sessions that own a network (address-pool recovery). */
  onlyWithNetworks?: boolean;
  /** Only reusable environments (`berth down --reusable`): idle ones, or leased ones too (`all`). */
  reusable?: "idle" | "all";
  /** Upper bound on a container's grace period during removal (seconds). */
  maxGraceSeconds?: number;
  /** This host's name, for the ownership check (default: os.hostname()). */
  host?: string;
  now?: number;
}

export interface GcSession extends SessionFacts {
  session: string;
  project?: string;
  owner?: string;
  verdict: GcVerdict;
  resources: ResourceRef[];
  /** Present once gc has removed (or tried to remove) the session's resources. */
  outcomes?: RemovalOutcome[];
}

export interface GcReport {
  dryRun: boolean;
  sessions: GcSession[];
  /** Resources removed (or, for a dry run, that would be), by kind. */
  counts: { containers: number; networks: number; volumes: number };
  /** Removals that failed; the rest of the session's resources were still attempted. */
  failures: RemovalOutcome[];
  /** Idle pooled networks removed: idle longer than the pool's TTL (or `olderThanMs`), all with `all`. */
  poolNetworks: string[];
}

function earliestCreated(resources: ResourceRef[]): number | undefined {
  const times = resources
    .map((r) => Date.parse(r.labels[LABELS.created] ?? ""))
    .filter((t) => Number.isFinite(t));
  return times.length > 0 ? Math.min(...times) : undefined;
}

function countByKind(resources: ResourceRef[]): GcReport["counts"] {
  return {
    containers: resources.filter((r) => r.kind === "container").length,
    networks: resources.filter((r) => r.kind === "network").length,
    volumes: resources.filter((r) => r.kind === "volume").length,
  };
}

function reusableFacts(owned: ResourceRef[], now: number, host?: string): Pick<SessionFacts, "reusable"> {
  const labelled = owned.find((r) => r.labels[LABELS.reuseKey]);
  if (!labelled) return {};
  const leases = owned.filter((r) => r.kind === "container" && isLeaseContainer(r.labels));
  const state = leaseState(leases, earliestCreated(owned) ?? now, { host });
  const ttl = Number(labelled.labels[LABELS.reuseTtl]);
  return {
    reusable: {
      leased: state.state === "leased",
      idleMs: state.idleSince === undefined ? 0 : now - state.idleSince,
      ttlMs: Number.isFinite(ttl) && ttl > 0 ? ttl : DEFAULT_REUSE_TTL_MS,
    },
  };
}

/**
 * Before an idle reusable environment is removed, gc takes its lease like any owner would, so
 * an `up` taking it at the same moment either wins (gc leaves it) or finds it gone. Answers the
 * lease container to remove with the rest, or undefined when someone else holds it now.
 */
async function leaseForRemoval(engine: Engine, session: GcSession): Promise<ResourceRef | undefined | null> {
  if (!session.reusable || session.reusable.leased) return null;
  const leases = session.resources.filter((r) => r.kind === "container" && isLeaseContainer(r.labels));
  const generation = Math.max(0, ...leases.map((r) => leaseGenerationOf(r.labels)));
  const service = session.resources.find((r) => r.kind === "container" && !isLeaseContainer(r.labels));
  const any = service ?? leases[0];
  if (!any) return null;
  const image = (await engine.findContainer(any.id))?.Image;
  if (!image) return null;
  const { [LABELS.owner]: _o, [LABELS.created]: _c, [LABELS.service]: _s, ...labels } = any.labels;
  const lease = await takeLease(
    engine,
    {
      session: session.session,
      project: session.project ?? session.session,
      image,
      labels,
    },
    generation,
  );
  if (!lease) return undefined;
  return {
    kind: "container",
    id: lease.containerId,
    name: leaseContainerName(lease.project, lease.generation),
    labels,
  };
}

/** Groups berth's resources by session and gives each a verdict; touches nothing. */
async function planGc(engine: Engine, options: GcOptions = {}): Promise<GcSession[]> {
  // The label picks sessions, not resources: a session is removed whole or not at all, and a
  // label from a Compose file's `labels:` sits on its service containers only, not on the
  // session's network or lease containers, which would otherwise be left behind (or, for a
  // lease, taken at a generation that does not guard against a concurrent `up`).
  const resources = await listResources(engine, { labels: [LABELS.session] });
  const bySession = new Map<string, ResourceRef[]>();
  for (const resource of resources) {
    const session = resource.labels[LABELS.session]!;
    bySession.set(session, [...(bySession.get(session) ?? []), resource]);
  }
  if (options.label) {
    const selector = [formatLabelSelector(options.label)];
    for (const [session, owned] of bySession) {
      if (!owned.some((r) => matchesLabelFilters(r.labels, selector))) bySession.delete(session);
    }
  }
  const rules: GcRules = {
    all: options.all,
    olderThanMs: options.olderThanMs,
    ...(options.reusable ? { reusable: options.reusable } : {}),
    now: options.now ?? Date.now(),
  };
  const sessions: GcSession[] = [];
  for (const [session, owned] of bySession) {
    if (options.onlyWithNetworks && !owned.some((r) => r.kind === "network")) continue;
    const ownerLabel = owned.map((r) => r.labels[LABELS.owner]).find((o) => parseOwner(o) !== undefined);
    if (options.reusable && !owned.some((r) => r.labels[LABELS.reuseKey])) continue;
    const facts: SessionFacts = {
      ownerState: ownerState(ownerLabel, { host: options.host }),
      detached: owned.some((r) => r.labels[LABELS.detached] === "true"),
      createdAt: earliestCreated(owned),
      ...reusableFacts(owned, rules.now, options.host),
    };
    sessions.push({
      session,
      project: owned.map((r) => r.labels[LABELS.project]).find(Boolean),
      owner: ownerLabel,
      ...facts,
      verdict: gcVerdict(facts, rules),
      resources: owned,
    });
  }
  return sessions.sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
}

/** Address-pool recovery (`onlyWithNetworks`) and `all` take every idle pooled network, else the TTL decides. */
function drainIdlePool(engine: Engine, options: GcOptions): Promise<string[]> {
  const pool = networkPoolConfig(process.env, true);
  const everyIdle = options.all || options.onlyWithNetworks;
  return drainPool(engine, pool, {
    ...(everyIdle ? {} : { idleLongerThanMs: options.olderThanMs ?? pool.idleTtlMs }),
    ...(options.label ? { label: options.label } : {}),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}

export async function gc(engine: Engine, options: GcOptions = {}): Promise<GcReport> {
  const sessions = await planGc(engine, options);
  if (options.dryRun) {
    const targets = sessions.filter((s) => s.verdict.remove).flatMap((s) => s.resources);
    return { dryRun: true, sessions, counts: countByKind(targets), failures: [], poolNetworks: [] };
  }
  for (const session of sessions.filter((s) => s.verdict.remove)) {
    const lease = await leaseForRemoval(engine, session);
    if (lease === undefined) session.verdict = { remove: false, reason: "leased" };
    else if (lease) session.resources = [...session.resources, lease];
  }
  const doomed = sessions.filter((s) => s.verdict.remove);
  const targets = doomed.flatMap((s) => s.resources);
  // One removal pass over all doomed sessions: a container of one session may sit on another's network.
  const outcomes = await removeResources(engine, targets, { maxGraceSeconds: options.maxGraceSeconds });
  for (const session of doomed) {
    session.outcomes = outcomes.filter((o) => o.resource.labels[LABELS.session] === session.session);
  }
  const counts = countByKind(outcomes.filter((o) => o.ok).map((o) => o.resource));
  const poolNetworks = options.reusable ? [] : await drainIdlePool(engine, options);
  counts.networks += poolNetworks.length;
  return { dryRun: false, sessions, counts, failures: outcomes.filter((o) => !o.ok), poolNetworks };
}
