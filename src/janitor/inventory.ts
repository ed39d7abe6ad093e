// What the daemon holds right now: containers, networks and volumes, optionally narrowed by
// Engine API label filters. The one lister of labelled resources: gc, leak snapshots, the reaper,
// `down`/`ps` and the validation sweep all read through it.
import type { Engine } from "../engine/engine.js";
import type { ContainerSummary, NetworkInspect, VolumeInspect } from "../engine/types.js";
import { containerName } from "../model/container-name.js";
import type { ResourceRef } from "./errors.js";

/** Networks every daemon has (Podman's default is `podman`); never a leak, never removable. */
const PREDEFINED_NETWORKS = new Set(["bridge", "host", "none", "podman"]);

interface InventoryOptions {
  /** Engine API label filters, all of which must match (`key` or `key=value`). */
  labels?: string[];
}

/** The daemon's own records, by kind. */
export interface LabelledResources {
  containers: ContainerSummary[];
  networks: NetworkInspect[];
  volumes: VolumeInspect[];
}

/** Every container (running or not), network and volume that carries all of `labels`. */
export async function listLabelled(engine: Engine, labels: string[] = []): Promise<LabelledResources> {
  const filters = labels.length > 0 ? { label: labels } : undefined;
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers({ all: true, filters }),
    engine.listNetworks(filters),
    engine.listVolumes(filters),
  ]);
  const selected = (own: Record<string, string> | null | undefined) => matchesLabelFilters(own ?? {}, labels);
  return {
    containers: containers.filter((c) => selected(c.Labels)),
    networks: networks.filter((n) => !PREDEFINED_NETWORKS.has(n.Name) && selected(n.Labels)),
    volumes: volumes.filter((v) => selected(v.Labels as Record<string, string> | undefined)),
  };
}

/** The same records as plain resource references: what removal, gc and leak checks work on. */
function resourceRefs(found: LabelledResources): ResourceRef[] {
  return [
    ...found.containers.map(
      (c): ResourceRef => ({ kind: "container", id: c.Id, name: containerName(c), labels: c.Labels ?? {} }),
    ),
    ...found.networks.map(
      (n): ResourceRef => ({ kind: "network", id: n.Id, name: n.Name, labels: n.Labels ?? {} }),
    ),
    ...found.volumes.map(
      (v): ResourceRef => ({
        kind: "volume",
        id: v.Name,
        name: v.Name,
        labels: (v.Labels ?? {}) as Record<string, string>,
      }),
    ),
  ];
}

export async function listResources(engine: Engine, options: InventoryOptions = {}): Promise<ResourceRef[]> {
  return resourceRefs(await listLabelled(engine, options.labels));
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
