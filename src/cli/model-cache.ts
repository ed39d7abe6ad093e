// The CLI's model cache: the project `berth up` resolved from the Compose files (loaded, services
// selected, replicas expanded), its warnings and the files' limit profile, kept for the next
// `berth up` of the same files. Loading is most of a reused `up`'s own work (YAML, the schema,
// normalising), and a CLI process pays it on every run. An entry is used only when everything the
// load read is still the same: every file it read (the bytes' hash; or still absent), every path
// it checked for existence, every variable it looked up (same value, or still unset), and the
// options, directories and berth version it ran with. The loader records those itself, through
// a recording reader, so nothing is guessed afterwards. Anything else (another version, a corrupt
// or foreign file, a failed check) is a miss: the files are loaded as always and the entry is
// written again. BERTH_MODEL_CACHE=off turns it off. See docs/performance.md#reuse.
import { readdirSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { deserialize, serialize } from "node:v8";
import { berthVersion } from "../model/version.js";
import { runtimeDir } from "../proxy/listen-address.js";
import { type ComposeInputs, inputsUnchanged, recordingReader, sha256 } from "../stack/compose/inputs.js";
import {
  type ProjectResolver,
  type ResolvedProject,
  type ResolveOptions,
  resolveProject,
} from "../stack/up.js";
import { readPrivateFile, writePrivateFile } from "./private-file.js";

type Env = Record<string, string | undefined>;

const FORMAT = "berth-model-cache/1";
/** Older entries are not used (nor kept). */
export const MODEL_CACHE_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** A larger file is not read (a real project's entry is a few KiB to a few hundred). */
export const MODEL_CACHE_MAX_BYTES = 4 * 1024 * 1024;
/** Entries kept in the directory; the least recently written go first. */
const MAX_ENTRIES = 32;

interface Entry {
  format: string;
  key: string;
  inputs: ComposeInputs;
  resolved: ResolvedProject;
}

/** What decides a load besides what it reads: its options, the directories, berth's version. */
export function modelCacheKey(
  options: ResolveOptions,
  context: { cwd: string; home: string; version: string } = {
    cwd: process.cwd(),
    home: homedir(),
    version: berthVersion(),
  },
): string {
  return sha256(
    JSON.stringify({
      format: FORMAT,
      ...context,
      base: resolve(context.cwd, options.cwd ?? "."),
      files: options.files ?? [],
      profiles: options.profiles ?? null,
      envFile: options.envFile ?? null,
      projectDirectory: options.projectDirectory ?? null,
      services: options.services ?? [],
    }),
  );
}

/** The entry's file, or undefined when BERTH_MODEL_CACHE=off. */
export function modelCachePath(key: string, env: Env = process.env): string | undefined {
  if (env.BERTH_MODEL_CACHE?.trim() === "off") return undefined;
  return join(runtimeDir(env), "models", `model-${key.slice(0, 40)}.bin`);
}

function isEntry(value: unknown, key: string): value is Entry {
  const entry = value as Partial<Entry> | null;
  return (
    typeof entry === "object" &&
    entry !== null &&
    entry.format === FORMAT &&
    entry.key === key &&
    typeof entry.inputs === "object" &&
    entry.inputs !== null &&
    [entry.inputs.files, entry.inputs.probes, entry.inputs.variables].every(Array.isArray) &&
    typeof entry.resolved?.project === "object" &&
    entry.resolved.project !== null &&
    Array.isArray(entry.resolved.warnings)
  );
}

/**
 * The cached resolution, when its entry is sound and every input it was made from is unchanged;
 * otherwise undefined: missing, unreadable, too old or too large, owned or writable by another
 * user, corrupt, of another format or key, or any input changed.
 */
export function loadCachedModel(
  path: string,
  key: string,
  env: Env,
  now = Date.now(),
): ResolvedProject | undefined {
  const bytes = readPrivateFile(path, {
    maxBytes: MODEL_CACHE_MAX_BYTES,
    maxAgeMs: MODEL_CACHE_MAX_AGE_MS,
    now,
  });
  if (!bytes) return undefined;
  try {
    const entry: unknown = deserialize(bytes);
    if (!isEntry(entry, key)) return undefined;
    return inputsUnchanged(entry.inputs, env) ? entry.resolved : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the oldest entries beyond MAX_ENTRIES, and those too old to be used. */
function prune(dir: string, now: number): void {
  const entries = readdirSync(dir)
    .filter((name) => /^model-[0-9a-f]+\.bin$/.test(name))
    .map((name) => {
      try {
        return { path: join(dir, name), mtime: statSync(join(dir, name)).mtimeMs };
      } catch {
        return undefined;
      }
    })
    .filter((e) => e !== undefined)
    .sort((a, b) => b.mtime - a.mtime);
  for (const [index, entry] of entries.entries()) {
    if (index >= MAX_ENTRIES || now - entry.mtime > MODEL_CACHE_MAX_AGE_MS)
      rmSync(entry.path, { force: true });
  }
}

/** Writes an entry atomically (a temp file renamed), mode 0600; a failure only costs the next run a load. */
export function saveCachedModel(
  path: string,
  key: string,
  inputs: ComposeInputs,
  resolved: ResolvedProject,
  now = Date.now(),
): void {
  try {
    const bytes = serialize({ format: FORMAT, key, inputs, resolved } satisfies Entry);
    if (bytes.length > MODEL_CACHE_MAX_BYTES) return;
    writePrivateFile(path, bytes);
    prune(join(path, ".."), now);
  } catch {
    // Best effort: nothing depends on it but the next run's speed.
  }
}

/**
 * Resolves the project `berth up` starts from, through the cache: a sound entry whose inputs are
 * unchanged answers without loading the Compose loader at all; otherwise the files are loaded
 * with every read recorded and the entry is written again. Variables come from `env`.
 */
export function cachedResolver(env: Env = process.env): ProjectResolver {
  return async (options) => {
    // A programmatic project, or the caller's own variables: nothing to cache from the CLI.
    if (options.spec || options.env) return resolveProject(options);
    const key = modelCacheKey(options);
    const path = modelCachePath(key, env);
    if (!path) return resolveProject({ ...options, env });
    const hit = loadCachedModel(path, key, env);
    if (hit) return hit;
    const recording = recordingReader();
    const resolved = await resolveProject({ ...options, env }, recording.reader);
    const inputs = recording.inputs();
    // Written before `up` adds to the warnings (a reuse note belongs to each run, not the files).
    if (inputs) saveCachedModel(path, key, inputs, { ...resolved, warnings: [...resolved.warnings] });
    return resolved;
  };
}
