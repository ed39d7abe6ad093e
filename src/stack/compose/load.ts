// loadCompose: Compose files in, a validated ComposeProject out. Pure apart from reading files:
// nothing is created. Every problem is a ComposeError naming file, line, path and value; keys
// berth does not support are listed in one warning.
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { ComposeProject, SourceLocation } from "../model.js";
import type { FileContext } from "./context.js";
import { findDefaultComposeFiles } from "./default-files.js";
import { DotenvProblem, parseDotenv } from "./dotenv.js";
import { ComposeError, displayFile } from "./errors.js";
import { finishService } from "./finish-service.js";
import type { ServiceLayer } from "./layer.js";
import { type FileLayers, loadFile } from "./load-file.js";
import { mergeLayers } from "./merge.js";
import { checkReferences } from "./references.js";
import { finishResource, mergeResources } from "./resources.js";
import { readComposeSource, sourceLocation } from "./source.js";

export interface LoadComposeOptions {
  /** Compose files in merge order; relative to `cwd`. Empty: compose.yaml (and its override) in `cwd`. */
  files: string[];
  /** Directory relative `files` and `envFile` are taken from (default: process.cwd()). */
  cwd?: string;
  /** Variables for interpolation (default: process.env); they win over the `.env` file. */
  env?: Record<string, string | undefined>;
  /** Active profiles (default: COMPOSE_PROFILES from `env`, comma-separated). `*` enables all. */
  profiles?: string[];
  /** A dotenv file instead of `.env` next to the first compose file; it must exist. */
  envFile?: string;
}

export interface LoadedCompose {
  project: ComposeProject;
  warnings: string[];
}

async function readDotenv(path: string, explicit: boolean, env: Record<string, string | undefined>) {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    if (!explicit && (cause as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ComposeError(`env file cannot be read (${(cause as NodeJS.ErrnoException).code})`, {
      file: path,
      cause,
    });
  }
  try {
    return parseDotenv(text, { lookup: (name) => env[name] });
  } catch (error) {
    if (error instanceof DotenvProblem)
      throw new ComposeError(error.message, { file: path, line: error.line, cause: error });
    throw error;
  }
}

function activeProfiles(options: LoadComposeOptions, env: Record<string, string | undefined>): Set<string> {
  const list = options.profiles ?? (env.COMPOSE_PROFILES ?? "").split(",");
  return new Set(list.map((p) => p.trim()).filter((p) => p !== ""));
}

function unsupportedWarning(unsupported: SourceLocation[], cwd: string): string | undefined {
  if (unsupported.length === 0) return undefined;
  const items = unsupported.map(
    (u) => `${displayFile(u.file, cwd)}${u.line ? `:${u.line}:${u.column}` : ""} ${u.path}`,
  );
  return `berth does not support ${unsupported.length === 1 ? "this Compose key or value" : "these Compose keys and values"} and ignores ${unsupported.length === 1 ? "it" : "them"}: ${items.join("; ")}`;
}

export async function loadCompose(options: LoadComposeOptions): Promise<LoadedCompose> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const files =
    options.files.length > 0 ? options.files.map((f) => resolve(cwd, f)) : findDefaultComposeFiles(cwd);
  if (files.length === 0) {
    throw new ComposeError(`no compose file given and none found in ${cwd}`, {
      hint: "Pass -f FILE, or add compose.yaml to the directory.",
    });
  }
  const projectDir = dirname(files[0]!);
  const dotenvPath = options.envFile ? resolve(cwd, options.envFile) : join(projectDir, ".env");
  const dotenv = await readDotenv(dotenvPath, options.envFile !== undefined, env);
  const lookup = (name: string) => env[name] ?? dotenv[name];

  const warnings: string[] = [];
  const unset = new Set<string>();
  const unsupported: SourceLocation[] = [];
  const sources = await Promise.all(files.map((file) => readComposeSource(file)));
  const layers: FileLayers[] = sources.map((source) => {
    warnings.push(...source.warnings);
    const context: FileContext = { source, projectDir, lookup, unsupported };
    return loadFile(context, { lookup, onUnset: (name) => unset.add(name) });
  });

  let name: { value: string } | undefined;
  const merged = new Map<string, ServiceLayer>();
  let networks: ReturnType<typeof mergeResources> = {};
  let volumes: ReturnType<typeof mergeResources> = {};
  let reuse: ComposeProject["reuse"];
  for (const file of layers) {
    name = file.name ?? name;
    // A later file's setting wins as a whole; a TTL it leaves out is kept from the earlier one.
    if (file.reuse) reuse = { ...reuse, ...file.reuse };
    for (const layer of file.services) {
      const before = merged.get(layer.name);
      // A first definition is merged onto an empty layer too, which applies its `!reset` tags to nothing.
      merged.set(layer.name, mergeLayers(before ?? { ...layer, fields: {}, locations: {} }, layer));
    }
    networks = mergeResources(networks, file.networks);
    volumes = mergeResources(volumes, file.volumes);
  }
  if (merged.size === 0) {
    const where = sourceLocation(sources[0]!, layers[0]?.hasServices ? ["services"] : []);
    throw ComposeError.at(where, "no services defined", {
      hint: "Add at least one service under `services:`.",
    });
  }

  const profiles = activeProfiles(options, env);
  const disabled = new Map<string, string[]>();
  const project: ComposeProject = {
    files,
    projectDir,
    services: {},
    networks: Object.fromEntries(
      Object.entries(networks).map(([key, spec]) => [key, finishResource(key, spec)]),
    ),
    volumes: Object.fromEntries(
      Object.entries(volumes).map(([key, spec]) => [key, finishResource(key, spec)]),
    ),
    unsupported,
  };
  if (name) project.name = name.value;
  if (reuse) project.reuse = reuse;
  for (const layer of merged.values()) {
    const own = layer.fields.profiles ?? [];
    if (own.length > 0 && !profiles.has("*") && !own.some((p) => profiles.has(p))) {
      disabled.set(layer.name, own);
      continue;
    }
    project.services[layer.name] = await finishService(layer, lookup, projectDir);
  }
  if (Object.keys(project.services).length === 0) {
    throw ComposeError.at(
      sourceLocation(sources[0]!, ["services"]),
      "no services enabled: every service is behind a profile that is not active",
      {
        hint: `Enable one with --profile (${[...new Set([...disabled.values()].flat())].join(", ")}).`,
      },
    );
  }
  checkReferences(project, { disabled, warnings });

  for (const variable of [...unset].sort()) {
    warnings.push(`The "${variable}" variable is not set. Defaulting to a blank string.`);
  }
  const notice = unsupportedWarning(unsupported, cwd);
  if (notice) warnings.push(notice);
  return { project, warnings };
}
