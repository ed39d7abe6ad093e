// A small pool of pre-created, labelled bridge networks per daemon, so that `up` claims a network
// in a few milliseconds instead of creating one (200-350 ms on Docker 20.10) and `down` returns it
// instead of removing it. Pooled networks carry `berth.pool=network`, the creator's owner label
// and a pool key (the BERTH_LABELS of the processes that share them, so one CI job's pool is its
// own); who holds one is in the claim files (network-pool-claims.ts). A network goes back to the
// pool only once the daemon shows nothing attached to it; idle ones beyond the pool's size are
// removed, and `berth gc` removes those idle longer than the TTL.
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Engine } from "../engine/engine.js";
import { ConfigError, NotFoundError } from "../engine/errors.js";
import type { NetworkInspect } from "../engine/types.js";
import { parseDuration } from "../model/duration.js";
import {
  currentOwner,
  extraLabelsFromEnv,
  formatOwner,
  LABELS,
  type LabelSelector,
  matchesSelector,
} from "../model/labels.js";
import { ownerOf, ownerState } from "../model/ownership.js";
import {
  type ClaimRecord,
  claimStatus,
  isTopGeneration,
  poolDirFromEnv,
  pruneClaims,
  readClaims,
  writeClaim,
} from "./network-pool-claims.js";

export const POOL_LABELS = {
  /** On every pooled network: `network`. */
  pool: "berth.pool",
  /** Hash of the BERTH_LABELS of the processes sharing the pool. */
  key: "berth.pool.key",
} as const;

export interface NetworkPoolConfig {
  enabled: boolean;
  /** Idle networks kept per pool key. */
  size: number;
  /** An idle network older than this is removed by `berth gc` and by later claims (ms). */
  idleTtlMs: number;
  /** Where the claim files live. */
  dir: string;
  /** BERTH_LABELS: put on every pooled network, and the pool key. */
  extraLabels: Record<string, string>;
}

export const DEFAULT_POOL_SIZE = 2;
const MAX_POOL_SIZE = 8;
const DEFAULT_POOL_IDLE_TTL_MS = 10 * 60_000;

function poolSwitch(value: string | undefined): boolean {
  const text = value?.trim().toLowerCase() ?? "";
  if (["", "0", "off", "false", "no"].includes(text)) return false;
  if (["1", "on", "true", "yes"].includes(text)) return true;
  throw new ConfigError(`BERTH_NETWORK_POOL: expected on or off, got \`${value}\``, {
    resource: "BERTH_NETWORK_POOL",
    hint: "Set BERTH_NETWORK_POOL=on to claim networks from a pool, or off (the default).",
  });
}

/** The pool's settings from BERTH_NETWORK_POOL, _SIZE, _TTL and _DIR; `enabled` overrides the switch. */
export function networkPoolConfig(
  env: Record<string, string | undefined> = process.env,
  enabled?: boolean,
): NetworkPoolConfig {
  const sizeText = env.BERTH_NETWORK_POOL_SIZE?.trim();
  const size = sizeText ? Number(sizeText) : DEFAULT_POOL_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_POOL_SIZE) {
    throw new ConfigError(
      `BERTH_NETWORK_POOL_SIZE: expected a whole number from 1 to ${MAX_POOL_SIZE}, got \`${sizeText}\``,
      {
        resource: "BERTH_NETWORK_POOL_SIZE",
        hint: "Address pools are finite (about 31 bridge networks on a default daemon): keep it small.",
      },
    );
  }
  const ttlText = env.BERTH_NETWORK_POOL_TTL?.trim();
  return {
    enabled: enabled ?? poolSwitch(env.BERTH_NETWORK_POOL),
    size,
    idleTtlMs: ttlText
      ? parseDuration(ttlText, { where: "BERTH_NETWORK_POOL_TTL" })
      : DEFAULT_POOL_IDLE_TTL_MS,
    dir: poolDirFromEnv(env),
    extraLabels: extraLabelsFromEnv(env),
  };
}

