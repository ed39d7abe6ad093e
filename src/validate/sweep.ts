// The run's final leak check: everything still carrying the run's label is a leak. It is counted
// (the run fails on any) and then removed safely, so a failed validation leaves the daemon clean.
import type { Engine } from "../engine/engine.js";
import type { ResourceRef } from "../janitor/errors.js";
import { listResources } from "../janitor/inventory.js";
import { diffResources } from "../janitor/leaks.js";
import { removeResources } from "../janitor/remove.js";
import { LABELS } from "../model/labels.js";
import { RUN_LABEL } from "./run-scope.js";

export interface LeakedResource {
  kind: "container" | "network" | "volume";
  name: string;
}

export async function findRunResources(engine: Engine, runId: string): Promise<LeakedResource[]> {
  const found = await listResources(engine, { labels: [`${RUN_LABEL}=${runId}`] });
  return found.map((r) => ({ kind: r.kind, name: r.name }));
}

/**
 * Resources created since `before` that no berth session owns (no `berth.session` label, and not a
 * pooled network, `berth.pool`): a tool of the run that dropped berth's labels is the likely maker.
 * Labels a container inherits from its image (`berth.fixture`) say nothing about its owner.
 */
export async function findUnlabelledSince(
  engine: Engine,
  before: ResourceRef[],
  ownerKeys: readonly string[] = [LABELS.session, "berth.pool"],
): Promise<LeakedResource[]> {
  const fresh = diffResources(before, await listResources(engine));
  return fresh
    .filter((r) => !ownerKeys.some((key) => key in r.labels))
    .map((r) => ({ kind: r.kind, name: r.name }));
}

/** Removes what `findRunResources` found: containers first, so networks and volumes are free. */
export async function sweepRunResources(engine: Engine, leaked: LeakedResource[]): Promise<string[]> {
  const refs = leaked.map((r): ResourceRef => ({ kind: r.kind, id: r.name, name: r.name, labels: {} }));
  const outcomes = await removeResources(engine, refs, { maxGraceSeconds: 2, concurrency: refs.length });
  return outcomes.filter((o) => !o.ok).map((o) => (o.error as Error).message);
}
