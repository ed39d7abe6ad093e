// The image id every service of a project runs, for the reuse key. `up` prepares images as it
// would anyway (builds what changed, pulls when asked); `berth ls` only looks, so a build whose
// inputs changed since shows as a missing id (a new key) instead of being built.
import type { Engine } from "../../engine/engine.js";
import { DEFAULT_PULL_POLICY } from "../../images/policy.js";
import type { ComposeProject, ServiceSpec } from "../../model/compose.js";
import { readBuildContext } from "../build-context.js";
import { buildHash, builtTag, ensureImages, ImageMissingError } from "../images.js";
import { STACK_LABELS } from "../stack-labels.js";

interface ImageIdOptions {
  /** Build and pull as `up` does (true), or only look at what the daemon has (false). */
  prepare: boolean;
  /** `up`'s pull policy over the services' own (`--pull`). */
  pull?: "missing" | "always" | "never";
  signal?: AbortSignal;
}

async function lookedUpBuild(
  engine: Engine,
  service: ServiceSpec,
  base: string,
): Promise<string | undefined> {
  const context = readBuildContext(service.build!, service.location.path);
  const hash = await buildHash(engine, context);
  const image = await engine.findImage(builtTag(service, base, hash));
  return image?.Config?.Labels?.[STACK_LABELS.buildHash] === hash ? image.Id : undefined;
}

export interface ProjectImageIds {
  /** Service name -> image id; with `prepare`, a missing image is an error, else it is left out. */
  ids: Record<string, string>;
  /** Whether anything was built or pulled (or checked for a pull) on the way. */
  prepared: boolean;
}

export async function projectImageIds(
  engine: Engine,
  project: ComposeProject,
  options: ImageIdOptions,
): Promise<ProjectImageIds> {
  const services = Object.values(project.services);
  const base = project.name ?? "berth";
  // One inspect per image, however many services run it.
  const ids = new Map<string, Promise<string | undefined>>();
  const idOf = (ref: string) => {
    let id = ids.get(ref);
    if (!id) {
      id = engine.findImage(ref).then((image) => image?.Id);
      ids.set(ref, id);
    }
    return id;
  };
  // An image already present under the `missing` policy needs nothing but the inspect that
  // preparing it would make; everything else (builds, other policies, absent images) is prepared
  // as `up` would, each service under its own pull policy.
  const present = async (s: ServiceSpec): Promise<boolean> =>
    !s.build &&
    (options.pull ?? s.pullPolicy ?? DEFAULT_PULL_POLICY) === "missing" &&
    (await idOf(s.image!)) !== undefined;
  const asFound = options.prepare ? await Promise.all(services.map(present)) : [];
  const prepared = services.filter((_, i) => options.prepare && !asFound[i]);
  const refs: Record<string, string> =
    prepared.length === 0
      ? {}
      : await ensureImages(engine, prepared, {
          ...(options.pull ? { pull: options.pull } : {}),
          projectBase: base,
          buildLabels: {},
          ...(options.signal ? { signal: options.signal } : {}),
        });
  // What was just pulled is looked up again.
  for (const s of prepared) if (s.image) ids.delete(s.image);
  const found = await Promise.all(
    services.map(async (s) => {
      if (!refs[s.name] && s.build) return [s.name, s.name, await lookedUpBuild(engine, s, base)] as const;
      const ref = refs[s.name] ?? s.image!;
      return [s.name, ref, await idOf(ref)] as const;
    }),
  );
  const missing = found.filter(([, , id]) => !id).map(([service, image]) => ({ service, image }));
  if (options.prepare && missing.length > 0) throw new ImageMissingError(missing);
  return {
    ids: Object.fromEntries(found.filter(([, , id]) => id).map(([service, , id]) => [service, id!])),
    prepared: prepared.length > 0,
  };
}
