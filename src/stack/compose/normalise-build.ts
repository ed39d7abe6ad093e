// A service's `build` section into its layer: the keys the Engine's build API can honour
// (context, Dockerfile or its inline text, args, target, labels, network, shm_size, extra_hosts,
// ulimits, no_cache, pull, one platform, tags). BuildKit-only keys are refused by the key check.
import { isAbsolute, relative, resolve } from "node:path";
import { parseSize } from "../../memory/size.js";
import { type FileContext, failAt, parseAt } from "./file-context.js";
import type { BuildLayer } from "./layer.js";
import { parseLabels, parseMapOrList } from "./mappings.js";
import { extraHosts, platform, ulimits } from "./normalise-options.js";
import type { PathSegment } from "./path.js";
import type { RawService } from "./schema.js";

const NETWORKS = new Set(["default", "host", "none"]);

export function parseBuild(
  context: FileContext,
  path: PathSegment[],
  raw: NonNullable<RawService["build"]>,
): BuildLayer {
  const spec = typeof raw === "string" ? { context: raw } : raw;
  const at = (key: string): PathSegment[] => [...path, key];
  const build: BuildLayer = { args: {} };
  if (spec.context !== undefined) build.context = resolve(context.projectDir, spec.context);
  if (typeof raw !== "string" && raw.dockerfile !== undefined && raw.dockerfile_inline !== undefined) {
    failAt(context, at("dockerfile_inline"), "dockerfile and dockerfile_inline cannot be combined", {
      hint: "Keep one of them: a file in the context, or the Dockerfile's text.",
    });
  }
  if (spec.dockerfile !== undefined) {
    // The model keeps the Dockerfile relative to the context; an absolute one is made relative.
    const base = build.context ?? context.projectDir;
    build.dockerfile = isAbsolute(spec.dockerfile) ? relative(base, spec.dockerfile) : spec.dockerfile;
  }
  if (spec.target !== undefined) build.target = spec.target;
  if (spec.args !== undefined) {
    for (const [key, value] of Object.entries(parseMapOrList(context, at("args"), spec.args))) {
      // An argument without a value takes it from the environment, and is left out when unset.
      const resolved = value ?? context.lookup(key);
      if (resolved !== undefined) build.args[key] = resolved;
    }
  }
  if (typeof raw === "string") return build;
  if (raw.dockerfile_inline !== undefined) build.dockerfileInline = raw.dockerfile_inline;
  if (raw.labels !== undefined) build.labels = parseLabels(context, at("labels"), raw.labels);
  if (raw.network !== undefined) {
    if (!NETWORKS.has(raw.network)) {
      failAt(context, at("network"), "a build's network must be default, host or none", {
        value: raw.network,
        hint: "The project's networks are made after the images (and named per run), so a build cannot join them.",
      });
    }
    build.network = raw.network as BuildLayer["network"];
  }
  if (raw.shm_size !== undefined) {
    const size = raw.shm_size;
    build.shmSizeBytes = parseAt(context, at("shm_size"), () => parseSize(size));
  }
  if (raw.extra_hosts !== undefined)
    build.extraHosts = extraHosts(context, at("extra_hosts"), raw.extra_hosts);
  if (raw.ulimits !== undefined) build.ulimits = ulimits(context, at("ulimits"), raw.ulimits);
  if (raw.no_cache !== undefined) build.noCache = raw.no_cache;
  if (raw.pull !== undefined) build.pull = raw.pull;
  if (raw.platforms !== undefined) {
    if (raw.platforms.length > 1) {
      failAt(context, at("platforms"), "berth builds for one platform", {
        value: raw.platforms.join(", "),
        hint: "The Engine's build API makes one image for one platform; a multi-platform image needs buildx. Keep one.",
      });
    }
    const [only] = raw.platforms;
    if (only !== undefined) build.platform = platform(context, [...at("platforms"), 0], only);
  }
  if (raw.tags !== undefined) build.tags = raw.tags;
  return build;
}
