// What the daemon holds right now: containers, networks and volumes as plain resource records,
// optionally narrowed by Engine API label filters. gc, leak snapshots and the reaper read this.
import type { Engine } from "../engine/engine.js";
import type { ResourceRef } from "./errors.js";

/** Networks every daemon has (Podman's default is `podman`); never a leak, never removable. */
const PREDEFINED_NETWORKS = new Set(["bridge", "host", "none", "podman"]);

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
  const selected = (labels: Record<string, string> | undefined) =>
    matchesLabelFilters(labels ?? {}, options.labels ?? []);
  return [
    ...containers
      .filter((c) => selected(c.Labels))
      .map(
        (c): ResourceRef => ({
          kind: "container",
          id: c.Id,
          name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
          labels: c.Labels ?? {},
        }),
      ),
    ...networks
      .filter((n) => !PREDEFINED_NETWORKS.has(n.Name) && selected(n.Labels ?? undefined))
      .map((n): ResourceRef => ({ kind: "network", id: n.Id, name: n.Name, labels: n.Labels ?? {} })),
    ...volumes
      .filter((v) => selected(v.Labels as Record<string, string> | undefined))
      .map(
        (v): ResourceRef => ({
          kind: "volume",
          id: v.Name,
          name: v.Name,
          labels: (v.Labels ?? {}) as Record<string, string>,
        }),
      ),
  ];
}

/**
 * Whether `labels` pass every filter (`key` or `key=value`). The daemon filters already; berth
 * checks again because Podman 4.3 joins several label filters on volumes with OR, not AND.
 */
export function matchesLabelFilters(labels: Record<string, string>, filters: string[]): boolean {
  return filters.every((filter) => {
    const at = filter.indexOf("=");
    return at < 0 ? filter in labels : labels[filter.slice(0, at)] === filter.slice(at + 1);
  });
}
