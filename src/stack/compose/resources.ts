// Top-level `networks` and `volumes`: name, external, driver, labels. Later files merge into
// earlier ones entry by entry, as Compose does.
import { resolve } from "node:path";
import type { IpamConfig, NamedVolumeSpec, NetworkSpec, ProvidedSource } from "../../model/compose.js";
import { type FileContext, failAt } from "./file-context.js";
import { parseMapOrList } from "./mappings.js";
import type { RawProvided, RawResource } from "./schema.js";

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
    if (entry?.driver_opts !== undefined) spec.driverOpts = entry.driver_opts;
    if (entry?.internal !== undefined) spec.internal = entry.internal;
    if (entry?.attachable !== undefined) spec.attachable = entry.attachable;
    if (entry?.ipam !== undefined) {
      const config = (entry.ipam.config ?? []).map((c, index) => {
        const out: IpamConfig = {};
        const where = [kind, key, "ipam", "config", index];
        if (c.subnet !== undefined) {
          if (!/^[\d.]+\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/.test(c.subnet))
            failAt(context, [...where, "subnet"], "a subnet is ADDRESS/BITS, such as 172.28.0.0/16", {
              value: c.subnet,
            });
          out.subnet = c.subnet;
        }
        if (c.gateway !== undefined) out.gateway = c.gateway;
        if (c.ip_range !== undefined) out.ipRange = c.ip_range;
        return out;
      });
      spec.ipam = { ...(entry.ipam.driver ? { driver: entry.ipam.driver } : {}), config };
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
  if (spec.driverOpts !== undefined) out.driverOpts = spec.driverOpts;
  if (spec.internal !== undefined) out.internal = spec.internal;
  if (spec.attachable !== undefined) out.attachable = spec.attachable;
  if (spec.ipam !== undefined) out.ipam = spec.ipam;
  return out;
}

/** A secret's environment value, kept out of every printed or serialised model. */
function environmentSource(variable: string, value: string): ProvidedSource {
  const source = { environment: variable } as { environment: string; value: string };
  Object.defineProperty(source, "value", { value, enumerable: false });
  return source;
}

/** Top-level `secrets` or `configs` of one file: exactly one source each, read or checked now. */
export function parseProvided(
  context: FileContext,
  kind: "secrets" | "configs",
  raw: Record<string, RawProvided> | null | undefined,
): Record<string, ProvidedSource> {
  const out: Record<string, ProvidedSource> = {};
  for (const [key, entry] of Object.entries(raw ?? {})) {
    const where = [kind, key];
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(key))
      failAt(context, where, `invalid ${kind.slice(0, -1)} name`, { value: key });
    const given = (["file", "environment", "content"] as const).filter((k) => entry[k] !== undefined);
    if (given.length !== 1) {
      failAt(
        context,
        where,
        `a ${kind.slice(0, -1)} takes exactly one of file, environment${kind === "configs" ? ", content" : ""}`,
        {
          value: entry,
        },
      );
    }
    if (entry.file !== undefined) {
      const file = resolve(context.projectDir, entry.file);
      if (!context.reader.exists(file)) {
        failAt(context, [...where, "file"], `${kind.slice(0, -1)} file ${file} does not exist`, {
          hint: "Relative paths are taken from the project directory (the first compose file's).",
        });
      }
      out[key] = { file };
    } else if (entry.environment !== undefined) {
      const value = context.lookup(entry.environment);
      if (value === undefined) {
        failAt(context, [...where, "environment"], `the variable ${entry.environment} is not set`, {
          hint: "Set it in the environment or in the .env file.",
        });
      }
      out[key] = environmentSource(entry.environment, value);
    } else {
      out[key] = { content: entry.content! };
    }
  }
  return out;
}
