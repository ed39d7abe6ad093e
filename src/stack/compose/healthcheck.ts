// `healthcheck` into Docker's form: a string test becomes ["CMD-SHELL", ...], a list must start
// with CMD, CMD-SHELL or NONE; durations become milliseconds; `disable` becomes ["NONE"].

import type { HealthcheckSpec } from "../../model/compose.js";
import { parseDuration } from "../../model/duration.js";
import { type FileContext, failAt, parseAt } from "./file-context.js";
import type { PathSegment } from "./path.js";
import type { RawService } from "./schema.js";

type RawHealthcheck = NonNullable<RawService["healthcheck"]>;

const DURATIONS = [
  ["interval", "intervalMs"],
  ["timeout", "timeoutMs"],
  ["start_period", "startPeriodMs"],
  ["start_interval", "startIntervalMs"],
] as const;

function parseTest(context: FileContext, path: PathSegment[], test: string | string[]): string[] {
  if (typeof test === "string") {
    if (test.trim() === "") failAt(context, path, "healthcheck test is empty", { value: test });
    return ["CMD-SHELL", test];
  }
  const [kind, ...rest] = test;
  if (kind === "NONE") return ["NONE"];
  if (kind !== "CMD" && kind !== "CMD-SHELL") {
    return failAt(context, path, "a healthcheck test list must start with CMD, CMD-SHELL or NONE", {
      value: test,
      hint: 'Write ["CMD", "wget", "-q", "-O-", "http://localhost:8080/health"] or a plain string for a shell command.',
    });
  }
  if (rest.length === 0) failAt(context, path, `healthcheck test ${kind} has no command`, { value: test });
  if (kind === "CMD-SHELL" && rest.length > 1) return ["CMD-SHELL", rest.join(" ")];
  return test;
}

/** One file's healthcheck fields (merged with other files' before use). */
export function parseHealthcheck(
  context: FileContext,
  path: PathSegment[],
  raw: RawHealthcheck,
): Partial<HealthcheckSpec> {
  const out: Partial<HealthcheckSpec> = {};
  if (raw.test !== undefined) out.test = parseTest(context, [...path, "test"], raw.test);
  for (const [key, field] of DURATIONS) {
    const value = raw[key];
    if (value !== undefined) out[field] = parseAt(context, [...path, key], () => parseDuration(value));
  }
  if (raw.retries !== undefined) {
    if (raw.retries < 0)
      failAt(context, [...path, "retries"], "retries cannot be negative", { value: raw.retries });
    out.retries = raw.retries;
  }
  if (raw.disable !== undefined) out.disable = raw.disable;
  return out;
}

/** The healthcheck after merging: undefined when none, `["NONE"]` when disabled. */
export function finishHealthcheck(merged: Partial<HealthcheckSpec> | undefined): HealthcheckSpec | undefined {
  if (!merged) return undefined;
  if (merged.disable || merged.test?.[0] === "NONE") return { test: ["NONE"], disable: true };
  // Without a test of its own the container keeps the image's test with these timings.
  return { ...merged, test: merged.test ?? [] };
}
