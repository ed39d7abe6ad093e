// Limit profiles read from files: a profile file of its own (YAML or JSON), and the top-level
// `x-berth` of a parsed Compose file (`limits` inline, or `profile` naming a file). Apart from
// profiles.ts, which applies them, so that applying a profile does not load the YAML parser.
// `read` reads a file's text (default: the file system); the Compose loader passes its reader,
// so that the model cache records the profile file as one of the load's inputs.
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../engine/errors.js";
import { readConfigFile } from "../model/config-file.js";
import { isRecord, type LimitProfile, mergeLimitProfiles, parseLimitProfile } from "./profiles.js";

type ReadText = (file: string) => string;

/** Loads a profile file (YAML or JSON). */
export function loadLimitProfile(file: string, read?: ReadText): LimitProfile {
  return parseLimitProfile(
    readConfigFile(file, { what: "limit profile", format: "YAML", parse, ...(read ? { read } : {}) }),
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
  read?: ReadText,
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
