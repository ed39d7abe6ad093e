// Top-level `networks` and `volumes`: name, external, driver, labels. Later files merge into
// earlier ones entry by entry, as Compose does.
import type { NamedVolumeSpec, NetworkSpec } from "../model.js";
import { type FileContext, failAt } from "./context.js";
import { parseMapOrList } from "./mappings.js";
import type { RawResource } from "./schema.js";

type ResourceSpec = NetworkSpec & NamedVolumeSpec;

/** One file's declarations; fields the file does not set are left out so merging keeps earlier ones. */
export function parseResources(
  context: FileContext,
  kind: "networks" | "volumes",
  raw: Record<string, RawResource | null> | null | undefined,
): Record<string, Partial<ResourceSpec>> {
  const out: Record<string, Partial<ResourceSpec>> = {};
  for (const [key, entry] of Object.entries(raw ?? {})) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(key))
      failAt(context, [kind, key], `invalid ${kind.slice(0, -1)} name`, { value: key });
    const spec: Partial<ResourceSpec> = {};
    if (entry?.name !== undefined) spec.name = entry.name;
    if (entry?.external !== undefined) spec.external = entry.external;
    if (entry?.driver !== undefined) spec.driver = entry.driver;
    if (entry?.labels !== undefined) {
      const labels = parseMapOrList(context, [kind, key, "labels"], entry.labels);
      spec.labels = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v ?? ""]));
    }
    out[key] = spec;
  }
  return out;
}

export function mergeResources(
  base: Record<string, Partial<ResourceSpec>>,
  next: Record<string, Partial<ResourceSpec>>,
): Record<string, Partial<ResourceSpec>> {
  const out = { ...base };
  for (const [key, spec] of Object.entries(next)) {
    const before = out[key];
    out[key] = before ? { ...before, ...spec, labels: { ...before.labels, ...spec.labels } } : spec;
  }
  return out;
}

export function finishResource(key: string, spec: Partial<ResourceSpec>): ResourceSpec {
  const out: ResourceSpec = {
    name: spec.name ?? key,
    external: spec.external ?? false,
    labels: spec.labels ?? {},
  };
  if (spec.driver !== undefined) out.driver = spec.driver;
  return out;
}
