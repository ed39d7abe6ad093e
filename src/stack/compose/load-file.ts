// One Compose file from parsed YAML to layers: interpolate, set aside unsupported keys,
// validate the shape, and normalise every service.
import { dirname, resolve } from "node:path";
import type { ReuseSettings, SourceLocation } from "../../model/compose.js";
import { ComposeError } from "./errors.js";
import { type FileContext, failAt, locationOf } from "./file-context.js";
import { type InterpolationProblem, interpolateTree } from "./interpolate.js";
import type { FieldName, ServiceLayer } from "./layer.js";
import { isFieldName } from "./merge.js";
import { normaliseService } from "./normalise-service.js";
import type { YamlPath } from "./path.js";
import { parseProvided, parseResources } from "./resources.js";
import { parseReuseExtension } from "./reuse-extension.js";
import { ComposeFileSchema, type RawInclude, type RawService } from "./schema.js";
import type { ComposeSource } from "./source.js";
import { enforceKeys } from "./supported-keys.js";

export interface FileLayers {
  name?: { value: string; location: SourceLocation };
  services: ServiceLayer[];
  networks: ReturnType<typeof parseResources>;
  volumes: ReturnType<typeof parseResources>;
  secrets: ReturnType<typeof parseProvided>;
  configs: ReturnType<typeof parseProvided>;
  /** Top-level `include` entries, paths absolute. */
  include: IncludeEntry[];
  /** False when the file has no `services` key at all (an override may add only networks). */
  hasServices: boolean;
  /** The file's top-level `x-berth.reuse`. */
  reuse?: ReuseSettings;
}

export interface IncludeEntry {
  paths: string[];
  projectDirectory?: string;
  envFiles: string[];
  location: SourceLocation;
}

function parseInclude(context: FileContext, raw: RawInclude | null | undefined): IncludeEntry[] {
  const base = dirname(context.source.file);
  return (raw ?? []).map((entry, index) => {
    const spec = typeof entry === "string" ? { path: entry } : entry;
    const list = (value: string | string[] | undefined) =>
      value === undefined ? [] : Array.isArray(value) ? value : [value];
    const out: IncludeEntry = {
      paths: list(spec.path).map((p) => resolve(base, p)),
      envFiles: list(spec.env_file).map((p) => resolve(base, p)),
      location: locationOf(context, ["include", index]),
    };
    if (spec.project_directory !== undefined) out.projectDirectory = resolve(base, spec.project_directory);
    return out;
  });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const segment of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[segment];
  return value;
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  errors?: Issue[][];
}

/**
 * The issue that says most: when a value fails every form of a union, but one form matched its
 * type and failed deeper (a mapping with a bad `condition`), that deeper issue is reported.
 */
function mostSpecific(issue: Issue): Issue {
  if (issue.code !== "invalid_union" || !issue.errors) return issue;
  const deeper = issue.errors
    .map((branch) => branch[0])
    .filter((first): first is Issue => !!first && first.path.length > 0);
  if (deeper.length === 0) return issue;
  const best = deeper.reduce((a, b) => (b.path.length > a.path.length ? b : a));
  const inner = mostSpecific(best);
  return { ...inner, path: [...issue.path, ...inner.path] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `!reset` / `!override` on a service field; anywhere else they are reported as unsupported. */
function mergeTags(context: FileContext, source: ComposeSource) {
  const byService = new Map<string, { reset: Set<FieldName>; override: Set<FieldName> }>();
  for (const { path, tag } of source.tags) {
    const [top, service, field] = path;
    if (
      path.length === 3 &&
      top === "services" &&
      typeof service === "string" &&
      isFieldName(String(field))
    ) {
      const tags = byService.get(service) ?? { reset: new Set(), override: new Set() };
      tags[tag === "!reset" ? "reset" : "override"].add(field as FieldName);
      byService.set(service, tags);
    } else {
      context.unsupported.push(locationOf(context, path));
    }
  }
  return byService;
}

export function loadFile(
  context: FileContext,
  interpolation: { lookup: (name: string) => string | undefined; onUnset: (name: string) => void },
): FileLayers {
  const { source } = context;
  if (source.value === null || source.value === undefined) {
    throw new ComposeError("the compose file is empty", {
      file: source.file,
      hint: "Define at least `services:`.",
    });
  }
  if (!isRecord(source.value)) {
    return failAt(context, [], "a compose file must be a mapping (with `services:` and so on)", {
      value: source.value,
    });
  }
  const fail = (problem: InterpolationProblem, path: YamlPath, value: string): never =>
    failAt(context, path, problem.message, { value, hint: problem.hint });
  const value = interpolateTree(source.value, interpolation, fail) as Record<string, unknown>;

  enforceKeys(context, value, context.ignoreRules);
  // A key written without a value (`command:`) is the same as no key, as in Compose.
  if (isRecord(value.services)) {
    for (const service of Object.values(value.services)) {
      if (!isRecord(service)) continue;
      for (const [key, field] of Object.entries(service)) if (field === null) delete service[key];
    }
  }
  const parsed = ComposeFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = mostSpecific(parsed.error.issues[0] as Issue);
    const path = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
    const bad = valueAt(value, issue.path);
    const message =
      issue.message === "is required" ? `\`${String(path[path.length - 1])}\` is required` : issue.message;
    return failAt(context, path, message, { value: bad });
  }
  const file = parsed.data;
  const tags = mergeTags(context, source);
  const services = Object.entries(file.services ?? {}).map(([name, raw]) => {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
      failAt(context, ["services", name], "invalid service name (letters, digits, `_`, `.`, `-`)", {
        value: name,
      });
    }
    const serviceTags = tags.get(name) ?? { reset: new Set<FieldName>(), override: new Set<FieldName>() };
    return normaliseService(context, name, (raw ?? {}) as RawService, serviceTags);
  });
  const layers: FileLayers = {
    services,
    networks: parseResources(context, "networks", file.networks),
    volumes: parseResources(context, "volumes", file.volumes),
    secrets: parseProvided(context, "secrets", file.secrets),
    configs: parseProvided(context, "configs", file.configs),
    include: parseInclude(context, file.include),
    hasServices: file.services !== undefined && file.services !== null,
  };
  const reuse = parseReuseExtension(context, value);
  if (reuse) layers.reuse = reuse;
  if (file.name !== undefined) {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(file.name)) {
      failAt(
        context,
        ["name"],
        "invalid project name (lowercase letters, digits, `_`, `-`; starts with a letter or digit)",
        {
          value: file.name,
        },
      );
    }
    layers.name = { value: file.name, location: locationOf(context, ["name"]) };
  }
  return layers;
}
