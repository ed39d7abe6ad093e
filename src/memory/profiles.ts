// Limit profiles: named default memory limits per service name or glob pattern (`postgres*`),
// applied where a service sets none. A profile comes from its own file (YAML or JSON) or from a
// Compose file's top-level `x-berth: { limits: ... }` (or `x-berth: { profile: FILE }`).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../engine/errors.js";
import { readConfigFile } from "../model/config-file.js";
import { parseSize } from "./size.js";

interface LimitRule {
  /** A service name, or a glob with `*` (any characters) and `?` (one character). */
  pattern: string;
  limitBytes: number;
  /** Where the rule was written, e.g. `limits.yml: limits.postgres*`. */
  source: string;
}

export interface LimitProfile {
  name?: string;
  rules: LimitRule[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`);
}

const isGlob = (pattern: string) => /[*?]/.test(pattern);

/** Reads `{ name?, limits: { PATTERN: SIZE } }`; `where` names the file for errors. */
export function parseLimitProfile(data: unknown, where: string): LimitProfile {
  if (!isRecord(data) || !isRecord(data.limits)) {
    throw new ConfigError(
      `${where}: a limit profile needs a \`limits\` map of service name or pattern to size`,
      {
        resource: where,
        hint: 'Write e.g. `limits: { backend: 2g, "postgres*": 1g }`.',
      },
    );
  }
  if (data.name !== undefined && typeof data.name !== "string") {
    throw new ConfigError(`${where}: \`name\` must be a string, got \`${JSON.stringify(data.name)}\``, {
      resource: where,
    });
  }
  const rules = Object.entries(data.limits).map(([pattern, value]) => {
    const source = `${where}: limits.${pattern}`;
    if (typeof value !== "string" && typeof value !== "number") {
      throw new ConfigError(`${source}: expected a size like 512m, got \`${JSON.stringify(value)}\``, {
        resource: where,
      });
    }
    return { pattern, limitBytes: parseSize(value, { where: source, memory: true }), source };
  });
  return { name: data.name as string | undefined, rules };
}

/** Loads a profile file (YAML or JSON). */
export function loadLimitProfile(file: string): LimitProfile {
  return parseLimitProfile(readConfigFile(file, { what: "limit profile", format: "YAML", parse }), file);
}

/** Combines profiles; for the same pattern the earlier profile wins. */
export function mergeLimitProfiles(...profiles: Array<LimitProfile | undefined>): LimitProfile | undefined {
  const present = profiles.filter((p): p is LimitProfile => p !== undefined);
  if (present.length === 0) return undefined;
  const seen = new Set<string>();
  const rules: LimitRule[] = [];
  for (const profile of present) {
    for (const rule of profile.rules) {
      if (seen.has(rule.pattern)) continue;
      seen.add(rule.pattern);
      rules.push(rule);
    }
  }
  return { name: present.find((p) => p.name)?.name, rules };
}

/**
 * The profile given by a Compose document's top-level `x-berth` (parsed YAML of one file):
 * `limits` inline, or `profile` naming a file relative to the Compose file.
 */
export function limitProfileFromExtension(document: unknown, file: string): LimitProfile | undefined {
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
      ? loadLimitProfile(resolve(dirname(file), extension.profile))
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
export function limitProfileFromComposeFiles(files: string[]): LimitProfile | undefined {
  const profiles = files.map((file) => {
    let document: unknown;
    try {
      const text = readFileSync(file, "utf8");
      if (!mayHaveBerthExtension(text)) return undefined;
      document = parse(text);
    } catch {
      // The compose loader reports unreadable or invalid files with line and column.
      return undefined;
    }
    return limitProfileFromExtension(document, file);
  });
  return mergeLimitProfiles(...profiles.reverse());
}

/** The rule for a service: an exact name beats patterns; among patterns the first written wins. */
export function matchLimitRule(profile: LimitProfile | undefined, service: string): LimitRule | undefined {
  if (!profile) return undefined;
  return (
    profile.rules.find((r) => !isGlob(r.pattern) && r.pattern === service) ??
    profile.rules.find((r) => isGlob(r.pattern) && globToRegExp(r.pattern).test(service))
  );
}