export function poolKey(extraLabels: Record<string, string>): string {
  const text = Object.keys(extraLabels)
    .sort()
    .map((k) => `${k}=${extraLabels[k]}`)
    .join("\n");
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** Pooled networks on this daemon created from this host, of one pool key (all keys when omitted). */
export async function listPoolNetworks(engine: Engine, key?: string): Promise<NetworkInspect[]> {
  const label = [`${POOL_LABELS.pool}=network`, ...(key ? [`${POOL_LABELS.key}=${key}`] : [])];
  const networks = await engine.listNetworks({ label });
  const host = hostname();
  return networks.filter(
    (n) =>
      n.Labels?.[POOL_LABELS.pool] === "network" &&
      (!key || n.Labels?.[POOL_LABELS.key] === key) &&
      ownerOf(n.Labels ?? undefined)?.host === host,
  );
}

interface Claimant {
  session: string;
  project: string;
}

function record(
  network: string,
  generation: number,
  state: ClaimRecord["state"],
  who?: Claimant,
): ClaimRecord {
  return {
    network,
    generation,
    state,
    owner: formatOwner(currentOwner()),
    ...(who ? { session: who.session, project: who.project } : {}),
    at: Date.now(),
  };
}

/** Takes the next generation of `network`'s claim; true when this process holds it now. */
function take(dir: string, network: string, after: number, who: Claimant): boolean {
  const generation = after + 1;
  if (!writeClaim(dir, record(network, generation, "take", who))) return false;
  if (!isTopGeneration(dir, network, generation)) {
    pruneClaims(dir, network, generation + 1);
    return false;
  }
  pruneClaims(dir, network, generation);
  return true;
}

/** Nothing attached to it, running or not: an orphaned claim's network may be taken over. */
async function nothingAttached(engine: Engine, network: NetworkInspect): Promise<boolean> {
  if (Object.keys(network.Containers ?? {}).length > 0) return false;
  const users = await engine.listContainers({ all: true, filters: { network: [network.Name] } });
  return users.length === 0;
}

/** Free first (returned most recently first: warm), then orphaned ones. */
function claimable(networks: NetworkInspect[], dir: string) {
  const claims = readClaims(dir);
  const free: { network: NetworkInspect; after: number; since: number }[] = [];
  const orphaned: { network: NetworkInspect; after: number }[] = [];
  for (const network of networks) {
    const claim = claims.get(network.Name);
    const status = claimStatus(claim, claim ? ownerState(claim.owner) : "unknown");
    if (status === "free") free.push({ network, after: claim?.generation ?? 0, since: claim?.at ?? 0 });
    else if (status === "orphaned") orphaned.push({ network, after: claim!.generation });
  }
  free.sort((a, b) => b.since - a.since);
  return { free, orphaned, claims };
}

function newPoolNetworkName(): string {
  return `berth-pool-${randomBytes(6).toString("hex")}`;
}

async function createPoolNetwork(engine: Engine, name: string, config: NetworkPoolConfig): Promise<void> {
  await engine.createNetwork({
    Name: name,
    Driver: "bridge",
    CheckDuplicate: true,
    Labels: {
      ...config.extraLabels,
      [POOL_LABELS.pool]: "network",
      [POOL_LABELS.key]: poolKey(config.extraLabels),
      [LABELS.owner]: formatOwner(currentOwner()),
      [LABELS.created]: new Date().toISOString(),
    },
  });
}

interface ClaimedNetwork {
  name: string;
  /** False when the pool had none free and this one was created for the claim. */
  fromPool: boolean;
  /** Free networks left in the pool after this claim (a refill is due at 0). */
  remaining: number;
}

/**
 * Claims a pooled network for `who`: a free one, else one whose holder died and that has nothing
 * attached, else a new one (its claim is written before it exists, so nobody else can take it).
 */
export async function claimPoolNetwork(
  engine: Engine,
  who: Claimant,
  config: NetworkPoolConfig,
): Promise<ClaimedNetwork> {
  const networks = await listPoolNetworks(engine, poolKey(config.extraLabels));
  const { free, orphaned } = claimable(networks, config.dir);
  for (const [index, candidate] of free.entries()) {
    if (take(config.dir, candidate.network.Name, candidate.after, who)) {
      return { name: candidate.network.Name, fromPool: true, remaining: free.length - index - 1 };
    }
  }
  for (const candidate of orphaned) {
    if (!(await nothingAttached(engine, candidate.network))) continue;
    if (take(config.dir, candidate.network.Name, candidate.after, who)) {
      return { name: candidate.network.Name, fromPool: true, remaining: 0 };
    }
  }
  const name = newPoolNetworkName();
  take(config.dir, name, 0, who);
  try {
    await createPoolNetwork(engine, name, config);
  } catch (error) {
    pruneClaims(config.dir, name);
    throw error;
  }
  return { name, fromPool: false, remaining: 0 };
}

const refills = new Map<string, Promise<void>>();

/**
 * After a claim emptied the pool: one network for the next claim, in the background. One is
 * enough to keep a claim off the critical path without churning the daemon (down returns the
 * network in use; the pool grows to its size only under concurrency). Failures are ignored: the
 * next claim creates what it needs. One refill per pool key at a time in this process.
 */
export function refillPool(engine: Engine, config: NetworkPoolConfig): Promise<void> {
  const key = poolKey(config.extraLabels);
  const running = refills.get(key);
  if (running) return running;
  const work = (async () => {
    const { free } = claimable(await listPoolNetworks(engine, key), config.dir);
    if (free.length === 0) await createPoolNetwork(engine, newPoolNetworkName(), config);
  })()
    .catch(() => {})
    .finally(() => refills.delete(key));
  refills.set(key, work);
  return work;
}

/**
 * Refills still running in this process: a drain waits for them, so none lands after it, and so
 * does `berth up` before it answers (its process ends as soon as the command does).
 */
export function poolRefillsSettled(): Promise<unknown> {
  return Promise.all([...refills.values()]);
}

type ReleaseOutcome = "returned" | "removed" | "gone";

async function removeClaimed(engine: Engine, dir: string, name: string): Promise<"removed" | "gone"> {
  try {
    await engine.removeNetwork(name);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    pruneClaims(dir, name);
    return "gone";
  }
  pruneClaims(dir, name);
  return "removed";
}

/**
 * Gives a claimed network back once the daemon shows nothing attached to it: into the pool, or
 * removed when the pool already holds its size of idle networks. A network with something still
 * attached is refused (the caller reports it as left behind).
 */
export async function releasePoolNetwork(
  engine: Engine,
  name: string,
  generation: number,
  config: NetworkPoolConfig,
): Promise<ReleaseOutcome> {
  let network: NetworkInspect;
  try {
    network = await engine.inspectNetwork(name);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    pruneClaims(config.dir, name);
    return "gone";
  }
  const attached = Object.values(network.Containers ?? {}).map((c) => c.Name ?? "?");
  if (attached.length > 0) {
    throw new Error(`pooled network ${name} still has ${attached.join(", ")} attached`);
  }
  const key = network.Labels?.[POOL_LABELS.key];
  const idle = key ? claimable(await listPoolNetworks(engine, key), config.dir).free : [];
  if (idle.length >= config.size || !key) return removeClaimed(engine, config.dir, name);
  if (!writeClaim(config.dir, record(name, generation + 1, "release"))) return "returned";
  pruneClaims(config.dir, name, generation + 1);
  return "returned";
}

/** The networks `selector`'s session (or project) holds a claim on, with their generation. */
function heldPoolNetworks(
  dir: string,
  selector: { session?: string; project?: string },
): { name: string; generation: number }[] {
  return [...readClaims(dir).values()]
    .filter(
      (c) =>
        c.state === "take" &&
        (selector.session ? c.session === selector.session : c.project === selector.project),
    )
    .map((c) => ({ name: c.network, generation: c.generation }));
}

interface DrainOptions {
  /** Only pooled networks carrying this label (e.g. a test run's `berth.suite=...`). */
  label?: LabelSelector;
  /** Only networks idle at least this long (ms); all idle ones when omitted. */
  idleLongerThanMs?: number;
  /** Also networks whose holder died with nothing attached (default true; a leak check says false). */
  orphaned?: boolean;
  now?: number;
}

/**
 * Removes idle pooled networks (free, or orphaned with nothing attached), each claimed first so
 * that an `up` taking it at the same moment either wins or finds it gone. Answers their names.
 */
export async function drainPool(engine: Engine, config: NetworkPoolConfig, options: DrainOptions = {}) {
  await poolRefillsSettled();
  const now = options.now ?? Date.now();
  const networks = (await listPoolNetworks(engine)).filter(
    (n) => !options.label || matchesSelector(n.Labels ?? {}, options.label),
  );
  const { free, orphaned } = claimable(networks, config.dir);
  const idleSince = (n: NetworkInspect, at: number) =>
    at || Date.parse(n.Labels?.[LABELS.created] ?? n.Created);
  const drainer: Claimant = { session: "drain", project: "drain" };
  const removed: string[] = [];
  for (const { network, after, since } of [
    ...free,
    ...(options.orphaned === false ? [] : orphaned.map((o) => ({ ...o, since: 0 }))),
  ]) {
    if (options.idleLongerThanMs !== undefined && now - idleSince(network, since) < options.idleLongerThanMs)
      continue;
    if (!(await nothingAttached(engine, network))) continue;
    if (!take(config.dir, network.Name, after, drainer)) continue;
    try {
      await removeClaimed(engine, config.dir, network.Name);
      removed.push(network.Name);
    } catch {
      writeClaim(config.dir, record(network.Name, after + 2, "release"));
    }
  }
  return removed.sort();
}

interface HeldRelease {
  name: string;
  outcome?: ReleaseOutcome;
  error?: unknown;
}

/** Releases every pooled network `selector` holds (down, rollback, the reaper after a crash). */
export async function releaseHeld(
  engine: Engine,
  selector: { session?: string; project?: string },
  config: NetworkPoolConfig,
): Promise<HeldRelease[]> {
  return Promise.all(
    heldPoolNetworks(config.dir, selector).map(async ({ name, generation }) => {
      try {
        return { name, outcome: await releasePoolNetwork(engine, name, generation, config) };
      } catch (error) {
        return { name, error };
      }
    }),
  );
}

/** A pooled network nobody holds (never claimed, or returned): what a leak check may leave. */
export function isFreePoolNetwork(
  labels: Record<string, string>,
  name: string,
  config: NetworkPoolConfig,
): boolean {
  if (labels[POOL_LABELS.pool] !== "network") return false;
  const claim = readClaims(config.dir).get(name);
  return claimStatus(claim, claim ? ownerState(claim.owner) : "unknown") === "free";
}
