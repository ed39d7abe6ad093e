// What the daemon holds right now: containers, networks and volumes as plain resource records,
// optionally narrowed by Engine API label filters. gc, leak snapshots and the reaper read this.
import type { Engine } from "../engine/engine.js";
import type { ResourceRef } from "./errors.js";

/** Networks every daemon has; never created by anyone, never a leak, never removable. */
const PREDEFINED_NETWORKS = new Set(["bridge", "host", "none"]);

export interface InventoryOptions {
  /** Engine API label filters, all of which must match (`key` or `key=value`). */
  labels?: string[];
}

export async function listResources(engine: Engine, options: InventoryOptions = {}): Promise<ResourceRef[]> {
  const filters = options.labels && options.labels.length > 0 ? { label: options.labels } : undefined;
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers({ all: true, filters }),
    engine.listNetworks(filters),
    engine.listVolumes(filters),
  ]);
  return [
    ...containers.map(
      (c): ResourceRef => ({
        kind: "container",
        id: c.Id,
        name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
        labels: c.Labels ?? {},
      }),
    ),
    ...networks
      .filter((n) => !PREDEFINED_NETWORKS.has(n.Name))
      .map((n): ResourceRef => ({ kind: "network", id: n.Id, name: n.Name, labels: n.Labels ?? {} })),
    ...volumes.map(
      (v): ResourceRef => ({
        kind: "volume",
        id: v.Name,
        name: v.Name,
        labels: (v.Labels ?? {}) as Record<string, string>,
      }),
    ),
  ];
}
