// Removes a set of resources in the only order that works: containers first (by safe removal,
// never force), then the networks they were attached to, then volumes they mounted. Something
// already gone counts as removed, so gc, the reaper and `down` may race each other harmlessly.
import type { Engine } from "../engine/engine.js";
import { NotFoundError } from "../engine/errors.js";
import { type RemovalRecord, safeRemove } from "../lifecycle/safe-remove.js";
import type { ResourceRef } from "./errors.js";

export interface RemovalOutcome {
  resource: ResourceRef;
  ok: boolean;
  /** It was gone before berth removed it (someone else did). */
  alreadyGone: boolean;
  error?: unknown;
  /** How the container was stopped and removed. */
  container?: RemovalRecord;
}

interface RemoveResourcesOptions {
  /** Upper bound on a container's grace period, whatever it asks for (seconds). */
  maxGraceSeconds?: number;
  /** Containers removed at once (default 4): removal is a lifecycle call; do not storm the daemon. */
  concurrency?: number;
  signal?: AbortSignal;
}

async function eachLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function removeOne(
  engine: Engine,
  resource: ResourceRef,
  options: RemoveResourcesOptions,
): Promise<RemovalOutcome> {
  try {
    if (resource.kind === "container") {
      const record = await safeRemove(engine, resource.id, {
        maxGraceSeconds: options.maxGraceSeconds,
        signal: options.signal,
      });
      return { resource, ok: true, alreadyGone: record.outcome === "already-removed", container: record };
    }
    if (resource.kind === "network") await engine.removeNetwork(resource.id);
    else await engine.removeVolume(resource.name);
    return { resource, ok: true, alreadyGone: false };
  } catch (error) {
    if (error instanceof NotFoundError) return { resource, ok: true, alreadyGone: true };
    return { resource, ok: false, alreadyGone: false, error };
  }
}

export async function removeResources(
  engine: Engine,
  resources: ResourceRef[],
  options: RemoveResourcesOptions = {},
): Promise<RemovalOutcome[]> {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const outcomes: RemovalOutcome[] = [];
  for (const kind of ["container", "network", "volume"] as const) {
    const batch = resources.filter((r) => r.kind === kind);
    outcomes.push(...(await eachLimited(batch, concurrency, (r) => removeOne(engine, r, options))));
  }
  return outcomes;
}
