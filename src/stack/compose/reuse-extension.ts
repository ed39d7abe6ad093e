// The top-level `x-berth.reuse` of a Compose file: whether the project's environments are kept
// and reused between runs, and how long an idle one lives.
//
//   x-berth:
//     reuse: true              # or: reuse: { ttl: 2h }  (a mapping opts in unless `enabled: false`)

import type { ReuseSettings } from "../../model/compose.js";
import { parseDuration } from "../../model/duration.js";
import { type FileContext, failAt, parseAt } from "./file-context.js";

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, yes: true, no: false };

function parseEnabled(context: FileContext, path: (string | number)[], value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && value.toLowerCase() in BOOLEAN_WORDS) {
    return BOOLEAN_WORDS[value.toLowerCase()]!;
  }
  return failAt(context, path, "expected true or false", { value });
}

/** Reads `x-berth.reuse` from one file's interpolated top level; undefined when the file has none. */
export function parseReuseExtension(
  context: FileContext,
  top: Record<string, unknown>,
): ReuseSettings | undefined {
  const extension = top["x-berth"];
  if (!isRecord(extension) || extension.reuse === undefined || extension.reuse === null) return undefined;
  const raw = extension.reuse;
  const path = ["x-berth", "reuse"];
  if (!isRecord(raw)) return { enabled: parseEnabled(context, path, raw) };
  const settings: ReuseSettings = { enabled: true };
  for (const key of Object.keys(raw)) {
    if (key !== "ttl" && key !== "enabled") {
      failAt(context, [...path, key], "unknown key (x-berth.reuse has `ttl` and `enabled`)", { value: key });
    }
  }
  if (raw.enabled !== undefined) settings.enabled = parseEnabled(context, [...path, "enabled"], raw.enabled);
  if (raw.ttl !== undefined) {
    const ttl = raw.ttl;
    if (typeof ttl !== "string" && typeof ttl !== "number") {
      failAt(context, [...path, "ttl"], "expected a duration such as 30m or 2h", { value: ttl });
    }
    settings.ttlMs = parseAt(context, [...path, "ttl"], () => parseDuration(ttl as string, { days: true }));
    if (settings.ttlMs <= 0) failAt(context, [...path, "ttl"], "the TTL must be above 0", { value: ttl });
  }
  return settings;
}
