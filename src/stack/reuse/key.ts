// The reuse key, pure: a hash of the normalised project (after interpolation, merge and service
// selection), the image id every service runs and berth's major version, so a changed file, a
// rebuilt or re-tagged image or a new berth gives a new key. Where things were written (files,
// lines) and the reset commands are left out: they change nothing in the running environment.
import { createHash } from "node:crypto";
import type { ComposeProject } from "../../model/compose.js";

interface ReuseKeyInput {
  project: ComposeProject;
  /** Image id (`sha256:...`) per service. */
  imageIds: Record<string, string>;
  /** berth's version; only its major part counts. */
  berthVersion: string;
  /** Settings outside the files that shape the containers (default memory, limit profile). */
  options?: Record<string, unknown>;
}

/** Sorted keys, no `location`, nothing undefined: one text per meaning. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (key === "location" || item === undefined) continue;
    out[key] = canonical(item);
  }
  return out;
}

export function majorVersion(version: string): string {
  return /^(\d+)/.exec(version)?.[1] ?? version;
}

export function reuseKey(input: ReuseKeyInput): string {
  const { project } = input;
  const services = Object.fromEntries(
    Object.entries(project.services).map(([name, service]) => {
      const { reset: _reset, ...berth } = service.berth;
      return [name, { ...service, berth, imageId: input.imageIds[name] ?? "missing" }];
    }),
  );
  const model = {
    name: project.name,
    services,
    networks: project.networks,
    volumes: project.volumes,
    options: input.options ?? {},
    berth: majorVersion(input.berthVersion),
  };
  return createHash("sha256")
    .update(JSON.stringify(canonical(model)))
    .digest("hex");
}

/** The first 12 characters, as `berth ls` shows it. */
export function shortKey(key: string): string {
  return key.slice(0, 12);
}
