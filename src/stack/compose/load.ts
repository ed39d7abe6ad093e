// loadCompose: Compose files in, a validated ComposeProject out. Pure apart from reading files:
// nothing is created. Every problem is a ComposeError naming file, line, path and value; keys
// berth cannot honour are refused unless `x-berth.ignore` names them. `include` loads other
// projects' files into this one; `extends` starts a service from another (in this file or not).
import { delimiter, dirname, join, resolve } from "node:path";
import { limitProfileFromExtension } from "../../memory/profile-files.js";
import { type LimitProfile, mergeLimitProfiles } from "../../memory/profiles.js";
import type { ComposeProject, ProvidedSource, SourceLocation } from "../../model/compose.js";
import { findDefaultComposeFiles } from "./default-files.js";
import { DotenvProblem, parseDotenv } from "./dotenv.js";
import { ComposeError, displayFile } from "./errors.js";
import { resolveExtends } from "./extends.js";
import type { FileContext } from "./file-context.js";
import { finishService } from "./finish-service.js";
import { type ComposeReader, fsReader } from "./inputs.js";
import type { ServiceLayer } from "./layer.js";
import { type FileLayers, type IncludeEntry, loadFile } from "./load-file.js";
import { mergeLayers } from "./merge.js";
import { checkReferences } from "./references.js";
import { finishResource, mergeResources } from "./resources.js";
import { type ComposeSource, readComposeSource, sourceLocation } from "./source.js";
import { collectIgnoreRules, emptyIgnoreRules } from "./supported-keys.js";

export interface LoadComposeOptions {
  /** Compose files in merge order; relative to `cwd`. Empty: compose.yaml (and its override) in `cwd`. */
  files: string[];
  /** Directory relative `files` and `envFile` are taken from (default: process.cwd()). */
  cwd?: string;
  /** Variables for interpolation (default: process.env); they win over the `.env` file. */
  env?: Record<string, string | undefined>;
  /** Active profiles (default: COMPOSE_PROFILES from `env`, comma-separated). `*` enables all. */
  profiles?: string[];
  /**
   * Dotenv files instead of `.env` in the project directory; each must exist, later ones win.
   */
  envFile?: string | string[];
  /** The directory relative paths are resolved against (default: the first file's directory). */
  projectDirectory?: string;
  /**
   * How files and variables are read (default: the file system and `env` as they are). Every
   * file, existence check and variable of the load goes through it (see inputs.ts).
   */
  reader?: ComposeReader;
}

export interface LoadedCompose {
  project: ComposeProject;
  warnings: string[];
  /**
   * The limit profile the files declare in their top-level `x-berth` (`limits`, or `profile`
   * naming a file; an included file's does not count); later files win for the same pattern.
   */
  limitProfile?: LimitProfile;
}

type Lookup = (name: string) => string | undefined;

