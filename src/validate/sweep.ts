// The run's final leak check: everything still carrying the run's label is a leak. It is counted
// (the run fails on any) and then removed safely, so a failed validation leaves the daemon clean.
import type { Engine } from "../engine/engine.js";
import { NotFoundError } from "../engine/errors.js";
import type { ResourceRef } from "../janitor/errors.js";
import { listResources } from "../janitor/inventory.js";
import { diffResources } from "../janitor/leaks.js";
import { safeRemove } from "../lifecycle/safe-remove.js";
import { LABELS } from "../model/labels.js";
import { RUN_LABEL } from "./run-scope.js";

export interface LeakedResource {
  kind: "container" | "network" | "volume";
  name: string;
}

export async function findRunResources(engine: Engine, runId: string): Promise<LeakedResource[]> {
  const filter = { label: [`${RUN_LABEL}=${runId}`] };
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers({ all: true, filters: filter }),
    engine.listNetworks(filter),
    engine.listVolumes(filter),
  ]);
  return [
    ...containers.map((c) => ({ kind: "container" as const, name: c.Names[0]?.replace(/^\//, "") ?? c.Id })),
    ...networks.map((n) => ({ kind: "network" as const, name: n.Name })),
    ...volumes.map((v) => ({ kind: "volume" as const, name: v.Name })),
  ];
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
  const errors: string[] = [];
  const attempt = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (!(error instanceof NotFoundError)) errors.push((error as Error).message);
    }
  };
  const of = (kind: LeakedResource["kind"]) => leaked.filter((r) => r.kind === kind);
  await Promise.all(
    of("container").map((r) => attempt(() => safeRemove(engine, r.name, { maxGraceSeconds: 2 }))),
  );
  await Promise.all(of("network").map((r) => attempt(() => engine.removeNetwork(r.name))));
  await Promise.all(of("volume").map((r) => attempt(() => engine.removeVolume(r.name))));
  return errors;
}
