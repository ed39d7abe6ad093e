// Limit profiles read from files: a profile file of its own (YAML or JSON), and the top-level
// `x-berth` of Compose files (`limits` inline, or `profile` naming a file). Apart from
// profiles.ts, which applies them, so that applying a profile does not load the YAML parser.
// `read` reads a file's text: the Compose loader's reader, when the files it read are recorded.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../engine/errors.js";
import { readConfigFile } from "../model/config-file.js";
import { isRecord, type LimitProfile, mergeLimitProfiles, parseLimitProfile } from "./profiles.js";

type ReadText = (file: string) => string;

const readText: ReadText = (file) => readFileSync(file, "utf8");

/** Loads a profile file (YAML or JSON). */
export function loadLimitProfile(file: string, read: ReadText = readText): LimitProfile {
  return parseLimitProfile(
    readConfigFile(file, { what: "limit profile", format: "YAML", parse, read }),
    file,
  );
}

/**
 * The profile given by a Compose document's top-level `x-berth` (parsed YAML of one file):
 * `limits` inline, or `profile` naming a file relative to the Compose file.
 */
export function limitProfileFromExtension(
  document: unknown,
  file: string,
  read: ReadText = readText,
): LimitProfile | undefined {
  if (!isRecord(document)) return undefined;
  const extension = document["x-berth"];
  if (extension === undefined) return undefined;
  if (!isRecord(extension)) {
    throw new ConfigError(`${file}: \`x-berth\` must be a map, got \`${JSON.stringify(extension)}\``, {
      resource: file,
    });
  }
  const inline =
    extension.limits === undefined
      ? undefined
      : parseLimitProfile({ limits: extension.limits }, `${file}: x-berth`);
  if (extension.profile !== undefined && typeof extension.profile !== "string") {
    throw new ConfigError(`${file}: \`x-berth.profile\` must be a file path`, { resource: file });
  }
  const fromFile =
    typeof extension.profile === "string"
      ? loadLimitProfile(resolve(dirname(file), extension.profile), read)
      : undefined;
  return mergeLimitProfiles(inline, fromFile);
}

/**
 * Whether YAML text can have an `x-berth` key: spelled out, or written with escapes (which need a
 * backslash). A file with neither is not parsed a second time (the loader has read it already).
 */
function mayHaveBerthExtension(text: string): boolean {
  return text.includes("x-berth") || text.includes("\\");
}

/** The profile the Compose files declare; later files (overrides) win for the same pattern. */
export function limitProfileFromComposeFiles(
  files: string[],
  read: ReadText = readText,
): LimitProfile | undefined {
  const profiles = files.map((file) => {
    let document: unknown;
    try {
      const text = read(file);
      if (!mayHaveBerthExtension(text)) return undefined;
      document = parse(text);
    } catch {
      // The compose loader reports unreadable or invalid files with line and column.
      return undefined;
    }
    return limitProfileFromExtension(document, file, read);
  });
  return mergeLimitProfiles(...profiles.reverse());
}