async function readDotenv(path: string, explicit: boolean, lookup: Lookup, reader: ComposeReader) {
  let text: string;
  try {
    text = await reader.readFile(path);
  } catch (cause) {
    if (!explicit && (cause as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ComposeError(`env file cannot be read (${(cause as NodeJS.ErrnoException).code})`, {
      file: path,
      cause,
    });
  }
  try {
    return parseDotenv(text, { lookup });
  } catch (error) {
    if (error instanceof DotenvProblem)
      throw new ComposeError(error.message, { file: path, line: error.line, cause: error });
    throw error;
  }
}

function activeProfiles(options: LoadComposeOptions, variable: Lookup): Set<string> {
  const list = options.profiles ?? (variable("COMPOSE_PROFILES") ?? "").split(",");
  return new Set(list.map((p) => p.trim()).filter((p) => p !== ""));
}

function listWarning(what: string, found: SourceLocation[], cwd: string): string | undefined {
  if (found.length === 0) return undefined;
  const items = found.map(
    (u) => `${displayFile(u.file, cwd)}${u.line ? `:${u.line}:${u.column}` : ""} ${u.path}`,
  );
  return `${what}: ${items.join("; ")}`;
}

/** The files to read: `files`, else COMPOSE_FILE (separated like PATH), else compose.yaml in `cwd`. */
function composeFiles(
  options: LoadComposeOptions,
  cwd: string,
  variable: Lookup,
  reader: ComposeReader,
): string[] {
  if (options.files.length > 0) return options.files.map((f) => resolve(cwd, f));
  const fromEnv = (variable("COMPOSE_FILE") ?? "").split(delimiter).filter((f) => f !== "");
  if (fromEnv.length > 0) return fromEnv.map((f) => resolve(cwd, f));
  return findDefaultComposeFiles(cwd, reader.exists);
}

/** What every file of one load shares: where findings go, and the variables it met unset. */
interface LoadState {
  reader: ComposeReader;
  warnings: string[];
  unset: Set<string>;
  unsupported: SourceLocation[];
  ignored: SourceLocation[];
}

/**
 * What a service's bare `environment: [NAME]`, env files and default build context are resolved
 * against: the project it was written in (an included file's own directory and `.env`).
 */
interface ServiceScope {
  lookup: Lookup;
  projectDir: string;
}

/** The layers of a set of files merged in order, with what they included. */
interface MergedFiles {
  name?: { value: string };
  /** The top-level `x-berth.reuse` (an included file's does not count). */
  reuse?: ComposeProject["reuse"];
  sources: ComposeSource[];
  hasServices: boolean;
  services: Map<string, ServiceLayer>;
  /** Where each service came from, when from an included file. */
  includedFrom: Map<string, string>;
  /** The scope of every service. */
  scopes: Map<string, ServiceScope>;
  networks: ReturnType<typeof mergeResources>;
  volumes: ReturnType<typeof mergeResources>;
  secrets: Record<string, ProvidedSource>;
  configs: Record<string, ProvidedSource>;
}

async function readDotenvFiles(
  paths: string[],
  explicit: boolean,
  lookup: Lookup,
  reader: ComposeReader,
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const path of paths) Object.assign(values, await readDotenv(path, explicit, lookup, reader));
  return values;
}

function addIncluded(into: MergedFiles, included: MergedFiles, entry: IncludeEntry): void {
  for (const [name, layer] of included.services) {
    if (into.services.has(name)) {
      throw ComposeError.at(entry.location, `included service ${name} is already defined`, {
        hint: "A service comes from one place: rename it in one of the files.",
      });
    }
    into.services.set(name, layer);
    into.includedFrom.set(name, entry.paths[0]!);
    into.scopes.set(name, included.scopes.get(name)!);
  }
  into.networks = mergeResources(included.networks, into.networks);
  into.volumes = mergeResources(included.volumes, into.volumes);
  into.secrets = { ...included.secrets, ...into.secrets };
  into.configs = { ...included.configs, ...into.configs };
}

async function loadFiles(
  files: string[],
  projectDir: string,
  lookup: Lookup,
  state: LoadState,
  chain: string[],
): Promise<MergedFiles> {
  const sources = await Promise.all(files.map((file) => readComposeSource(file, state.reader)));
  const ignoreRules = emptyIgnoreRules();
  const contextOf = (source: ComposeSource): FileContext => ({
    source,
    projectDir,
    lookup,
    reader: state.reader,
    unsupported: state.unsupported,
    ignored: state.ignored,
    ignoreRules,
  });
  for (const source of sources) collectIgnoreRules(contextOf(source), source.value, ignoreRules);
  const merged: MergedFiles = {
    sources,
    hasServices: false,
    services: new Map(),
    includedFrom: new Map(),
    scopes: new Map(),
    networks: {},
    volumes: {},
    secrets: {},
    configs: {},
  };
  const interpolation = { lookup, onUnset: (name: string) => state.unset.add(name) };
  for (const source of sources) {
    state.warnings.push(...source.warnings);
    const context = contextOf(source);
    const file: FileLayers = loadFile(context, interpolation);
    for (const entry of file.include)
      addIncluded(merged, await loadInclude(entry, state, chain, lookup), entry);
    const services = await resolveExtends(file.services, context, interpolation);
    merged.name = file.name ?? merged.name;
    // A later file's setting wins; a TTL it leaves out is kept from the earlier one.
    if (file.reuse) merged.reuse = { ...merged.reuse, ...file.reuse };
    merged.hasServices ||= file.hasServices;
    for (const layer of services) {
      const included = merged.includedFrom.get(layer.name);
      if (included) {
        throw ComposeError.at(
          layer.location,
          `service ${layer.name} is already defined by the included file ${displayFile(included)}`,
          {
            hint: "A service comes from one place: rename one of them, or drop it from the include.",
          },
        );
      }
      const before = merged.services.get(layer.name);
      // A first definition is merged onto an empty layer too, which applies its `!reset` tags to nothing.
      merged.services.set(layer.name, mergeLayers(before ?? { ...layer, fields: {}, locations: {} }, layer));
      merged.scopes.set(layer.name, { lookup, projectDir });
    }
    merged.networks = mergeResources(merged.networks, file.networks);
    merged.volumes = mergeResources(merged.volumes, file.volumes);
    Object.assign(merged.secrets, file.secrets);
    Object.assign(merged.configs, file.configs);
  }
  return merged;
}

/**
 * One `include` entry: its files loaded as a project of their own (directory, `.env`). As in
 * Compose, a variable the including project knows (its environment, then its `.env`) wins over
 * the included project's `.env` or `env_file`, which only adds the names it lacks.
 */
async function loadInclude(
  entry: IncludeEntry,
  state: LoadState,
  chain: string[],
  parent: Lookup,
): Promise<MergedFiles> {
  const loop = entry.paths.find((path) => chain.includes(path));
  if (loop) {
    throw ComposeError.at(
      entry.location,
      `include cycle: ${[...chain, loop].map((f) => displayFile(f)).join(" -> ")}`,
      {
        hint: "A file cannot include itself, directly or through others.",
      },
    );
  }
  const projectDir = entry.projectDirectory ?? dirname(entry.paths[0]!);
  const explicit = entry.envFiles.length > 0;
  const dotenv = await readDotenvFiles(
    explicit ? entry.envFiles : [join(projectDir, ".env")],
    explicit,
    parent,
    state.reader,
  );
  const lookup = (name: string) => parent(name) ?? dotenv[name];
  return loadFiles(entry.paths, projectDir, lookup, state, [...chain, ...entry.paths]);
}

export async function loadCompose(options: LoadComposeOptions): Promise<LoadedCompose> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const reader = options.reader ?? fsReader;
  const variable = (name: string) => reader.variable(name, env[name]);
  const files = composeFiles(options, cwd, variable, reader);
  if (files.length === 0) {
    throw new ComposeError(`no compose file given and none found in ${cwd}`, {
      hint: "Pass -f FILE (or set COMPOSE_FILE), or add compose.yaml to the directory.",
    });
  }
  const projectDir = options.projectDirectory ? resolve(cwd, options.projectDirectory) : dirname(files[0]!);
  const envFiles = options.envFile === undefined ? [] : [options.envFile].flat().map((f) => resolve(cwd, f));
  const dotenv = await readDotenvFiles(
    envFiles.length > 0 ? envFiles : [join(projectDir, ".env")],
    envFiles.length > 0,
    variable,
    reader,
  );
  const lookup = (name: string) => variable(name) ?? dotenv[name];

  const state: LoadState = { reader, warnings: [], unset: new Set(), unsupported: [], ignored: [] };
  const merged = await loadFiles(files, projectDir, lookup, state, files);
  const { warnings } = state;
  if (merged.services.size === 0) {
    const where = sourceLocation(merged.sources[0]!, merged.hasServices ? ["services"] : []);
    throw ComposeError.at(where, "no services defined", {
      hint: "Add at least one service under `services:`.",
    });
  }

  const profiles = activeProfiles(options, variable);
  const disabled = new Map<string, string[]>();
  const project: ComposeProject = {
    files,
    projectDir,
    services: {},
    networks: Object.fromEntries(
      Object.entries(merged.networks).map(([key, spec]) => [key, finishResource(key, spec)]),
    ),
    volumes: Object.fromEntries(
      Object.entries(merged.volumes).map(([key, spec]) => [key, finishResource(key, spec)]),
    ),
    secrets: merged.secrets,
    configs: merged.configs,
    unsupported: state.unsupported,
  };
  if (merged.name) project.name = merged.name.value;
  if (merged.reuse) project.reuse = merged.reuse;
  const provided = { secrets: merged.secrets, configs: merged.configs };
  for (const layer of merged.services.values()) {
    const own = layer.fields.profiles ?? [];
    if (own.length > 0 && !profiles.has("*") && !own.some((p) => profiles.has(p))) {
      disabled.set(layer.name, own);
      continue;
    }
    const scope = merged.scopes.get(layer.name) ?? { lookup, projectDir };
    project.services[layer.name] = await finishService(
      layer,
      scope.lookup,
      scope.projectDir,
      provided,
      reader,
    );
  }
  if (Object.keys(project.services).length === 0) {
    throw ComposeError.at(
      sourceLocation(merged.sources[0]!, ["services"]),
      "no services enabled: every service is behind a profile that is not active",
      {
        hint: `Enable one with --profile (${[...new Set([...disabled.values()].flat())].join(", ")}).`,
      },
    );
  }
  checkReferences(project, { disabled, warnings });

  for (const variable of [...state.unset].sort()) {
    warnings.push(`The "${variable}" variable is not set. Defaulting to a blank string.`);
  }
  const ignored = listWarning("berth ignores these Compose keys, as x-berth.ignore asks", state.ignored, cwd);
  if (ignored) warnings.push(ignored);
  const values = listWarning("berth does not apply these Compose values", state.unsupported, cwd);
  if (values) warnings.push(values);
  const limitProfile = mergeLimitProfiles(
    ...merged.sources.map((s) => limitProfileFromExtension(s.value, s.file, reader.readFileSync)).reverse(),
  );
  return { project, warnings, ...(limitProfile ? { limitProfile } : {}) };
}
